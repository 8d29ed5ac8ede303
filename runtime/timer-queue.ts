// One timer for many jobs: a binary min-heap of (due time, owner, id) driven by a single clock timer
// armed for the earliest entry. 100k checks cost 100k small heap entries, not 100k timers
// (DESIGN.md §6: one setTimeout per job at 1M jobs was 635 MB and 25 ms p99 late; a heap 63 MB, 4 ms).
//
// Entries never fire early: if the host timer wakes before the head is due (Node may round a
// timer down by a millisecond), the queue re-arms instead of firing. With a grain (G ms; the node's
// LOOKOUT_TIMER_GRAIN_MS) the timer is armed for the head's due time rounded up to a multiple of G,
// so entries due within one grain fire in one wakeup: at 1,500 probes/s each probe otherwise woke
// the loop on its own, and a 4 ms grain cut the node's CPU per probe by ~10–15% for at most 4 ms
// of lateness (BENCHMARKS.md §1). Due entries are handed out
// in batches of at most `batchSize`, yielding to I/O between batches, so a burst cannot starve
// the event loop.
//
// An entry handed out keeps its object while its owner's onDue runs: an owner that sets the same
// id again (a check's next slot) moves that object back into the heap, so a steady schedule makes
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
 * Whoever set an entry, told when it is due. Entries are keyed by (owner, id): two runners of the
 * same check on one node (one draining or releasing, one starting) are two owners, so neither
 * moves or deletes the other's entries — with no key string per check (at 100k checks a
 * `gen:id` string each was 3 MB, and two more per probe).
 */
export interface DueHandler {
  /** Called once per entry when it is due; `at` is the time it was due, `now` when it fired. */
  onDue(id: string, at: number, now: number): void;
}

interface Entry {
  id: string;
  /**
   * Due, in whole ms since the queue's origin, rounded up (never early): a small integer is stored
   * in the entry itself, where a time since 1970 or a fraction of a ms would be a boxed number per
   * entry (16 B each, 1.6 MB at 100k checks: BENCHMARKS.md §2). Past ~24 days of uptime (2^31 ms)
   * V8 boxes it again: correct, only larger.
   */
  at: number;
  owner: DueHandler;
  /** Position in the heap; OUT while the entry is handed out (its owner's onDue may set it again). */
  index: number;
}

/** The index of an entry that is not in the heap: being handed out. */
const OUT = -1;

export class TimerQueue {
  private heap: Entry[] = [];
  /** Each owner's entries by id (an owner with none has no map). */
  private byOwner = new Map<DueHandler, Map<string, Entry>>();
  private timer: TimerHandle | null = null;
  private armedFor = Infinity;
  private stopped = false;
  /** True while handing out due entries: callbacks may set/delete, the timer is armed once after. */
  private firing = false;
  private held = false;
  private resumeCount = 0;
  /** Monotonic instant the armed timer should fire (to notice it firing far too late). */
  private armedMono = 0;
  private lateWatch: { thresholdMs: number; onLate: (lateMs: number) => void } | null = null;

  /** The clock's time the entries' times count from. */
  private readonly origin: number;

  constructor(
    private readonly clock: Clock,
    private readonly batchSize = 1000,
    /** Round the timer's instant up to a multiple of this (ms; 0: fire each entry at its own time). */
    private readonly grainMs = 0,
  ) {
    this.origin = Math.floor(clock.now());
  }

  get size(): number {
    return this.heap.length;
  }

  /** Due time of `owner`'s entry `id`, or undefined. */
  dueAt(id: string, owner: DueHandler): number | undefined {
    const e = this.byOwner.get(owner)?.get(id);
    return e && e.index !== OUT ? this.origin + e.at : undefined;
  }

  /** Insert `owner`'s entry `id` due at `dueAt` (a clock time), or move it there if present. */
  set(id: string, dueAt: number, owner: DueHandler): void {
    const at = Math.ceil(dueAt - this.origin);
    let entries = this.byOwner.get(owner);
    if (!entries) this.byOwner.set(owner, (entries = new Map()));
    const e = entries.get(id);
    if (e && e.index === OUT) {
      // Handed out just now (set from its own onDue): back into the heap, same object.
      e.at = at;
      e.index = this.heap.length;
      this.heap.push(e);
      this.up(e.index);
    } else if (e) {
      const old = e.at;
      e.at = at;
      if (at < old) this.up(e.index);
      else this.down(e.index);
    } else {
      const entry: Entry = { id, at, owner, index: this.heap.length };
      this.heap.push(entry);
      entries.set(id, entry);
      this.up(entry.index);
    }
    this.arm();
  }

  delete(id: string, owner: DueHandler): boolean {
    const entries = this.byOwner.get(owner);
    const e = entries?.get(id);
    if (!e) return false;
    this.forget(entries!, e);
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

  /** How many times the queue resumed after a hold: probes before a resume and after it are two stretches. */
  get resumes(): number {
    return this.resumeCount;
  }

  /** Fire again: entries that came due while held fire at once (in batches, as always). */
  resume(): void {
    if (!this.held) return;
    this.held = false;
    this.resumeCount++;
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
    const g = this.grainMs;
    const due = head ? this.origin + head.at : Infinity;
    const want = g > 0 && head ? Math.ceil(due / g) * g : due;
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
    const nowAt = now - this.origin;
    let n = 0;
    this.firing = true;
    try {
      while (!this.stopped && !this.held && this.heap.length > 0 && this.heap[0]!.at <= nowAt && n < this.batchSize) {
        const e = this.heap[0]!;
        this.removeAt(0);
        e.index = OUT;
        n++;
        try {
          e.owner.onDue(e.id, this.origin + e.at, now);
        } finally {
          // Not set again by its owner (nor deleted): gone. A later set makes a new entry.
          const entries = this.byOwner.get(e.owner);
          if (e.index === OUT && entries?.get(e.id) === e) this.forget(entries, e);
        }
      }
    } finally {
      this.firing = false;
    }
    if (this.stopped || this.held) return;
    if (n === this.batchSize && this.heap.length > 0 && this.heap[0]!.at <= nowAt) {
      // More are due: yield to I/O, then continue.
      this.armedFor = now;
      this.armedMono = this.clock.monotonic();
      this.timer = this.clock.setTimeout(() => this.fire(), 0);
      return;
    }
    this.arm();
  }

  /** Drop `e` from its owner's entries (and the owner's map once empty). */
  private forget(entries: Map<string, Entry>, e: Entry): void {
    entries.delete(e.id);
    if (entries.size === 0) this.byOwner.delete(e.owner);
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
    return a.at < b.at || (a.at === b.at && a.id < b.id);
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
