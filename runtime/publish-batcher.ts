// One socket write for the results a node produces together, not one per result.
//
// nats.js writes its outbound buffer in a microtask queued by the first publish after a write
// (nats-core protocol.ts sendCommand → queueMicrotask(flushPending) → one socket.write). Results
// finish in separate I/O or timer callbacks, each followed by its own microtask checkpoint, so
// every result was its own write(2) — about 14% of a probe's CPU at 1,500 probes/s (issue 12). The
// batcher keeps a runner's gated messages (results, verdict changes, resume records) produced in
// one window and hands them to nats.js in one synchronous run at its end: one write. The window is
// LOOKOUT_PUBLISH_BATCH_MS: 0 (the default) is the rest of the current event-loop turn (written from
// setImmediate, after the poll phase that finished the probes), so fan-out latency grows by
// microseconds, not by a timer.
//
// The same messages, on the same per-check subjects, in the order produced; the gate is asked when
// a message is produced and again when its batch is written (protocol/publish-batch.ts). Ungated
// messages write the pending batch first, then themselves, at once. stop() writes what is pending
// (the gate still applies) and from then on publishes at once.

import { encode } from './bus';
import type { Clock, TimerHandle } from './clock';
import { type DropCounts, noDrops, type Pending, type PublishKind, PublishStep, publishStep, settleBatch } from '../protocol/publish-batch';

export interface PublishBatcherOptions {
  /** 0: the end of the current event-loop turn; > 0: at most this many ms after the first message of a batch; < 0: no batching. */
  windowMs: number;
  /** The publish gate, asked when a message is produced and when its batch is written. */
  gateOpen(): boolean;
  /** Messages the gate dropped, by kind (at production or from a pending batch). */
  onDropped(counts: DropCounts): void;
  /** Arms the window when windowMs > 0. */
  clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  /** Arms the end-of-turn write when windowMs is 0 (tests pass their own). */
  defer?: (fn: () => void) => void;
  /** The publish gate decided which bytes go out; this writes them (nc.publish). */
  send(subject: string, data: Uint8Array): void;
}

export class PublishBatcher {
  private pending: Pending[] = [];
  private timer: TimerHandle | null = null;
  private deferred = false;
  private stopped = false;
  /** Batches written (each one socket write, unless nats.js's own buffer is already full). */
  batches = 0;

  constructor(private readonly opts: PublishBatcherOptions) {}

  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Publish `payload` on `subject`; `kind` null for an ungated message. `onDropped` is called if the
   * gate drops it (now, or when its batch is written; a batch's drops are told newest first).
   */
  publish(subject: string, payload: unknown, kind: PublishKind | null, onDropped?: () => void): void {
    const gateOpen = kind === null || this.opts.gateOpen();
    const step = publishStep(kind, gateOpen, !this.stopped && this.opts.windowMs >= 0, this.pending.length);
    switch (step) {
      case PublishStep.drop: {
        const dropped = noDrops();
        dropped[kind!]++;
        this.opts.onDropped(dropped);
        onDropped?.();
        this.flush(); // the gate is closed: whatever is pending goes the same way
        break;
      }
      case PublishStep.flushThenSend:
        this.flush();
        this.opts.send(subject, encode(payload));
        break;
      case PublishStep.add:
        this.pending.push({ subject, data: encode(payload), kind: kind!, onDropped });
        if (this.pending.length === 1) this.arm();
        break;
      case PublishStep.addThenFlush:
        this.pending.push({ subject, data: encode(payload), kind: kind!, onDropped });
        this.flush();
        break;
      default: {
        const never: never = step;
        throw new Error(`unknown publish step ${String(never)}`);
      }
    }
  }

  /** Write the pending batch now (the gate is asked again: closed, it drops the batch). */
  flush(): void {
    this.disarm();
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const { send, dropped } = settleBatch(batch, this.opts.gateOpen());
    if (send.length === 0) {
      this.opts.onDropped(dropped);
      for (let i = batch.length - 1; i >= 0; i--) batch[i]!.onDropped?.();
      return;
    }
    this.batches++;
    for (const m of send) this.opts.send(m.subject, m.data);
  }

  /** Write what is pending and stop batching (before the connection drains). */
  stop(): void {
    this.flush();
    this.stopped = true;
  }

  private arm(): void {
    if (this.opts.windowMs > 0) {
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = null;
        this.flush();
      }, this.opts.windowMs);
      return;
    }
    if (this.deferred) return;
    this.deferred = true;
    (this.opts.defer ?? setImmediate)(() => {
      this.deferred = false;
      this.flush();
    });
  }

  private disarm(): void {
    if (this.timer !== null) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
