// The checks of one shard and what happens to them: the pure core of a check runner.
//
// Every method takes an input (a spec change, a due time, a probe outcome, a resumed state) and
// returns directives (schedule, probe, publish, abort) for the check runner actor to carry out;
// no I/O, no clock: times come in as arguments. One entry per check — its slot, the probe in
// flight, its verdict state — and each decision in the file that owns it:
//   where the next probe goes (slots, catch-up, passed slots skipped, jitter) → check-schedule.ts
//   continuing from the last published state (the resume phases)            → check-resume.ts
//   what an outcome publishes (verdict, result and status messages)         → check-messages.ts
//   continuing from a holder's release (handover by message)               → handover.ts
//   each vantage's resume record (replicas > 1: `keepState` after a result) → resume-record.ts
//   the interval the check runs at, from its spec and verdict state          → state-interval.ts
// What it decides itself: a check due while its probe is still in flight skips the round
// (counted), never overlaps; outcomes of removed checks and stale tokens are dropped. A check
// continued from a release keeps the holder's slot labels, shifted onto this node's clock by
// `shift` (0 unless the two clocks disagree: see handover.ts continueReleased). An outcome or a
// resumed state that moves the check to another interval moves its pending slot onto that
// interval's grid (check-schedule.ts retimedSlot; an adopted release's state, at the next outcome);
// a pending catch-up stays.

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { CheckEntry, Directive, InFlight, RunnerNotes, StartMode, TableOptions } from './check-entry';
import { outcomeMessages, type VerdictHold } from './check-messages';
import { wantsConfirmation, type Confirmation } from './confirm';
import { continueFrom, resumeStep, takeoverSeqGap } from './check-resume';
import { earlierSlot, firstSlot, jitteredStart, retimedSlot, slotAfterDue, takeoverSlot } from './check-schedule';
import { continueReleased } from './handover';
import { flagFields, flagsOf } from './published-verdict';
import type { ReleasedCheck, ResumeState, StatusMessage } from './records';
import { combinesVantages } from './quorum-table';
import { keepsResumePerVantage, resumeRecordOf } from './resume-record';
import { probeInterval, shortestInterval } from './state-interval';
import { countVerdict, type CountedVerdict, type VerdictCounts } from './verdict-counts';

export type { Directive, ProbeStretch, RunnerNotes, StartMode, TableOptions } from './check-entry';

export class CheckTable {
  private readonly checks = new Map<string, CheckEntry>();
  private nextToken = 1;
  epoch = 0;

  /**
   * Slot labels are ms since 1970: stored as such, each entry's would be a boxed number (16 B a
   * check, BENCHMARKS.md §2). Entries keep theirs in ms from this base (the first label seen, whole
   * ms), a small integer V8 stores in the entry itself.
   */
  private slotBase: number | null = null;

  constructor(private readonly opts: TableOptions) {}

  get size(): number {
    return this.checks.size;
  }

  has(id: string): boolean {
    return this.checks.has(id);
  }

  ids(): IterableIterator<string> {
    return this.checks.keys();
  }

  /**
   * Each check's published verdict added to `into` ('unknown' before its first); a check whose
   * vantages are combined (replicas > 1) is counted by `combined` (the primary's quorum verdict).
   */
  countVerdicts(into: VerdictCounts, combined: (id: string) => CountedVerdict): void {
    // forEach, not for-of over entries: the walk runs every second over every check the node decides,
    // and an [id, entry] pair per check was 11% of the node's allocations at 100k checks (BENCHMARKS.md §2).
    this.checks.forEach((e, id) => countVerdict(into, combinesVantages(e.spec) ? combined(id) : e.published));
  }

  /** What the runner notes of `id` (check-entry.ts RunnerNotes), to read or write in place; undefined when not in the table. */
  notesOf(id: string): RunnerNotes | undefined {
    return this.checks.get(id);
  }

  /** The spec `id` runs under now, or undefined. */
  specOf(id: string): NormalizedSpec | undefined {
    return this.checks.get(id)?.spec;
  }

