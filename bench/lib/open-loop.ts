// An open-loop driver: starts `fire()` at a fixed rate, whatever happened to earlier requests (as
// independent checks on their own timers do), never waiting for answers. A 5 ms tick starts the
// requests due since the last tick (rate-math dueCount), so a late tick catches up in one burst.
// `maxInFlight` bounds the backlog when the prober cannot keep up: requests due past the bound are
// counted as `dropped`, not started, so the achieved rate shows the shortfall.

import { dueCount } from './rate-math';

export interface OpenLoop {
  /** Requests started. */
  issued(): number;
  /** Requests due but not started because `maxInFlight` were already in flight. */
  dropped(): number;
  inFlight(): number;
  stop(): void;
}

export const TICK_MS = 5;

export function openLoop(ratePerSec: number, fire: () => Promise<unknown>, maxInFlight = Infinity): OpenLoop {
  const t0 = performance.now();
  let issued = 0;
  let dropped = 0;
  let inFlight = 0;
  const settle = () => void inFlight--;
  const tick = () => {
    const n = dueCount(ratePerSec, performance.now() - t0, issued + dropped);
    for (let i = 0; i < n; i++) {
      if (inFlight >= maxInFlight) {
        dropped++;
        continue;
      }
      issued++;
      inFlight++;
      fire().then(settle, settle);
    }
  };
  const timer = setInterval(tick, TICK_MS);
  return {
    issued: () => issued,
    dropped: () => dropped,
    inFlight: () => inFlight,
    stop: () => clearInterval(timer),
  };
}
