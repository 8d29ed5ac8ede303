// What the body worker (checks/body-worker.ts) runs, in which order, and what it refuses. Pure:
// the worker passes the clock's readings in. A job is one check's bodyRegex match or json
// assertions on one body; its `key` names the work that repeats from probe to probe (a pattern,
// a check's JSON), its `chars` the length of the body.
//
//   remembered  work that overran its budget on a body of n characters is refused, without
//               running, for bodies of ≥ n characters during retryMs
//   heavy       work that took ≥ heavyMs recently (retryMs) waits behind all other work, and
//   rationed    does not start while costly work (jobs that took ≥ heavyMs) has used heavyShare
//               of the last windowMs: whatever targets answer, hostile bodies get at most that
//               share of the worker's thread, and the other checks' assertions the rest
//   order       otherwise the shortest body first (its cost grows with the body), first come
//               first served among equals
//
// A body shorter than minCostlyChars cannot make the work costly (RE2's worst is ~7 µs per
// character, JSON.parse's ~0.2 µs: 4 KiB costs at most ~30 ms): when such a job is slow or
// overruns, the machine was busy, so it is neither remembered nor marked heavy — a loaded moment
// must not fail a small health check for the next minute.

/** How long work that overran is refused, and work that was costly goes last. */
export const BODY_OVERRUN_RETRY_MS = 60_000;
/** A job that took this long (a quarter of the worker's budget) is costly: its work goes last for the retry period. */
export const BODY_HEAVY_MS = 50;
/** The share of the worker's time costly work may use, over BODY_SHARE_WINDOW_MS. */
export const BODY_HEAVY_SHARE = 0.5;
export const BODY_SHARE_WINDOW_MS = 2000;
/**
 * Bodies shorter than this cannot make the work costly (minCostlyChars); JSON this short is
 * evaluated on the event loop instead (≤ 0.1 ms warm, 0.7 ms cold in the costliest shape).
 */
export const BODY_SMALL_CHARS = 4096;
/** Keys remembered as overrun or costly. */
export const BODY_MEMORY_LIMIT = 1024;

export interface BodyWorkPolicyOptions {
  retryMs: number;
  heavyMs: number;
  /** Share (0..1) of windowMs that costly work may use. */
  heavyShare: number;
  windowMs: number;
  /** Keys remembered (least recently marked out first). */
  memoryLimit: number;
  /** Bodies shorter than this never mark their work as overrun or heavy. */
  minCostlyChars: number;
}

export interface WorkItem {
  key: string;
  chars: number;
}

export type Refusal = 'remembered' | 'rationed';

export class BodyWorkPolicy {
  private readonly overran = new Map<string, { chars: number; at: number }>();
  private readonly heavy = new Map<string, number>();
  /** Costly jobs that ended within windowMs: when they ended and how long they ran. */
  private costly: { end: number; ms: number }[] = [];

  constructor(private readonly opts: BodyWorkPolicyOptions) {}

  /** On submission: refuse work that overran recently on a body as long. */
  admit(item: WorkItem, now: number): 'run' | 'remembered' {
    const past = this.overran.get(item.key);
    return past && item.chars >= past.chars && now - past.at < this.opts.retryMs ? 'remembered' : 'run';
  }

  /** The index in `queue` of the job to run next (-1 when empty). */
  pick(queue: readonly WorkItem[], now: number): number {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i < queue.length; i++) {
      const rank = (this.isHeavy(queue[i]!.key, now) ? 2 ** 32 : 0) + queue[i]!.chars;
      if (rank < bestRank) {
        best = i;
        bestRank = rank;
      }
    }
    return best;
  }

  /** About to start `item`: 'run', or 'rationed' when it is heavy and costly work had its share. */
  start(item: WorkItem, now: number): 'run' | 'rationed' {
    if (!this.isHeavy(item.key, now)) return 'run';
    return this.costlyMs(now) >= this.opts.heavyShare * this.opts.windowMs ? 'rationed' : 'run';
  }

  /** A job ended after `ms` of wall time (`overran`: stopped at the budget). */
  ended(item: WorkItem, now: number, ms: number, overran: boolean): void {
    if (item.chars < this.opts.minCostlyChars) return;
    if (overran) this.remember(this.overran, item.key, { chars: item.chars, at: now });
    if (overran || ms >= this.opts.heavyMs) {
      this.remember(this.heavy, item.key, now);
      this.costly.push({ end: now, ms });
    }
  }

  /** Wall time costly jobs used in the last windowMs (a job that began before the window counts in part). */
  costlyMs(now: number): number {
    const from = now - this.opts.windowMs;
    this.costly = this.costly.filter((c) => c.end > from);
    return this.costly.reduce((sum, c) => sum + Math.min(c.ms, c.end - from), 0);
  }

  private isHeavy(key: string, now: number): boolean {
    const at = this.heavy.get(key);
    return at !== undefined && now - at < this.opts.retryMs;
  }

  private remember<V>(memory: Map<string, V>, key: string, value: V): void {
    memory.delete(key); // most recent goes last
    if (memory.size >= this.opts.memoryLimit) memory.delete(memory.keys().next().value!);
    memory.set(key, value);
  }
}