  /** True while some outcome waits for its check's resume lookup (it is still to be published). */
  hasParked(): boolean {
    for (const e of this.checks.values()) if (e.parked?.length) return true;
    return false;
  }

  inFlightCount(): number {
    let n = 0;
    for (const e of this.checks.values()) if (e.inFlight) n++;
    return n;
  }

  /**
   * Add a check, or change its spec. A change applies from the next due probe. A new check looks
   * its last published state up in the result stream; `takeover` (its owner died) adds one paced
   * catch-up probe — decided on this node's clock alone, never against another node's slot. So
   * does a fresh start with `unheldSince` (this node's wall time since which nobody held the check:
   * a slot came due between it and now), a full interval back at most (any longer, a slot surely did).
   */
  set(spec: NormalizedSpec, now: number, mode: StartMode = 'fresh', unheldSince?: number): Directive[] {
    const e = this.checks.get(spec.id);
    if (!e) {
      // No verdict yet: intervalMs (a push check's checkEveryMs: state-interval.ts).
      const first = probeInterval(spec, null);
      const startAt = unheldSince === undefined ? now : Math.min(now, Math.max(unheldSince, now - first + 1));
      const { slot, catchUp } = mode === 'takeover' || mode === 'deadTakeover' ? takeoverSlot(spec.id, first, now, this.opts.catchUps) : firstSlot(spec.id, first, now, startAt, this.opts.catchUps);
      this.checks.set(spec.id, {
        spec,
        slotOff: this.offset(slot),
        shift: 0,
        slotInterval: first,
        catchUp,
        inFlight: null,
        verdict: null,
        resume: 'lookingUp',
        parked: null,
        seq: 0,
        // The holder may have run at its shortest interval meanwhile: count its results by that.
        seqGap: mode === 'deadTakeover' || mode === 'restartTakeover' ? takeoverSeqGap(shortestInterval(spec), this.opts.takeoverUnseenMs ?? 0) : 0,
        published: 'unknown',
        degraded: false,
        flapping: false,
        skipped: 0,
        probed: false,
        // Written out, not spread: fields after a spread live outside the object (a property array per entry).
        ranN: 0,
        ranResumes: 0,
        ranFirst: 0,
        ranLast: 0,
        ranIntervalMs: 0,
        resumedSeq: null,
      });
      return [this.lookup(spec), this.scheduleAt(spec.id, slot, first)];
    }
    e.spec = spec;
    const interval = this.intervalOf(e);
    if (interval === e.slotInterval) return [];
    // A new interval: keep the pending probe unless the new schedule (on this node's grid) has an earlier slot.
    const earlier = earlierSlot(spec.id, interval, now, this.slotOf(e) + e.shift);
    if (earlier === null) return [];
    e.slotOff = this.offset(earlier);
    e.shift = 0;
    e.slotInterval = interval;
    return [this.scheduleAt(spec.id, earlier, interval)];
  }

  /** Stop a check: no further probes; an in-flight probe is aborted and its outcome dropped. */
  remove(id: string): Directive[] {
    const e = this.checks.get(id);
    if (!e) return [];
    this.checks.delete(id);
    const out: Directive[] = [{ type: 'unschedule', id }];
    if (e.inFlight) out.push({ type: 'abort', id, token: e.inFlight.token });
    return out;
  }

