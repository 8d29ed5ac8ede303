// The checks of one shard and what happens to them: the pure core of a check runner.
//
// Every method takes an input (a spec change, a due time, a probe outcome, a resumed state) and
// returns directives: schedule, probe, publish, abort. It performs no I/O and reads no clock —
// times come in as arguments — so the check runner actor is a thin shell that carries the
// directives out, and this file is tested with plain tables.
//
// Per check:
//   resuming → (last published state found, or none) → ready
//   due while a probe is in flight → the round is skipped and counted, never overlapped
//   due so late that later slots have passed too (process paused, event loop stalled) → the
//     passed slots are skipped and counted, not fired in a burst
//   outcome → verdict policy → result (seq + 1) and, if the verdict changed, a status event
//   resumed from a result older than one interval (+ timeout): the check went unprobed while it
//     had no owner (failover), so one catch-up probe runs now instead of waiting for the next slot
//   resumed from a recent result (a planned move: the old owner is still probing until the
//     handover instant): look the state up again at the first probe, when the old owner's last
//     result is in, so seq and verdict continue exactly
//   handover: a lost shard keeps its slots before `stopAt`; a gained one starts at `startAt`

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import { applyOutcome, initialVerdict, type Verdict, type VerdictState } from '../checks/verdict';
import type { ResultMessage, StatusMessage } from '../runtime/messages';
import type { CatchUpPacer } from './catch-up-pacer';
import { followingSlot, jitterBound, nextSlot } from '../runtime/slots';

/** What a new owner needs to continue a check: taken from its last published result. */
export interface ResumeState {
  seq: number;
  status: Verdict;
  history: string;
  /** Slot of that result: tells whether the check missed a round while it had no owner. */
  slot: number;
}

export type Directive =
  | { type: 'schedule'; id: string; at: number }
  | { type: 'unschedule'; id: string }
  | { type: 'resume'; id: string; vantage: number }
  | { type: 'probe'; id: string; token: number; spec: NormalizedSpec }
  | { type: 'abort'; id: string; token: number }
  | { type: 'result'; msg: ResultMessage }
  | { type: 'status'; msg: StatusMessage }
  | { type: 'skipped'; id: string; slot: number; count: number };

interface InFlight {
  token: number;
  slot: number;
  startedAt: number;
}

interface Parked {
  inFlight: InFlight;
  spec: NormalizedSpec;
  outcome: ProbeOutcome;
}

interface CheckEntry {
  spec: NormalizedSpec;
  /** Slot of the next scheduled probe, and the interval it was computed with. */
  slot: number;
  slotInterval: number;
  /** The next probe is a catch-up probe off the slot grid. */
  catchUp: boolean;
  inFlight: (InFlight & { spec: NormalizedSpec }) | null;
  /** null while the last published state is being looked up. */
  verdict: VerdictState | null;
  /** first: lookup at gain time; atFirstDue: look up again at the first probe; second: that lookup is out. */
  resume: 'first' | 'atFirstDue' | 'second' | 'done';
  /** Outcomes that finished before the lookup did; applied in order once it returns (rare: allocated on demand). */
  parked: Parked[] | null;
  seq: number;
  published: Verdict | 'unknown';
  skipped: number;
  /** Start of the last probe (to count probes run after the shard was given away). */
  lastStartedAt: number | null;
}

export interface TableOptions {
  nodeId: string;
  /** This node's rank in the shard's owner list: 0 is the primary vantage point. */
  vantage: number;
  jitterMs: number;
  /** A number in [0, 1): injected so tests are deterministic. */
  random: () => number;
  /** Node-wide pacing of catch-up probes (shared by every table of the node). */
  catchUps: CatchUpPacer;
}

export class CheckTable {
  private readonly checks = new Map<string, CheckEntry>();
  private nextToken = 1;
  epoch = 0;
  /** Handover: slots at or after this instant belong to the shard's next owner. */
  stopAt: number | null = null;

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

  /** True while some check's next slot is before `at` (handing over: those slots are still ours to run). */
  hasSlotsBefore(at: number): boolean {
    for (const e of this.checks.values()) if (e.slot < at) return true;
    return false;
  }

