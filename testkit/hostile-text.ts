// Hostile inputs for the body worker, shared by tests and benchmarks (checks/body-worker.ts).

/**
 * RE2-valid and linear — and still ~0.5 s per 64 KiB in re2js: the DFA for "an a, then exactly
 * 500 more of [abc]" has too many states, so the engine falls back to the NFA (BENCHMARKS.md §6).
 */
export const BLOW_UP = '(a|b|c)*a(a|b|c){500}(d|e)';

/** `chars` characters of seeded text over "abc" ending in "d": BLOW_UP must scan all of it. */
export function abcText(chars: number): string {
  let a = 7;
  const out = Buffer.alloc(chars, 'd');
  for (let i = 0; i < chars - 1; i++) {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    out[i] = 0x61 + (a % 3);
  }
  return out.toString('latin1');
}