  /**
   * Add a check continued from its holder's release: seq and verdict from the release (no stream
   * lookup, so seq cannot repeat), the released slot at this node's now + dueInMs, then every interval.
   */
  setReleased(spec: NormalizedSpec, rc: ReleasedCheck, now: number, known: { stalledMs?: number; holderOffsetMs?: number | null } = {}): Directive[] {
    const verdict = { status: rc.status, history: rc.history };
    const published = rc.published ?? rc.status;
    // The holder ran at the interval of this state (state-interval.ts): its released slot is on that grid.
    const interval = probeInterval(spec, published === 'unknown' ? null : verdict);
    const { slot, shift, skipped } = continueReleased(spec.id, rc, interval, now, known);
    // The runner's notes stay with the check (continueUnprobed replaces an entry).
    const notes = this.checks.get(spec.id);
    this.checks.set(spec.id, {
      spec,
      slotOff: this.offset(slot),
      shift,
      slotInterval: interval,
      catchUp: false,
      inFlight: null,
      verdict,
      resume: 'resumed',
      parked: null,
      seq: rc.seq,
      seqGap: 0,
      published,
      ...flagsOf(rc),
      // The holder's rounds skipped since its last result (a probe still running when the slot
      // came) are announced by the first result here, with the ones that passed in transit.
      skipped: skipped + (rc.skipped ?? 0),
      probed: false,
      ranN: notes?.ranN ?? 0,
      ranResumes: notes?.ranResumes ?? 0,
      ranFirst: notes?.ranFirst ?? 0,
      ranLast: notes?.ranLast ?? 0,
      ranIntervalMs: notes?.ranIntervalMs ?? 0,
      resumedSeq: notes?.resumedSeq ?? null,
    });
    const out: Directive[] = [this.scheduleAt(spec.id, slot, interval, shift)];
    if (skipped) out.push({ type: 'skipped', id: spec.id, slot: rc.slot, count: skipped });
    return out;
  }

  /**
   * A release that reached this node after it started the check from the stream (a takeover
   * claim's answer): a check not probed here yet continues from it instead (setReleased: its slot,
   * seq and verdict; the pending catch-up is dropped, so no slot runs twice). Null when the check is
   * unknown or has probed here already: then the probes both ran are counted (adopt, overlap.ts);
   * and for a release older than the state the stream gave (a release kept by a holder someone
   * else continued from since): its seq would repeat results already published.
   */
  continueUnprobed(rc: ReleasedCheck, now: number, known: { stalledMs?: number; holderOffsetMs?: number | null } = {}): Directive[] | null {
    const e = this.checks.get(rc.id);
    if (!e || e.probed || e.inFlight) return null;
    if (e.verdict !== null && rc.seq < e.seq - e.seqGap) return null;
    return this.setReleased(e.spec, rc, now, known);
  }

  /**
   * What a release carries: per check whose state is known, its last seq and verdict and its next
   * slot, due in so many ms on this node's clock. Call once nothing is in flight.
   */
  release(now: number): ReleasedCheck[] {
    const out: ReleasedCheck[] = [];
    for (const [id, e] of this.checks) {
      if (e.verdict === null) continue; // never resumed here: the next owner looks it up itself
      out.push({ id, seq: e.seq, status: e.verdict.status, history: e.verdict.history, published: e.published, ...flagFields(e.verdict.status, e), slot: this.slotOf(e), dueInMs: this.slotOf(e) + e.shift - now, ...(e.skipped > 0 ? { skipped: e.skipped } : {}) });
    }
    return out;
  }

  /** The own-clock time of `id`'s next slot (a point of its slot grid here, without jitter), or undefined. */
  nextSlotAt(id: string): number | undefined {
    const e = this.checks.get(id);
    return e ? this.slotOf(e) + e.shift : undefined;
  }

  /**
   * Another node ran this check meanwhile and released it (protocol/overlap.ts): continue past what
   * it published. Its seq and verdict are taken when it got further than ours (our next result
   * sorts after its last; a verdict it reached is not published again). A check still looking its
   * state up keeps its own course. True when taken. The pending slot stays: if the taken state
   * runs at another interval, the next outcome here moves the slot onto its grid (apply).
   */
  adopt(rc: ReleasedCheck): boolean {
    const e = this.checks.get(rc.id);
    if (!e || e.verdict === null || rc.seq <= e.seq) return false;
    e.seq = rc.seq;
    e.verdict = { status: rc.status, history: rc.history };
    e.published = rc.published ?? rc.status;
    ({ degraded: e.degraded, flapping: e.flapping } = flagsOf(rc));
    return true;
  }

