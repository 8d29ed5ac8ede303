// One node's budget of CPU per turn of the event loop for bulk work: loading a snapshot's specs
// into the catalog (actors/spec-feed.ts, one feed per shard) and starting each loaded shard's
// runner (actors/owner-slots.ts). Such work runs in slices of at most `sliceMs`; timers (lease
// renewals, heartbeats, probe deadlines) and sockets run between slices. Off (sliceMs 0) unless
// LOOKOUT_LOAD_SLICE_MS sets it (bin/lookout.ts): then nothing is spent and pieces run at once.
//
// The budget is shared by everyone doing such work, because the event loop is: a count per feed
// (yield every 256 entries) did not bound a turn — every feed that yielded resumed in the same
// check phase, so 77 feeds moved 77 × 256 entries per turn, and at 1M checks every node stalled
// ~3 s loading its ~300k specs and the leader lost its lease (BENCHMARKS.md §16).
//
//   first work while no slice is open ── opens one at once (no wait), and schedules its close
//   spent() ── true once the open slice is sliceMs old: the caller waits with next()
//   the close (setImmediate) ── a new slice for the waiters:
//     a continuation (next: a feed in its entries) ── resumed, the rest of the slice is its: its
//         work runs in microtasks after the close, where the budget cannot tell when it waits
//         again; work under way (next(true)) goes first, so shards load one after another
//     else, while no load is under way (loading()) ── pieces (run: a runner start), one after
//         another while the slice lasts
//   no waiter at the close ── the budget is idle: the next work opens a slice at once
//
// Runner starts wait for the loads under way: a started runner probes and looks up its checks'
// last results, work outside the budget that made each turn long, and at 100k on one node the
// loads then took 5.5 s instead of 0.85 (bench/scale.ts, BENCHMARKS.md §16). Even so, at 100k on
// one node the slices cost the start 1–5 s and the peak RSS up to 30 MiB (not understood yet):
// hence off by default.

/**
 * The slice of bulk work per turn of the event loop measured at 1M checks (ms): a node's own is
 * LOOKOUT_LOAD_SLICE_MS, 0 (off) by default — at 100k on one node the slices cost the start time
 * and peak RSS (BENCHMARKS.md §16), so they are for large starts until that is understood.
 */
export const LOAD_SLICE_MS = 5;
/**
 * The longest run of pieces (runner starts) per turn (ms). Longer than a load's slice: a start's
 * checks begin probing and looking up their last results, work outside the budget that makes each
 * turn long, so 5 ms of starts per turn spread 100k checks' starts over 1.5 s (0.25 s in one turn
 * before), and the first runners' garbage met the last ones' (BENCHMARKS.md §16).
 */
export const PIECE_SLICE_MS = 50;

export interface TurnBudgetOptions {
  sliceMs?: number;
  pieceSliceMs?: number;
  /** Monotonic ms (performance.now in production). */
  now?: () => number;
  /** Runs `fn` on a later turn, after timers and I/O (setImmediate in production). */
  defer?: (fn: () => void) => void;
}

export class TurnBudget {
  /** 0: off — spent() is never true, pieces run at once (the feeds yield on a count of their own). */
  sliceMs: number;
  pieceSliceMs: number;
  private readonly now: () => number;
  private readonly defer: (fn: () => void) => void;
  private sliceStart = 0;
  /** A slice is open (its close is scheduled). */
  private open = false;
  /** Continuations waiting for a slice (next). */
  private readonly continuations: (() => void)[] = [];
  /** Pieces the budget runs itself (run), once no load is under way. */
  private readonly pieces: (() => void)[] = [];
  /** Loads under way (loading): the pieces wait for them. */
  private loads = 0;
  /** Slices opened so far (a gauge for tests and benches). */
  slices = 0;

  constructor(o: TurnBudgetOptions = {}) {
    this.sliceMs = o.sliceMs ?? LOAD_SLICE_MS;
    this.pieceSliceMs = o.pieceSliceMs ?? Math.max(this.sliceMs, PIECE_SLICE_MS);
    this.now = o.now ?? (() => performance.now());
    this.defer = o.defer ?? ((fn) => void setImmediate(fn));
  }

  /** Sets the slice (LOOKOUT_LOAD_SLICE_MS; 0: off); a run of pieces gets at least PIECE_SLICE_MS. */
  configure(sliceMs: number): void {
    this.sliceMs = sliceMs;
    this.pieceSliceMs = Math.max(sliceMs, PIECE_SLICE_MS);
  }

  get on(): boolean {
    return this.sliceMs > 0;
  }

  /** Whether this turn's slice is used up; opens one when none is (work may then go on). */
  spent(): boolean {
    if (!this.on) return false;
    if (!this.open) {
      this.openSlice();
      return false;
    }
    return this.now() - this.sliceStart >= this.sliceMs;
  }

  /**
   * Resolves in a later slice (after the open one closes), in the order asked — or, `first`, ahead
   * of the others: work under way (a feed in the middle of its entries) finishes before the next
   * begins, so its entries are let go sooner and its shard loads sooner.
   */
  next(first = false): Promise<void> {
    return new Promise<void>((resolve) => {
      if (first) this.continuations.unshift(resolve);
      else this.continuations.push(resolve);
      if (!this.open) this.openSlice();
    });
  }

  /**
   * Runs `fn` (one indivisible piece of work) at once while the slice lasts and no load is under
   * way, else in a later slice. The check and the run are one step: pieces asked for in one turn
   * do not all pass the check before the first has run.
   */
  run(fn: () => void): void {
    if (!this.on || (this.loads === 0 && this.pieces.length === 0 && !this.spent())) fn();
    else {
      this.pieces.push(fn);
      if (!this.open) this.openSlice();
    }
  }

  /**
   * A load under way (one that cannot stall: entries read from memory); the pieces wait until it
   * and every other has ended. Returns its end (idempotent).
   */
  loading(): () => void {
    this.loads++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--this.loads === 0 && this.pieces.length > 0 && !this.open) this.openSlice();
    };
  }

  /** Continuations and pieces not resumed or run yet. */
  get queued(): number {
    return this.continuations.length + this.pieces.length;
  }

  private openSlice(): void {
    this.open = true;
    this.slices++;
    this.sliceStart = this.now();
    this.defer(() => this.close());
  }

  /** The open slice ends at this turn; the next one is for the waiters, else the budget is idle. */
  private close(): void {
    this.open = false;
    const cont = this.continuations.shift();
    if (cont) {
      this.openSlice();
      cont();
      return;
    }
    if (this.loads > 0 || this.pieces.length === 0) return;
    this.openSlice();
    for (let fn = this.pieces.shift(); fn; fn = this.pieces.shift()) {
      fn();
      if (this.now() - this.sliceStart >= this.pieceSliceMs) return;
    }
  }
}

/** The budget of this process's event loop (every node in it shares the loop); off until configured. */
export const loadTurns = new TurnBudget({ sliceMs: 0 });
