// Wait by polling with a deadline, never by sleeping a fixed time. On timeout the error names
// what was awaited and the last reason it was not yet true (nats-server's checkFor habit). The
// benchmarks use the same loop (bench/lib/util.ts); this is its options-object form for tests.

import { waitFor as poll } from '../../bench/lib/util';

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Call `probe` until it returns without throwing and its result is not false/undefined/null;
 * return that result. `probe` may throw to explain why it is not ready yet.
 */
export function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: PollOptions = {}): Promise<NonNullable<Exclude<T, false>>> {
  return poll(what, probe, opts.timeoutMs ?? 10_000, opts.intervalMs ?? 20);
}