  /** Stop everything (shard lost or node stopping). In-flight probes may still report. */
  clear(): Directive[] {
    const out: Directive[] = [];
    for (const id of this.checks.keys()) out.push({ type: 'unschedule', id });
    return out;
  }

  /** The scheduled time of `id` has come. */
  due(id: string, now: number): Directive[] {
    const e = this.checks.get(id);
    if (!e) return [];
    const slot = this.slotOf(e);
    const out: Directive[] = [];
    const step = resumeStep(e.resume, { type: 'due' });
    e.resume = step.phase;
    if (step.action === 'lookup') out.push(this.lookup(e.spec));
    if (e.inFlight) {
      e.skipped++;
      out.push({ type: 'skipped', id, slot, count: 1 });
    } else {
      const token = this.nextToken++;
      e.inFlight = { token, slot, startedAt: now, skipped: e.skipped, intervalMs: e.slotInterval, spec: e.spec };
      e.skipped = 0;
      e.probed = true;
      out.push({ type: 'probe', id, token, spec: e.spec, intervalMs: e.slotInterval });
    }
    const interval = this.intervalOf(e);
    const next = slotAfterDue(id, slot, e.slotInterval, interval, e.catchUp, now - e.shift);
    e.slotOff = this.offset(next.slot);
    e.catchUp = false;
    e.slotInterval = interval;
    if (next.skipped) {
      e.skipped += next.skipped.count;
      out.push({ type: 'skipped', id, slot: next.skipped.slot, count: next.skipped.count });
    }
    out.push(this.scheduleAt(id, next.slot, interval, e.shift));
    return out;
  }

  /**
   * A probe finished (`confirmation`: what another node saw, confirm.ts). Outcomes of removed checks
   * or stale tokens are dropped. A failure that would announce down is confirmed first: the probe
   * stays in flight until the answer comes back with the same outcome.
   */
  probeDone(id: string, token: number, outcome: ProbeOutcome, now: number, confirmation?: Confirmation, panic: VerdictHold = false): Directive[] {
    const e = this.checks.get(id);
    if (!e || !e.inFlight || e.inFlight.token !== token) return [];
    if (!confirmation && e.verdict && wantsConfirmation(e.spec.confirm, e.spec.policy, { verdict: e.verdict, published: e.published, flapping: e.flapping }, outcome.ok, outcome.reason, e.spec.flap)) {
      return [{ type: 'confirm', id, token, spec: e.inFlight.spec, outcome }];
    }
    const { spec, ...inFlight } = e.inFlight;
    e.inFlight = null;
    if (e.verdict === null) {
      (e.parked ??= []).push({ inFlight, spec, outcome });
      return [];
    }
    return this.apply(id, e, inFlight, spec, outcome, now, confirmation, panic);
  }

  /**
   * A status message of `id` never went out (the publish gate dropped it: a pause, a cut link).
   * Subscribers last heard `msg.from`, so the check's published verdict goes back to it — when it is
   * still the one the message announced — and its next result announces the change again (or none,
   * if the verdict is back at `from` by then). Without this the change was lost until the next one:
   * at a 100k start over 10 nodes, 24 checks never announced their first verdict. Several dropped
   * messages of one check are told newest first.
   */
  unannounced(id: string, msg: Pick<StatusMessage, 'from' | 'to'>): void {
    const e = this.checks.get(id);
    if (e && e.published === msg.to) e.published = msg.from;
  }

  /**
   * The last published state of `id` was looked up (null: none, or it could not be read). Only a
   * check that did not come with a release is looked up, so no previous owner is still probing it
   * by plan: the answer is taken as it is (`recent: false`), and its slot is never compared with
   * this node's clock.
   */
  resumed(id: string, state: ResumeState | null, now: number): Directive[] {
    const e = this.checks.get(id);
    if (!e) return [];
    const step = resumeStep(e.resume, { type: 'answer', recent: false, probed: e.probed });
    e.resume = step.phase;
    if (step.action !== 'apply') return [];
    const out: Directive[] = [];
    ({ verdict: e.verdict, seq: e.seq, published: e.published, degraded: e.degraded, flapping: e.flapping } = continueFrom(state, e.spec.policy, e.seqGap));
    const parked = e.parked ?? [];
    e.parked = null;
    // The state found may run at another interval than the spec's (state-interval.ts): the probe in
    // flight, else the last parked one, is the last probe the new slot keeps its distance from.
    const last = e.inFlight ?? parked[parked.length - 1]?.inFlight ?? null;
    out.push(...this.retime(id, e, last === null ? null : last.slot + e.shift, now));
    for (const p of parked) out.push(...this.apply(id, e, p.inFlight, p.spec, p.outcome, now));
    return out;
  }

