// The one deadline of a probe (see Deadline).
import { performance } from 'node:perf_hooks';
import { msSince } from './connector';
import { FailureReason } from './outcome';
import type { Failure } from './failures';
import type { StopSignal } from './probe-stop';

/** What Deadline.race returns when the probe was stopped before its work settled. */
export const STOPPED: unique symbol = Symbol('stopped');

/** Why a probe was stopped, as its result says it: the deadline passed, or the caller aborted. */
export function stopFailure(cause: 'timeout' | 'aborted', timeoutMs: number): Failure {
  if (cause === 'timeout') return { reason: FailureReason.timeout, message: `timed out after ${timeoutMs} ms` };
  return { reason: FailureReason.error, message: 'aborted' };
}

/**
 * The one deadline of a probe: a single timer covering dns + connect + tls + request + body.
 * Per-phase timeouts would add up, and undici's own timers have ~1 s resolution; one timer
 * feeding one AbortController stops everything within a few ms of `timeoutMs`. An external
 * signal (shutdown) stops the probe the same way.
 */
export class Deadline {
  readonly start = performance.now();
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly unlinkExternal: () => void;
  private cause: 'timeout' | 'aborted' | null = null;
  private notifyStopped!: () => void;
  private readonly stopped = new Promise<void>((resolve) => (this.notifyStopped = resolve));

  constructor(
    readonly timeoutMs: number,
    external?: StopSignal,
  ) {
    this.timer = setTimeout(() => this.stop('timeout'), timeoutMs);
    const onExternal = (): void => this.stop('aborted');
    external?.addEventListener('abort', onExternal, { once: true });
    this.unlinkExternal = () => external?.removeEventListener('abort', onExternal);
    if (external?.aborted) this.stop('aborted');
  }

  /** Aborts when the deadline expires or the external signal aborts. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Why the probe was stopped; null while it may still run. */
  get failure(): Failure | null {
    return this.cause ? stopFailure(this.cause, this.timeoutMs) : null;
  }

  elapsed(): number {
    return msSince(this.start);
  }

  /** `work`'s result, or STOPPED as soon as the probe is stopped (even if `work` never settles). */
  race<T>(work: Promise<T>): Promise<T | typeof STOPPED> {
    return Promise.race([work, this.stopped.then((): typeof STOPPED => STOPPED)]);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.unlinkExternal();
  }

  private stop(cause: 'timeout' | 'aborted'): void {
    if (this.cause) return;
    this.cause = cause;
    // Settle `stopped` first so race() prefers it to the errors the abort is about to cause.
    this.notifyStopped();
    this.controller.abort(new Error(cause === 'timeout' ? `timed out after ${this.timeoutMs} ms` : 'aborted'));
  }
}

