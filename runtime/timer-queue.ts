// One timer for many jobs: a binary min-heap of (due time, key) driven by a single clock timer
// armed for the earliest entry. 100k checks cost 100k small heap entries, not 100k timers
// (DESIGN.md §6: one setTimeout per job at 1M jobs was 635 MB and 25 ms p99 late; a heap 63 MB, 4 ms).
//
// Entries never fire early: if the host timer wakes before the head is due (Node may round a
// timer down by a millisecond), the queue re-arms instead of firing. Due entries are handed out
// in batches of at most `batchSize`, yielding to I/O between batches, so a burst cannot starve
// the event loop.
//
// An entry handed out keeps its object while its owner's onDue runs: an owner that sets the same
// key again (a check's next slot) moves that object back into the heap, so a steady schedule makes
// no new entries, map slots or boxed times — objects that would otherwise live one interval each,
// outlive every scavenge and be garbage only a full collection finds.
//
// Held (hold/resume): while held nothing fires — entries can still be set, moved and deleted — and
// on resume whatever is due fires at once. The pause guard (actors/pause-guard.ts) holds the queue
// after a pause until the node knows which checks it still owns. The queue can notice a pause
// itself (watchLateness): a timer that fires far later than armed (by the monotonic clock) holds
// the queue before anything fires and reports how late it was.

import { pauseFromLateTimer } from '../protocol/pause';
import type { Clock, TimerHandle } from './clock';

/**
 * The key of check `id` for the runner of generation `gen`. Keys are node-wide: two runners of the
 * same check on one node (one draining or releasing, one starting) must not move or delete each
 * other's entries, so a runner keys its entries by its generation.
 */
export function runnerKey(gen: number, id: string): string {
  return `${gen}:${id}`;
}

/** The check id of a runnerKey. */
export function idOfKey(key: string): string {
  return key.slice(key.indexOf(':') + 1);
}

export interface DueHandler {
  /** Called once per entry when it is due; `at` is the time it was due, `now` when it fired. */
  onDue(key: string, at: number, now: number): void;
}

interface Entry {
  key: string;
  at: number;
  owner: DueHandler;
  /** Position in the heap; OUT while the entry is handed out (its owner's onDue may set it again). */
  index: number;
}

/** The index of an entry that is not in the heap: being handed out. */
const OUT = -1;

export class TimerQueue {
  private heap: Entry[] = [];
  private byKey = new Map<string, Entry>();
  private timer: TimerHandle | null = null;
  private armedFor = Infinity;
  private stopped = false;
  /** True while handing out due entries: callbacks may set/delete, the timer is armed once after. */
  private firing = false;
  private held = false;
  private resumed = -Infinity;
  /** Monotonic instant the armed timer should fire (to notice it firing far too late). */
  private armedMono = 0;
  private lateWatch: { thresholdMs: number; onLate: (lateMs: number) => void } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly batchSize = 1000,
  ) {}

  get size(): number {
    return this.heap.length;
  }

  /** Due time of `key`, or undefined. */
  dueAt(key: string): number | undefined {
    const e = this.byKey.get(key);
    return e && e.index !== OUT ? e.at : undefined;
  }

  /** Insert `key` due at `at`, or move it there if present. */
  set(key: string, at: number, owner: DueHandler): void {
    const e = this.byKey.get(key);
    if (e && e.index === OUT) {
      // Handed out just now (set from its own onDue): back into the heap, same object.
      e.owner = owner;
      e.at = at;
      e.index = this.heap.length;
      this.heap.push(e);
      this.up(e.index);
    } else if (e) {
      e.owner = owner;
      const old = e.at;
      e.at = at;
      if (at < old) this.up(e.index);
      else this.down(e.index);
    } else {
      const entry: Entry = { key, at, owner, index: this.heap.length };
      this.heap.push(entry);
      this.byKey.set(key, entry);
      this.up(entry.index);
    }
    this.arm();
  }

  delete(key: string): boolean {
    const e = this.byKey.get(key);
    if (!e) return false;
    this.byKey.delete(key);
    if (e.index === OUT) return false;
    this.removeAt(e.index);
    this.arm();
    return true;
  }

  /** True between hold() and resume(). */
  get isHeld(): boolean {
    return this.held;
  }

  /** Fire nothing until resume(); entries are kept and may still be set or deleted. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  /** Monotonic instant of the last resume() (-Infinity: never held): probes before it and after are two stretches. */
  get resumedAt(): number {
    return this.resumed;
  }

  /** Fire again: entries that came due while held fire at once (in batches, as always). */
  resume(): void {
    if (!this.held) return;
    this.held = false;
    this.resumed = this.clock.monotonic();
    this.arm();
  }

  /**
   * When the queue's timer fires more than `thresholdMs` (monotonic) after it was meant to, the
   * process was paused: hold the queue before firing anything and call `onLate` with the lateness.
   */
  watchLateness(thresholdMs: number, onLate: (lateMs: number) => void): void {
    this.lateWatch = { thresholdMs, onLate };
  }

  /** Stop firing; entries are kept (a stopped queue is for shutdown). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private arm(): void {
    if (this.stopped || this.firing || this.held) return;
    const head = this.heap[0];
    const want = head ? head.at : Infinity;
    if (want === this.armedFor) return;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = want;
    if (!head) return;
    const delay = Math.max(0, want - this.clock.now());
    this.armedMono = this.clock.monotonic() + delay;
    this.timer = this.clock.setTimeout(() => this.fire(), delay);
  }

  private fire(): void {
    this.timer = null;
    this.armedFor = Infinity;
    if (this.lateWatch) {
      const late = pauseFromLateTimer(this.armedMono, this.clock.monotonic(), this.lateWatch.thresholdMs);
      if (late > 0) {
        this.hold();
        this.lateWatch.onLate(late);
        return;
      }
    }
    const now = this.clock.now();
    let n = 0;
    this.firing = true;
    try {
      while (!this.stopped && !this.held && this.heap.length > 0 && this.heap[0]!.at <= now && n < this.batchSize) {
        const e = this.heap[0]!;
        this.removeAt(0);
        e.index = OUT;
        n++;
        try {
          e.owner.onDue(e.key, e.at, now);
        } finally {
          // Not set again by its owner (nor deleted): gone. A later set makes a new entry.
          if (e.index === OUT && this.byKey.get(e.key) === e) this.byKey.delete(e.key);
        }
      }
    } finally {
      this.firing = false;
    }
    if (this.stopped || this.held) return;
    if (n === this.batchSize && this.heap.length > 0 && this.heap[0]!.at <= now) {
      // More are due: yield to I/O, then continue.
      this.armedFor = now;
      this.armedMono = this.clock.monotonic();
      this.timer = this.clock.setTimeout(() => this.fire(), 0);
      return;
    }
    this.arm();
  }

  /** Take the entry at heap position `i` out of the heap (its map slot is the caller's). */
  private removeAt(i: number): void {
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      last.index = i;
      this.up(i);
      this.down(last.index);
    }
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.at < b.at || (a.at === b.at && a.key < b.key);
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    a.index = j;
    b.index = i;
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}
