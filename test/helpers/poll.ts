// Wait by polling with a deadline, never by sleeping a fixed time. On timeout the error names
// what was awaited and the last reason it was not yet true (nats-server's checkFor habit).

export interface PollOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Call `probe` until it returns without throwing and its result is not false/undefined/null;
 * return that result. `probe` may throw to explain why it is not ready yet.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, opts: PollOptions = {}): Promise<NonNullable<Exclude<T, false>>> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? 20;
  const deadline = performance.now() + timeoutMs;
  let last: unknown = 'never evaluated';
  for (;;) {
    try {
      const v = await probe();
      if (v !== false && v !== undefined && v !== null) return v as NonNullable<Exclude<T, false>>;
      last = `returned ${String(v)}`;
    } catch (err) {
      last = err;
    }
    if (performance.now() >= deadline) {
      const why = last instanceof Error ? last.message : String(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
