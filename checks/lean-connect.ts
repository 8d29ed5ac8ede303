// The frame of a lean probe (the HTTP one, checks/http-lean.ts; the TCP connect, checks/tcp-lean.ts):
// one connect through connectTimed (so the address policy is applied at connect, as for every
// probe), one timer for the whole probe, the caller's signal, one outcome settled once — without
// the envelope's Deadline (an AbortController, a Promise.race) and closures per probe
// (checks/probe-envelope.ts). A kind says what it does once connected, and what it adds to the
// outcome; the rest is here and is what the envelope does:
//
//   the timer fires or the signal aborts → `timeout` / `error: aborted`, at once; the socket (or
//                                          the connect attempt, handed over by onSocket) destroyed
//   connect or the kind fails             → networkFailure of the error (refused, dns, denied, …)
//   the kind passes                       → the certificate's days left, then the latency bound
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { certFailure } from './cert-expiry';
import { connectTimed, msSince, type ConnectContext, type ConnectTarget, type ProbeTimings } from './connector';
import { stopFailure } from './deadline';
import { buildOutcome, latencyFailure, networkFailure, type Failure, type OutcomeExtra } from './failures';
import type { ProbeOutcome } from './outcome';
import type { ProbeEnv } from './probe-env';
import type { StopSignal } from './probe-stop';

/** The bounds of a lean probe (the spec's, for its kind). */
export interface LeanLimits {
  timeoutMs: number;
  maxLatencyMs: number | undefined;
  /** tls.minDaysLeft: applied to a pass that has a peer certificate. */
  minDaysLeft: number | undefined;
}

/** The error a stopped probe destroys its socket with (shared: nobody reads its stack). */
const STOPPED = Object.assign(new Error('probe stopped'), { code: 'LOOKOUT_PROBE_STOPPED' });

export abstract class LeanConnect {
  protected readonly start = performance.now();
  protected readonly timings: ProbeTimings = {};
  /** The connect context: the connector puts the peer certificate's expiry in it. */
  private context: ConnectContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The connect attempt in progress, then the connected socket. */
  protected socket: Socket | undefined;
  private connected = false;
  private done = false;

  constructor(
    private readonly limits: LeanLimits,
    /** "host:port" as failures name it. */
    protected readonly endpoint: string,
    private readonly signal: StopSignal | undefined,
    protected readonly env: ProbeEnv,
    private readonly resolve: (outcome: ProbeOutcome) => void,
  ) {}

  /** Start the probe (once the kind's own fields are set). */
  begin(target: ConnectTarget): void {
    this.timer = setTimeout(() => this.finish(stopFailure('timeout', this.limits.timeoutMs)), this.limits.timeoutMs);
    if (this.signal?.aborted) return this.finish(stopFailure('aborted', this.limits.timeoutMs));
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.context = { timings: this.timings, policy: this.env.policy, lookup: this.env.lookup, onSocket: this.onSocket };
    connectTimed(target, this.context).then(this.onConnected, this.onError);
  }

  /** The connection is up (TLS done, if any): talk, then finish. */
  protected abstract opened(socket: Socket): void;

  /** The kind's outcome fields, read when the probe settles (the peer certificate is added here). */
  protected extra(): OutcomeExtra {
    return {};
  }

  private readonly onAbort = (): void => this.finish(stopFailure('aborted', this.limits.timeoutMs));

  private readonly onSocket = (socket: Socket): void => {
    if (this.done) socket.destroy(STOPPED);
    else this.socket = socket;
  };

  private readonly onConnected = (socket: Socket): void => {
    if (this.done) return void socket.destroy();
    this.socket = socket;
    this.connected = true;
    // Past the deadline already, its timer not yet run: a process that was stopped (SIGSTOP, a VM
    // freeze) wakes with the connect's I/O callback ahead of the timers, and a request written
    // now reached the target seconds after its slot, beside the new owner's (the chaos pause
    // scenarios' one uncounted duplicate). The timer's verdict, before anything is sent.
    if (msSince(this.start) >= this.limits.timeoutMs) return this.finish(stopFailure('timeout', this.limits.timeoutMs));
    this.opened(socket);
  };

  protected readonly onError = (err: unknown): void => this.finish(networkFailure(err, this.endpoint, this.env.detail));

  /** Settle once, with `failure` (null: every assertion passed), and release the socket and timer. */
  protected finish(failure: Failure | null): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    // An attempt still connecting is destroyed with an error, which is what stops connectTimed.
    if (this.connected) this.socket!.destroy();
    else this.socket?.destroy(STOPPED);
    const total = msSince(this.start);
    const cert = this.context?.cert;
    const extra = cert ? { ...this.extra(), cert } : this.extra();
    this.resolve(buildOutcome(total, this.timings, failure ?? certFailure(cert, this.limits.minDaysLeft) ?? latencyFailure(total, this.limits.maxLatencyMs), extra));
  }
}
