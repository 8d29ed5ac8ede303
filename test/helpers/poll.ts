// Wait by polling with a deadline, never by sleeping a fixed time. On timeout the error names
// what was awaited and what the probe last did: "last returned <short JSON>" or "last threw:
// <message>" (nats-server's checkFor habit). A probe that is not ready should say why — throw an
// Error naming what is missing, or return the value seen — rather than return a bare `false`.
// The benchmarks use the same loop (testkit/wait.ts); this is its options-object form for tests.

import { waitFor as poll } from '../../testkit/wait';

/** Throw this from a probe to stop waiting at once (what is awaited can no longer happen). */
export { GiveUp } from '../../testkit/wait';

export interface PollOptions {
  /** Hang guard: generous, since a loaded 2-core machine runs 3–5x slower. Default 30 s. */
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Call `probe` until `until` accepts what it returns; return that. On timeout the error shows
 * the last value the probe returned (short JSON), e.g. the last cluster.status seen.
 */
export function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: PollOptions & { until: (v: T) => unknown }): Promise<T>;
/**
 * Call `probe` until it returns without throwing and its result is not false/undefined/null;
 * return that result. `probe` may throw to explain why it is not ready yet.
 */
export function waitFor<T>(what: string, probe: () => T | Promise<T>, opts?: PollOptions): Promise<NonNullable<Exclude<T, false>>>;
export function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: PollOptions & { until?: (v: T) => unknown } = {}): Promise<unknown> {
  return poll(what, probe, opts.timeoutMs ?? 30_000, opts.intervalMs ?? 20, opts.until);
}