  inFlightCount(): number {
    let n = 0;
    for (const e of this.checks.values()) if (e.inFlight) n++;
    return n;
  }

  /**
   * Add a check, or change its spec. A change applies from the next due probe. A new check's first
   * slot is at or after `startAt` (the handover instant when the shard was just gained).
   */
  set(spec: NormalizedSpec, now: number, startAt = now): Directive[] {
    const e = this.checks.get(spec.id);
    if (!e) {
      // A shard gained late (the map reached us after a recent handover instant): the slot between
      // the handover and now had no owner, so catch up instead of waiting for the next slot.
      const regular = nextSlot(spec.id, spec.intervalMs, Math.max(now, startAt) - 1);
      const missed = startAt > now - spec.intervalMs && nextSlot(spec.id, spec.intervalMs, startAt - 1) < now;
      const catchUp = missed ? this.catchUpAt(now, regular, spec.intervalMs) : null;
      const slot = catchUp ?? regular;
      this.checks.set(spec.id, {
        spec,
        slot,
        slotInterval: spec.intervalMs,
        catchUp: catchUp !== null,
        inFlight: null,
        verdict: null,
        resume: 'first',
        parked: null,
        seq: 0,
        published: 'unknown',
        skipped: 0,
        lastStartedAt: null,
      });
      return [{ type: 'resume', id: spec.id, vantage: this.opts.vantage }, this.scheduleAt(spec.id, slot, spec.intervalMs)];
    }
    e.spec = spec;
    if (spec.intervalMs === e.slotInterval) return [];
    // A new interval: keep the pending probe unless the new schedule has an earlier slot.
    const candidate = nextSlot(spec.id, spec.intervalMs, now - 1);
    if (candidate >= e.slot) return [];
    e.slot = candidate;
    e.slotInterval = spec.intervalMs;
    return [this.scheduleAt(spec.id, candidate, spec.intervalMs)];
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
   * Probes started at or after `since`: when this shard was given to another node at `since` and
   * we learned it only now, those ran twice. Counted from each check's last start and interval.
   */
  startsSince(since: number): number {
    let n = 0;
    for (const e of this.checks.values()) {
      if (e.lastStartedAt !== null && e.lastStartedAt >= since) n += Math.floor((e.lastStartedAt - since) / e.spec.intervalMs) + 1;
    }
    return n;
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
    const slot = e.slot;
    if (this.stopAt !== null && slot >= this.stopAt) return []; // the next owner's slot
    const out: Directive[] = [];
    if (e.resume === 'atFirstDue') {
      e.resume = 'second';
      out.push({ type: 'resume', id, vantage: this.opts.vantage });
    }
    if (e.inFlight) {
      e.skipped++;
      out.push({ type: 'skipped', id, slot, count: 1 });
    } else {
      const token = this.nextToken++;
      e.inFlight = { token, slot, startedAt: now, spec: e.spec };
      e.lastStartedAt = now;
      out.push({ type: 'probe', id, token, spec: e.spec });
    }
    const interval = e.spec.intervalMs;
    // After a catch-up probe, rejoin the grid at least half an interval later.
    e.slot = e.catchUp ? nextSlot(id, interval, slot + Math.floor(interval / 2)) : followingSlot(id, slot, e.slotInterval, interval);
    e.catchUp = false;
    e.slotInterval = interval;
    if (e.slot <= now) {
      const resumeAt = nextSlot(id, interval, now);
      const missed = Math.round((resumeAt - e.slot) / interval);
      e.skipped += missed;
      out.push({ type: 'skipped', id, slot: e.slot, count: missed });
      e.slot = resumeAt;
    }
    out.push(this.scheduleAt(id, e.slot, interval));
    return out;
  }

  /** A probe finished. Outcomes of removed checks or stale tokens are dropped. */
  probeDone(id: string, token: number, outcome: ProbeOutcome): Directive[] {
    const e = this.checks.get(id);
    if (!e || !e.inFlight || e.inFlight.token !== token) return [];
    const { spec, ...inFlight } = e.inFlight;
    e.inFlight = null;
    if (e.verdict === null) {
      (e.parked ??= []).push({ inFlight, spec, outcome });
      return [];
    }
    return this.apply(id, e, inFlight, spec, outcome);
  }

  /** The last published state of `id` was looked up (null: none, or it could not be read). */
  resumed(id: string, state: ResumeState | null, now: number): Directive[] {
    const e = this.checks.get(id);
    if (!e || e.verdict !== null || e.resume === 'atFirstDue') return [];
    const out: Directive[] = [];
    const { intervalMs, timeoutMs } = e.spec;
    const overdue = state !== null && state.slot + intervalMs + timeoutMs < now;
    if (e.resume === 'first' && state && !overdue && e.lastStartedAt === null) {
      // The previous owner is (or was until a moment ago) probing: its last results are not in yet.
      e.resume = 'atFirstDue';
      return [];
    }
    e.resume = 'done';
    if (state) {
      e.verdict = { status: state.status, history: state.history };
      e.seq = state.seq;
      e.published = state.status;
      const catchUp = overdue && !e.inFlight && e.lastStartedAt === null ? this.catchUpAt(now, e.slot, intervalMs) : null;
      if (catchUp !== null) {
        e.slot = catchUp;
        e.catchUp = true;
        out.push(this.scheduleAt(id, e.slot, intervalMs));
      }
    } else {
      e.verdict = initialVerdict(e.spec.policy);
    }
    const parked = e.parked ?? [];
    e.parked = null;
    for (const p of parked) out.push(...this.apply(id, e, p.inFlight, p.spec, p.outcome));
    return out;
  }

  private apply(id: string, e: CheckEntry, f: InFlight, spec: NormalizedSpec, o: ProbeOutcome): Directive[] {
    const verdict = applyOutcome(spec.policy, e.verdict!, o.ok);
    e.verdict = verdict;
    e.seq++;
    const at = new Date(f.startedAt).toISOString();
    const result: ResultMessage = {
      checkId: id,
      ok: o.ok,
      status: verdict.status,
      latencyMs: o.latencyMs,
      reason: o.reason,
      message: o.message,
      node: this.opts.nodeId,
      at,
      epoch: this.epoch,
      seq: e.seq,
      vantage: this.opts.vantage,
      kind: spec.kind,
      target: spec.target,
      slot: f.slot,
      timings: o.timings,
      ...(o.httpStatus !== undefined ? { httpStatus: o.httpStatus } : {}),
      ...(o.bodyBytes !== undefined ? { bodyBytes: o.bodyBytes } : {}),
      ...(o.truncated !== undefined ? { truncated: o.truncated } : {}),
      ...(o.redirects !== undefined ? { redirects: o.redirects } : {}),
      history: verdict.history,
      skipped: e.skipped,
    };
    e.skipped = 0;
    const out: Directive[] = [{ type: 'result', msg: result }];
    if (verdict.status !== e.published) {
      out.push({
        type: 'status',
        msg: {
          checkId: id,
          from: e.published,
          to: verdict.status,
          at,
          node: this.opts.nodeId,
          epoch: this.epoch,
          seq: e.seq,
          vantage: this.opts.vantage,
          reason: verdict.status === 'down' ? o.reason : null,
          message: verdict.status === 'down' ? o.message : null,
        },
      });
      e.published = verdict.status;
    }
    return out;
  }

  /**
   * When a catch-up probe runs, or null when it is not worth one: the node-wide pacer's next free
   * place, if that still comes in the first half of the wait for the regular slot (later, the
   * regular slot is soon enough). A failover of many checks becomes a paced trickle, not a burst.
   */
  private catchUpAt(now: number, regularSlot: number, intervalMs: number): number | null {
    if (regularSlot - now <= intervalMs / 2) return null;
    if (this.opts.catchUps.peek(now) > now + (regularSlot - now) / 2) return null;
    return this.opts.catchUps.take(now);
  }

  private scheduleAt(id: string, slot: number, intervalMs: number): Directive {
    const bound = jitterBound(intervalMs, this.opts.jitterMs);
    return { type: 'schedule', id, at: slot + Math.floor(this.opts.random() * bound) };
  }
}
