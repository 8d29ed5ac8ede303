// Time is injected. Everything that reads time or arms a timer takes a Clock, so unit tests drive
// it with ManualClock and production uses systemClock. The shape is a superset of XState's Clock
// (setTimeout/clearTimeout), so the same object is passed to createActor({ clock }).

export type TimerHandle = unknown;

export interface Clock {
  /** Wall-clock milliseconds since the Unix epoch (used to align check slots across nodes). */
  now(): number;
  /** Monotonic milliseconds (never jumps back; used for leases and durations). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

interface ManualTimer {
  id: number;
  at: number;
  fn: () => void;
}

/**
 * A clock that only moves when told. `advance(ms)` steps through every timer due in the window
 * in time order (a repeating timer re-armed by its callback fires again within the same advance),
 * so one big advance behaves like many small ones.
 */
export class ManualClock implements Clock {
  private t: number;
  private mono = 0;
  private seq = 0;
  private timers = new Map<number, ManualTimer>();

  /** Starts at a fixed wall-clock instant (2023-11-14T22:13:20Z) so tests print the same times. */
  constructor(startWallMs = 1_700_000_000_000) {
    this.t = startWallMs;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as number);
  }

  /** Number of armed timers (to assert that a component holds one timer, not one per job). */
  get pending(): number {
    return this.timers.size;
  }

  /** Move time forward by `ms`, firing due timers in (time, creation) order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at <= end && (!next || timer.at < next.at || (timer.at === next.at && timer.id < next.id))) next = timer;
      }
      if (!next) break;
      this.timers.delete(next.id);
      const at = Math.max(this.t, next.at); // a timer overdue after stepWall fires now
      this.mono += at - this.t;
      this.t = at;
      next.fn();
    }
    this.mono += end - this.t;
    this.t = end;
  }

  /**
   * The process did not run for `ms` (a stalled event loop, a CPU it waited for): both clocks move
   * on, no timer fires; timers that came due fire, late, on the next advance.
   */
  stall(ms: number): void {
    this.t += ms;
    this.mono += ms;
  }

  /** Jump the wall clock without firing timers or moving the monotonic clock (NTP step). */
  stepWall(ms: number): void {
    this.t += ms;
  }
}
