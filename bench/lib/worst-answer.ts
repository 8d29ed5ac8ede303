// The slowest answer to a request asked over and over while something else runs: how long a server
// held requests of that kind meanwhile (bench/snapshot-read.ts, bench/legacy-check.ts).

import { performance } from 'node:perf_hooks';
import { round } from './util';

export interface WorstAnswer {
  /** The slowest answer (ms, whole), a timeout's wait included. */
  worst: number;
  /** Requests that failed (timed out). */
  timedOut: number;
}

/** Ask `ask` every `everyMs` (after each answer) until the returned stop is called. */
export function worstAnswer(ask: () => Promise<unknown>, everyMs: number): () => Promise<WorstAnswer> {
  let worst = 0;
  let timedOut = 0;
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const t = performance.now();
      await ask().catch(() => timedOut++);
      worst = Math.max(worst, performance.now() - t);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => {
    stopped = true;
    await done;
    return { worst: round(worst, 0), timedOut };
  };
}
