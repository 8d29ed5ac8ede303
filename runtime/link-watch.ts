// The node's NATS link watch: every `pingMs` it sends one PING (a flush) unless one is still out,
// and judges the link (protocol/link-liveness.ts) once the node has read what waits on its socket
// (the judgement runs after the I/O phase that follows the tick, `afterIo`). A stale link is
// reported (`onStale`, then the log line) and the connection is made again (`reconnect`): the same
// outcome as nats.js's unanswered pings, without counting a busy node or a busy server as a dead
// link. While the link is down the watch only waits; a new link starts counting afresh.

import { freshLiveness, judgeLink, type LinkLiveness, type LinkObservation } from '../protocol/link-liveness';
import type { NatsConnection } from '@nats-io/transport-node';
import { systemClock, type Clock, type TimerHandle } from './clock';
import type { Logger } from './logger';

/** The connection as the watch sees it (nats.js in production, a fake in unit tests). */
export interface LinkPort {
  connected(): boolean;
  /** Messages received so far (stats().inMsgs). */
  inMsgs(): number;
  /** Send a PING; resolves at its PONG, rejects if the link drops first. */
  ping(): Promise<unknown>;
  /** Drop the link and connect again. */
  reconnect(): void;
}

export interface LinkWatchOptions {
  pingMs: number;
  /** Judgements in a row that heard nothing before the link is stale (NATS_MAX_PING_OUT). */
  maxSilentTicks: number;
  /** Called when the link is found stale, before it is dropped; `silentMs`: since it last heard anything. */
  onStale: (e: { silentMs: number; silentTicks: number }) => void;
  /** Runs `fn` after the pending I/O has been read (setImmediate in production). */
  afterIo?: (fn: () => void) => void;
}

export class LinkWatch {
  private timer: TimerHandle | null = null;
  private pongs = 0;
  private pingOut = false;
  private state: LinkLiveness | null = null;
  private heardAt = 0;
  private readonly afterIo: (fn: () => void) => void;

  constructor(
    private readonly clock: Clock,
    private readonly port: LinkPort,
    private readonly o: LinkWatchOptions,
  ) {
    this.afterIo = o.afterIo ?? ((fn) => void setImmediate(fn));
  }

  start(): void {
    if (this.timer !== null) return;
    this.arm();
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private observe(): LinkObservation {
    return { inMsgs: this.port.inMsgs(), pongs: this.pongs };
  }

  private arm(): void {
    this.timer = this.clock.setTimeout(() => this.tick(), this.o.pingMs);
  }

  private tick(): void {
    this.arm();
    if (!this.port.connected()) {
      this.state = null; // a new link counts afresh
      return;
    }
    if (this.state === null) {
      this.state = freshLiveness(this.observe());
      this.heardAt = this.clock.monotonic();
    }
    this.sendPing();
    this.afterIo(() => this.judge());
  }

  private sendPing(): void {
    if (this.pingOut) return;
    this.pingOut = true;
    this.port.ping().then(
      () => {
        this.pingOut = false;
        this.pongs++;
      },
      () => {
        this.pingOut = false; // the link dropped: the next link gets a new PING
      },
    );
  }

  private judge(): void {
    if (this.state === null || this.timer === null || !this.port.connected()) return;
    const { state, verdict } = judgeLink(this.state, this.observe(), this.o.maxSilentTicks);
    this.state = state;
    const now = this.clock.monotonic();
    if (verdict === 'alive') this.heardAt = now;
    if (verdict !== 'stale') return;
    this.state = null;
    this.o.onStale({ silentMs: Math.round(now - this.heardAt), silentTicks: state.silentTicks });
    this.port.reconnect();
  }
}

/** The node's link watch on `nc` (runtime/link-watch.ts); its stale verdict is logged, reported, and the link made again. */
export function watchNatsLink(nc: NatsConnection, o: { pingMs: number; maxSilentTicks: number }, up: () => boolean, log: Logger, onStale: () => void): LinkWatch {
  const watch = new LinkWatch(
    systemClock,
    {
      connected: () => up() && !nc.isClosed(),
      inMsgs: () => nc.stats().inMsgs,
      ping: () => nc.flush(),
      reconnect: () => void nc.reconnect().catch(() => {}),
    },
    {
      ...o,
      onStale: (e) => {
        log.warn({ event: 'nats_stale_connection', by: 'watch', silentMs: e.silentMs, silentTicks: e.silentTicks }, 'NATS connection stale: nothing heard from the server');
        onStale();
      },
    },
  );
  watch.start();
  return watch;
}
