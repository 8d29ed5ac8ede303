// The checks of one shard and what happens to them: the pure core of a check runner.
//
// Every method takes an input (a spec change, a due time, a probe outcome, a resumed state) and
// returns directives (schedule, probe, publish, abort) for the check runner actor to carry out;
// no I/O, no clock: times come in as arguments. One entry per check — its slot, the probe in
// flight, its verdict state — and each decision in the file that owns it:
//   where the next probe goes (slots, catch-up, passed slots skipped, jitter) → check-schedule.ts
//   continuing from the last published state (the resume phases)            → check-resume.ts
//   what an outcome publishes (verdict, result and status messages)         → check-messages.ts
// What it decides itself: a check due while its probe is still in flight skips the round
// (counted), never overlaps; on handover a lost shard keeps its slots before `stopAt`, a gained
// one starts at `startAt`; outcomes of removed checks and stale tokens are dropped.

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { CatchUpPacer } from './catch-up-pacer';
import { outcomeMessages, type ProbeRun } from './check-messages';
import { continueFrom, isOverdue, resumeStep, type ResumePhase } from './check-resume';
import { catchUpAt, earlierSlot, firstSlot, jitteredStart, slotAfterDue } from './check-schedule';
import type { ResultMessage, ResumeState, StatusMessage } from './records';
import type { Verdict, VerdictState } from './verdict';

export type Directive =
  | { type: 'schedule'; id: string; at: number }
  | { type: 'unschedule'; id: string }
  | { type: 'resume'; id: string; rank: number }
  | { type: 'probe'; id: string; token: number; spec: NormalizedSpec }
  | { type: 'abort'; id: string; token: number }
  | { type: 'result'; msg: ResultMessage }
  | { type: 'status'; msg: StatusMessage }
  | { type: 'skipped'; id: string; slot: number; count: number };

/** A probe running: its slot, start and token (an outcome with another token is stale). */
type InFlight = ProbeRun & { token: number };

/** An outcome that finished before the resume lookup answered. */
type Parked = { inFlight: InFlight; spec: NormalizedSpec; outcome: ProbeOutcome };

interface CheckEntry {
  spec: NormalizedSpec;
  /** Slot of the next scheduled probe, and the interval it was computed with. */
  slot: number;
  slotInterval: number;
  /** The next probe is a catch-up probe off the slot grid. */
  catchUp: boolean;
  inFlight: (InFlight & { spec: NormalizedSpec }) | null;
  /** null until the resume phase is `resumed` (the last published state is being looked up). */
  verdict: VerdictState | null;
  /** Where the check is in continuing from its last published state (check-resume.ts). */
  resume: ResumePhase;
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
  /** This node's rank in the shard's owner list (0: the primary). */
  rank: number;
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
      const { slot, catchUp } = firstSlot(spec.id, spec.intervalMs, now, startAt, this.opts.catchUps);
      this.checks.set(spec.id, {
        spec,
        slot,
        slotInterval: spec.intervalMs,
        catchUp,
        inFlight: null,
        verdict: null,
        resume: 'lookingUp',
        parked: null,
        seq: 0,
        published: 'unknown',
        skipped: 0,
        lastStartedAt: null,
      });
      return [{ type: 'resume', id: spec.id, rank: this.opts.rank }, this.scheduleAt(spec.id, slot, spec.intervalMs)];
    }
    e.spec = spec;
    if (spec.intervalMs === e.slotInterval) return [];
    // A new interval: keep the pending probe unless the new schedule has an earlier slot.
    const earlier = earlierSlot(spec.id, spec.intervalMs, now, e.slot);
    if (earlier === null) return [];
    e.slot = earlier;
    e.slotInterval = spec.intervalMs;
    return [this.scheduleAt(spec.id, earlier, spec.intervalMs)];
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
    const step = resumeStep(e.resume, { type: 'due' });
    e.resume = step.phase;
    if (step.action === 'lookup') out.push({ type: 'resume', id, rank: this.opts.rank });
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
    const next = slotAfterDue(id, slot, e.slotInterval, interval, e.catchUp, now);
    e.slot = next.slot;
    e.catchUp = false;
    e.slotInterval = interval;
    if (next.skipped) {
      e.skipped += next.skipped.count;
      out.push({ type: 'skipped', id, slot: next.skipped.slot, count: next.skipped.count });
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
    if (!e) return [];
    const { intervalMs, timeoutMs } = e.spec;
    const overdue = isOverdue(state, intervalMs, timeoutMs, now);
    const step = resumeStep(e.resume, { type: 'answer', recent: state !== null && !overdue, probed: e.lastStartedAt !== null });
    e.resume = step.phase;
    if (step.action !== 'apply') return [];
    const out: Directive[] = [];
    ({ verdict: e.verdict, seq: e.seq, published: e.published } = continueFrom(state, e.spec.policy));
    // Unprobed while it had no owner (a failover): one catch-up probe, unless one already runs.
    const catchUp = overdue && !e.inFlight && e.lastStartedAt === null ? catchUpAt(this.opts.catchUps, now, e.slot, intervalMs) : null;
    if (catchUp !== null) {
      e.slot = catchUp;
      e.catchUp = true;
      out.push(this.scheduleAt(id, e.slot, intervalMs));
    }
    const parked = e.parked ?? [];
    e.parked = null;
    for (const p of parked) out.push(...this.apply(id, e, p.inFlight, p.spec, p.outcome));
    return out;
  }

  private apply(id: string, e: CheckEntry, f: InFlight, spec: NormalizedSpec, o: ProbeOutcome): Directive[] {
    const by = { nodeId: this.opts.nodeId, epoch: this.epoch, rank: this.opts.rank };
    const { next, result, status } = outcomeMessages(id, spec, f, o, { verdict: e.verdict!, seq: e.seq, published: e.published, skipped: e.skipped }, by);
    ({ verdict: e.verdict, seq: e.seq, published: e.published, skipped: e.skipped } = next);
    const out: Directive[] = [{ type: 'result', msg: result }];
    if (status) out.push({ type: 'status', msg: status });
    return out;
  }

  private scheduleAt(id: string, slot: number, intervalMs: number): Directive {
    return { type: 'schedule', id, at: jitteredStart(slot, intervalMs, this.opts.jitterMs, this.opts.random) };
  }
}