  /** `e`'s pending slot (its label). */
  private slotOf(e: CheckEntry): number {
    return this.slotBase! + e.slotOff;
  }

  /** `slot` as an entry keeps it: ms from the table's slot base (set by the first slot seen). */
  private offset(slot: number): number {
    this.slotBase ??= Math.floor(slot);
    const off = slot - this.slotBase;
    // A difference of two boxed numbers is a boxed number even when whole: `| 0` makes it a small
    // integer (only when that is its value: a fraction or a far label is kept as it is, boxed).
    return off === (off | 0) ? off | 0 : off;
  }

  /**
   * The interval of `e`'s state differs from the one its pending slot was computed with: move the
   * slot onto the new interval's grid (check-schedule.ts retimedSlot). A pending catch-up stays (it
   * rejoins the grid of the interval in force when it is due).
   */
  private retime(id: string, e: CheckEntry, lastSlot: number | null, now: number): Directive[] {
    const interval = this.intervalOf(e);
    if (interval === e.slotInterval || e.catchUp) return [];
    const slot = retimedSlot(id, lastSlot, e.slotInterval, interval, now);
    e.slotInterval = interval;
    if (slot === this.slotOf(e) + e.shift && e.shift === 0) return [];
    e.slotOff = this.offset(slot);
    e.shift = 0;
    return [this.scheduleAt(id, slot, interval)];
  }

  /** The interval `e` runs at: its state's (state-interval.ts), or intervalMs until it reached a verdict (looked up, or announced here). */
  private intervalOf(e: CheckEntry): number {
    return probeInterval(e.spec, e.published === 'unknown' ? null : e.verdict);
  }

  private apply(id: string, e: CheckEntry, f: InFlight, spec: NormalizedSpec, o: ProbeOutcome, now: number, confirmation?: Confirmation, panic: VerdictHold = false): Directive[] {
    const by = { nodeId: this.opts.nodeId, epoch: this.epoch, rank: this.opts.rank, groupLabel: this.opts.groupLabel };
    const { next, result, status } = outcomeMessages(id, spec, f, o, { verdict: e.verdict!, seq: e.seq, published: e.published, degraded: e.degraded, flapping: e.flapping }, by, confirmation, panic);
    ({ verdict: e.verdict, seq: e.seq, published: e.published } = next);
    e.degraded = next.degraded ?? false;
    e.flapping = next.flapping ?? false;
    const out: Directive[] = [{ type: 'result', msg: result }];
    if (keepsResumePerVantage(e.spec.replicas)) out.push({ type: 'keepState', id, rank: this.opts.rank, state: resumeRecordOf(result) });
    // replicas > 1: the shard's primary announces the combined verdict instead (quorum-table.ts).
    if (status && !combinesVantages(e.spec)) out.push({ type: 'status', msg: status });
    out.push(...this.retime(id, e, f.slot + e.shift, now));
    return out;
  }

  /** Look up where a check continues from: the result stream, and its vantage's resume record when it has several vantages. */
  private lookup(spec: NormalizedSpec): Directive {
    return { type: 'resume', id: spec.id, rank: this.opts.rank, perVantage: keepsResumePerVantage(spec.replicas) };
  }

  private scheduleAt(id: string, slot: number, intervalMs: number, shift = 0): Directive {
    return { type: 'schedule', id, at: shift + jitteredStart(slot, intervalMs, this.opts.jitterMs, this.opts.random) };
  }
}
