// Waiting with a deadline, for the tests and the benchmarks alike (test/helpers/poll.ts wraps it
// in an options-object form; bench/lib/util.ts re-exports it). Never a fixed sleep in a test: poll
// until what is awaited is there, and on timeout say what was awaited and what the probe last did.

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Thrown by a waitFor probe to stop waiting at once (e.g. the process being waited on died). */
export class GiveUp extends Error {}

/**
 * Call `probe` until it returns something other than false/undefined/null (or, with `until`,
 * something `until` accepts), or throw after `timeoutMs` naming what was awaited and what the
 * probe last did: "last returned <short JSON>" or "last threw: <message>".
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 30_000, intervalMs = 50, until?: (v: T) => unknown): Promise<NonNullable<Exclude<T, false>>> {
  const deadline = performance.now() + timeoutMs;
  let last = 'never evaluated';
  for (;;) {
    try {
      const v = await probe();
      if (until ? until(v) : v !== false && v !== undefined && v !== null) return v as NonNullable<Exclude<T, false>>;
      last = `returned ${brief(v)}`;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err instanceof Error ? `threw: ${err.message}` : `threw ${brief(err)}`;
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last ${String(last)}`);
    await sleep(intervalMs);
  }
}

/** A short JSON rendering of a value for an error message (at most `max` characters). */
export function brief(v: unknown, max = 400): string {
  let text: string;
  try {
    text = v === undefined ? 'undefined' : typeof v === 'function' ? `[function ${v.name || 'anonymous'}]` : (JSON.stringify(v) ?? String(v));
  } catch {
    text = String(v); // circular or a BigInt
  }
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}
