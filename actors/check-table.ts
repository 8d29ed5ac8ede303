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
//   outcome → verdict policy → result (seq + 1) and, if the verdict changed, a status event

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import { applyOutcome, initialVerdict, type Verdict, type VerdictState } from '../checks/verdict';
import type { ResultMessage, StatusMessage } from '../runtime/messages';
import { followingSlot, jitterBound, nextSlot } from '../runtime/slots';

/** What a new owner needs to continue a check: taken from its last published result. */
export interface ResumeState {
  seq: number;
  status: Verdict;
  history: string;
}

export type Directive =
  | { type: 'schedule'; id: string; at: number }
  | { type: 'unschedule'; id: string }
  | { type: 'resume'; id: string }
  | { type: 'probe'; id: string; token: number; spec: NormalizedSpec }
  | { type: 'abort'; id: string; token: number }
  | { type: 'result'; msg: ResultMessage }
  | { type: 'status'; msg: StatusMessage }
  | { type: 'skipped'; id: string; slot: number };

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
  inFlight: (InFlight & { spec: NormalizedSpec }) | null;
  /** null while the last published state is being looked up. */
  verdict: VerdictState | null;
  /** Outcomes that finished before the lookup did; applied in order once it returns. */
  parked: Parked[];
  seq: number;
  published: Verdict | 'unknown';
  skipped: number;
}

export interface TableOptions {
  nodeId: string;
  jitterMs: number;
  /** A number in [0, 1): injected so tests are deterministic. */
  random: () => number;
}

export class CheckTable {
  private readonly checks = new Map<string, CheckEntry>();
  private nextToken = 1;
  epoch = 0;

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

  inFlightCount(): number {
    let n = 0;
    for (const e of this.checks.values()) if (e.inFlight) n++;
    return n;
  }

  /** Add a check, or change its spec. A change applies from the next due probe. */
  set(spec: NormalizedSpec, now: number): Directive[] {
    const e = this.checks.get(spec.id);
    if (!e) {
      const slot = nextSlot(spec.id, spec.intervalMs, now - 1);
      this.checks.set(spec.id, {
        spec,
        slot,
        slotInterval: spec.intervalMs,
        inFlight: null,
        verdict: null,
        parked: [],
        seq: 0,
        published: 'unknown',
        skipped: 0,
      });
      return [{ type: 'resume', id: spec.id }, this.scheduleAt(spec.id, slot, spec.intervalMs)];
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
    const out: Directive[] = [];
    if (e.inFlight) {
      e.skipped++;
      out.push({ type: 'skipped', id, slot });
    } else {
      const token = this.nextToken++;
      e.inFlight = { token, slot, startedAt: now, spec: e.spec };
      out.push({ type: 'probe', id, token, spec: e.spec });
    }
    e.slot = followingSlot(id, slot, e.slotInterval, e.spec.intervalMs);
    e.slotInterval = e.spec.intervalMs;
    out.push(this.scheduleAt(id, e.slot, e.spec.intervalMs));
    return out;
  }

  /** A probe finished. Outcomes of removed checks or stale tokens are dropped. */
  probeDone(id: string, token: number, outcome: ProbeOutcome): Directive[] {
    const e = this.checks.get(id);
    if (!e || !e.inFlight || e.inFlight.token !== token) return [];
    const { spec, ...inFlight } = e.inFlight;
    e.inFlight = null;
    if (e.verdict === null) {
      e.parked.push({ inFlight, spec, outcome });
      return [];
    }
    return this.apply(id, e, inFlight, spec, outcome);
  }

  /** The last published state of `id` was looked up (null: none, or it could not be read). */
  resumed(id: string, state: ResumeState | null): Directive[] {
    const e = this.checks.get(id);
    if (!e || e.verdict !== null) return [];
    if (state) {
      e.verdict = { status: state.status, history: state.history };
      e.seq = state.seq;
      e.published = state.status;
    } else {
      e.verdict = initialVerdict(e.spec.policy);
    }
    const out: Directive[] = [];
    for (const p of e.parked.splice(0)) out.push(...this.apply(id, e, p.inFlight, p.spec, p.outcome));
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
          reason: verdict.status === 'down' ? o.reason : null,
          message: verdict.status === 'down' ? o.message : null,
        },
      });
      e.published = verdict.status;
    }
    return out;
  }

  private scheduleAt(id: string, slot: number, intervalMs: number): Directive {
    const bound = jitterBound(intervalMs, this.opts.jitterMs);
    return { type: 'schedule', id, at: slot + Math.floor(this.opts.random() * bound) };
  }
}
