// How a probe is told to stop (a runner draining, a check deleted or moved): what a probe reads of
// its stop signal, and the runner's cheap switch that gives it.
//
// A probe reads three things of the signal it is given: `aborted`, and adding and removing one
// 'abort' listener (checks/deadline.ts, checks/lean-connect.ts). An AbortSignal has them, and so
// does ProbeStop — without an AbortController, an AbortSignal, its listener map and a listener
// record per probe. At 100k checks (1,667 probes/s) those were 20–25% of what outlived a scavenge
// (BENCHMARKS.md §2, 2026-12-04 second session): V8 pretenures objects that survive at high rates,
// so each probe's controller went straight to the old generation, to wait for a full collection.

/** What a probe needs of the signal that stops it. An AbortSignal is one; so is ProbeStop. */
export interface StopSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A stop switch for one probe in flight: `abort()` calls the listeners once. A probe adds one
 * (its deadline's or its lean frame's), so one is kept in a field and more in an array made only
 * if asked for. Listeners are always called once: `once` needs no bookkeeping.
 */
export class ProbeStop implements StopSignal {
  private stopped = false;
  private first: (() => void) | null = null;
  private more: (() => void)[] | null = null;

  get aborted(): boolean {
    return this.stopped;
  }

  addEventListener(_type: 'abort', listener: () => void): void {
    if (this.stopped) return;
    if (this.first === null) this.first = listener;
    else (this.more ??= []).push(listener);
  }

  removeEventListener(_type: 'abort', listener: () => void): void {
    if (this.first === listener) this.first = null;
    else if (this.more) {
      const i = this.more.indexOf(listener);
      if (i >= 0) this.more.splice(i, 1);
    }
  }

  /** Stop the probe: each listener is called once (not one removed meanwhile, as with an AbortSignal); later calls do nothing. */
  abort(): void {
    if (this.stopped) return;
    this.stopped = true;
    const first = this.first;
    if (first) {
      this.first = null;
      first();
    }
    while (this.more && this.more.length > 0) this.more.shift()!();
    this.more = null;
  }
}

/**
 * The stop switches of one runner's probes in flight, by token. A Map did this, but a Map that
 * empties reallocates its table (V8 shrinks it on the delete that leaves it empty), and a runner's
 * map emptied after nearly every probe: a new table per probe, kept until that runner's next probe
 * and so outliving scavenges (6% of what survived them at 100k checks, BENCHMARKS.md §2). Here
 * two arrays only grow to the most ever in flight and are reused; a delete moves the last entry
 * into the gap. In flight per runner is a handful, so the scans are short.
 */
export class InFlightStops {
  private readonly tokens: number[] = [];
  private readonly stops: (ProbeStop | undefined)[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  set(token: number, stop: ProbeStop): void {
    const i = this.indexOf(token);
    if (i >= 0) return void (this.stops[i] = stop);
    this.tokens[this.n] = token;
    this.stops[this.n] = stop;
    this.n++;
  }

  get(token: number): ProbeStop | undefined {
    const i = this.indexOf(token);
    return i >= 0 ? this.stops[i] : undefined;
  }

  delete(token: number): boolean {
    const i = this.indexOf(token);
    if (i < 0) return false;
    const last = --this.n;
    this.tokens[i] = this.tokens[last]!;
    this.stops[i] = this.stops[last];
    this.stops[last] = undefined;
    return true;
  }

  /** Abort every probe in flight (a runner's grace period is over); they stay listed until they settle. */
  abortAll(): void {
    // A copy: an abort listener that settled its probe at once could delete entries under the walk.
    for (const stop of this.stops.slice(0, this.n)) stop!.abort();
  }

  private indexOf(token: number): number {
    for (let i = 0; i < this.n; i++) if (this.tokens[i] === token) return i;
    return -1;
  }
}
