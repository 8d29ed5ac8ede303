// The node's side of the rollups (protocol/rollup.ts): every result a runner of this node publishes
// is counted into its check's accumulator (no allocation per probe), once per grain; at each
// period's end of a grain (LOOKOUT_ROLLUP_PERIOD_MS → `<prefix>._rollup.<id>`, and the fine
// LOOKOUT_ROLLUP_FINE_PERIOD_MS → `<prefix>._rollup_fine.<id>`; on this node's wall clock: a label,
// never compared with another node's) one record per check probed goes out — a few hundred at a
// time, between which the event loop runs (100k checks make 100k records a period). A node that
// stops publishes the partial period of each grain, so a rolling restart loses no probe.

import { periodStart, RollupAccumulator, type RollupRecord } from '../protocol/rollup';
import type { ResultMessage } from '../protocol/records';
import type { Bus } from './bus';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';
import type { Subjects } from './subjects';

/** Records published per turn of the event loop at a period's end. */
export const ROLLUP_PUBLISH_CHUNK = 500;

/** One grain of rollups: its period and the subject its records go to. */
export interface RollupGrain {
  periodMs: number;
  /** The subject of check `id`'s records of this grain. */
  subject(id: string): string;
}

export interface RollupRecorderOptions {
  bus: Pick<Bus, 'publish'>;
  clock: Clock;
  nodeId: string;
  /** The grains every probe is counted in (the rollup period, and the fine period when on). */
  grains: readonly RollupGrain[];
  log: Logger;
  /** Runs `fn` on a later turn of the event loop (setImmediate; tests pass their own). */
  defer?: (fn: () => void) => void;
}

/** The grains a node's settings ask for: the rollup period, and the fine period when on (0: off). */
export function rollupGrains(s: Subjects, periodMs: number, finePeriodMs: number): RollupGrain[] {
  return [...(periodMs > 0 ? [{ periodMs, subject: (id: string) => s.rollup(id) }] : []), ...(finePeriodMs > 0 ? [{ periodMs: finePeriodMs, subject: (id: string) => s.fineRollup(id) }] : [])];
}

export class RollupRecorder {
  /** One per grain: a grain holds only the checks it counts (the fine one: those probed more often than its period). */
  private readonly accs: RollupAccumulator[];
  private readonly periods: number[];
  private readonly timers: (TimerHandle | null)[];
  private readonly defer: (fn: () => void) => void;

  constructor(private readonly o: RollupRecorderOptions) {
    this.accs = o.grains.map(() => new RollupAccumulator());
    this.periods = o.grains.map((g) => periodStart(o.clock.now(), g.periodMs));
    this.timers = o.grains.map(() => null);
    this.defer = o.defer ?? ((fn) => void setImmediate(fn));
  }

  /**
   * Count a result in the first grain, and in each finer grain whose period is longer than the
   * probe's interval: a check probed once a fine period or less often gets no fine records (each
   * would hold one probe, which its result already says) — at 100k checks at 60 s that is 1,667
   * records a second into JetStream and a burst of 100k records a minute saved.
   */
  observe(msg: ResultMessage): void {
    let levels = this.o.grains.length;
    while (levels > 1 && msg.intervalMs >= this.o.grains[levels - 1]!.periodMs) levels--;
    const inconclusive = msg.reason === 'inconclusive';
    for (let level = 0; level < levels; level++) this.accs[level]!.observe(msg.checkId, msg.vantage, msg.ok, inconclusive, msg.latencyMs);
  }

  /** Checks each grain holds counts for now (a row each: 88 bytes plus a map entry). */
  held(): number[] {
    return this.accs.map((a) => a.size);
  }

  start(): void {
    this.o.grains.forEach((_, level) => this.arm(level));
  }

  /** Publish the partial period of every grain at once (the node stops). */
  stop(): void {
    this.o.grains.forEach((g, level) => {
      const t = this.timers[level];
      if (t !== null && t !== undefined) this.o.clock.clearTimeout(t);
      this.timers[level] = null;
      for (const r of this.drain(level)) this.publish(g, r);
    });
  }

  private arm(level: number): void {
    const next = this.periods[level]! + this.o.grains[level]!.periodMs;
    this.timers[level] = this.o.clock.setTimeout(() => this.endPeriod(level), Math.max(0, next - this.o.clock.now()));
  }

  private endPeriod(level: number): void {
    const grain = this.o.grains[level]!;
    const records = this.drain(level);
    this.arm(level);
    if (records.length > 0) this.o.log.debug({ event: 'rollups_published', records: records.length, periodMs: grain.periodMs, period: new Date(records[0]!.period).toISOString() }, 'rollups of the period published');
    const step = (from: number) => {
      for (const r of records.slice(from, from + ROLLUP_PUBLISH_CHUNK)) this.publish(grain, r);
      if (from + ROLLUP_PUBLISH_CHUNK < records.length) this.defer(() => step(from + ROLLUP_PUBLISH_CHUNK));
    };
    step(0);
  }

  /** The records of grain `level`'s period so far, and its next period from now. */
  private drain(level: number): RollupRecord[] {
    const periodMs = this.o.grains[level]!.periodMs;
    const records = this.accs[level]!.drain(this.o.nodeId, this.periods[level]!, periodMs);
    // A timer may fire a millisecond early: the next period never starts before this one ends.
    this.periods[level] = Math.max(periodStart(this.o.clock.now(), periodMs), this.periods[level]! + periodMs);
    return records;
  }

  private publish(grain: RollupGrain, r: RollupRecord): void {
    this.o.bus.publish(grain.subject(r.checkId), r);
  }
}
