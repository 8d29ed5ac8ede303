// One copy of each of a few recurring string values, shared by everyone who holds one: a check's
// verdict history (protocol/verdict.ts) is a new string after every probe, while at 100k checks
// most of them spell the same few values (a healthy check's is all passes once its window is
// full). Held per check, each was 32–120 B (a 64-outcome history after an hour: a sliced string and
// the 65-character string under it); shared, it is a pointer (BENCHMARKS.md §2).
//
// Bounded: past `max` distinct values the table starts over (what callers hold stays valid: a
// shared string is an ordinary string), so values that do not recur — a flapping check's history —
// cost a lookup and no memory. Pure apart from the table; values are never changed.

/** Distinct values a StringShare keeps before it starts over. */
export const STRING_SHARE_MAX = 4096;

export class StringShare {
  private readonly known = new Map<string, string>();

  constructor(private readonly max: number = STRING_SHARE_MAX) {
    if (!(max >= 1)) throw new RangeError(`StringShare max must be at least 1, got ${max}`);
  }

  /** A string equal to `s`: the one this table already holds, else `s` (now held). */
  share(s: string): string {
    const held = this.known.get(s);
    if (held !== undefined) return held;
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(s, s);
    return s;
  }

  /** Distinct values held now (at most `max`). */
  get size(): number {
    return this.known.size;
  }
}
