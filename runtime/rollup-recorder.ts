// The node's side of the rollups (protocol/rollup.ts): every result a runner of this node publishes
// is counted into its check's accumulator (no allocation per probe); at each period's end
// (LOOKOUT_ROLLUP_PERIOD_MS on this node's wall clock: a label, never compared with another node's)
// one record per check probed goes to `<prefix>._rollup.<id>` — a few hundred at a time, between
// which the event loop runs (100k checks make 100k records an hour). A node that stops publishes
// its partial period, so a rolling restart loses no probe from the counts.

import { periodStart, RollupAccumulator, type RollupRecord } from '../protocol/rollup';
import type { ResultMessage } from '../protocol/records';
import type { Bus } from './bus';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';
import type { Subjects } from './subjects';

/** Records published per turn of the event loop at a period's end. */
export const ROLLUP_PUBLISH_CHUNK = 500;

export interface RollupRecorderOptions {
  bus: Pick<Bus, 'publish'>;
  subjects: Subjects;
  clock: Clock;
  nodeId: string;
  periodMs: number;
  log: Logger;
  /** Runs `fn` on a later turn of the event loop (setImmediate; tests pass their own). */
  defer?: (fn: () => void) => void;
}

export class RollupRecorder {
  private acc = new RollupAccumulator();
  private period: number;
  private timer: TimerHandle | null = null;
  private readonly defer: (fn: () => void) => void;

  constructor(private readonly o: RollupRecorderOptions) {
    this.period = periodStart(o.clock.now(), o.periodMs);
    this.defer = o.defer ?? ((fn) => void setImmediate(fn));
  }

  observe(msg: ResultMessage): void {
    this.acc.observe(msg.checkId, msg.vantage, msg.ok, msg.reason === 'inconclusive', msg.latencyMs);
  }

  start(): void {
    this.arm();
  }

  /** Publish the partial period at once (the node stops). */
  stop(): void {
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
    for (const r of this.drain()) this.publish(r);
  }

  private arm(): void {
    const next = this.period + this.o.periodMs;
    this.timer = this.o.clock.setTimeout(() => this.endPeriod(), Math.max(0, next - this.o.clock.now()));
  }

  private endPeriod(): void {
    const records = this.drain();
    this.arm();
    if (records.length > 0) this.o.log.debug({ event: 'rollups_published', records: records.length, period: new Date(records[0]!.period).toISOString() }, 'rollups of the period published');
    const step = (from: number) => {
      for (const r of records.slice(from, from + ROLLUP_PUBLISH_CHUNK)) this.publish(r);
      if (from + ROLLUP_PUBLISH_CHUNK < records.length) this.defer(() => step(from + ROLLUP_PUBLISH_CHUNK));
    };
    step(0);
  }

  /** The records of the period so far, and the next period from now. */
  private drain(): RollupRecord[] {
    const records = this.acc.drain(this.o.nodeId, this.period, this.o.periodMs);
    // A timer may fire a millisecond early: the next period never starts before this one ends.
    this.period = Math.max(periodStart(this.o.clock.now(), this.o.periodMs), this.period + this.o.periodMs);
    return records;
  }

  private publish(r: RollupRecord): void {
    this.o.bus.publish(this.o.subjects.rollup(r.checkId), r);
  }
}
