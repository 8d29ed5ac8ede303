// What LOOKOUT_MEMORY_MB asks of V8, as a pure function of the setting and what the heap looks like
// now (runtime/memory-governor.ts samples the heap and applies the flags). No I/O.
//
// Why flags V8 reads while it runs, and not a heap limit: Node takes --max-old-space-size and
// --max-semi-space-size only at start (v8.setFlagsFromString changes nothing afterwards; measured,
// BENCHMARKS.md §2), and a `lookout` that re-executed itself with them would be two processes — a
// SIGKILL or SIGSTOP sent to the one a supervisor knows would miss the one that probes. These two
// flags are read at every collection, so the node sets them itself:
//
//   --heap-growing-percent      how far the old generation may grow past what the last full
//                               collection left alive before the next one starts. V8's own factor
//                               is up to 4x on a large machine: at 100k checks ~100 MB live became
//                               ~400 MB of old space, most of it probe garbage waiting for a
//                               collection (a socket's objects are held by weak handles that only a
//                               full collection clears, so they outlive every scavenge).
//   --semi-space-growth-factor  2 while the young generation is below its target, then 1: it
//                               stops growing (V8's default grows it to 2 x 16 MB, 32 MB resident;
//                               runtime/young-generation-hold.ts holds it from the first line on).
//
// The budget covers the whole process (RSS): what lives outside the V8 heap (code, native buffers,
// sockets) and the young generation are measured and taken off first; the old generation gets the
// rest, divided by its fragmentation (the memory V8 holds for it per byte of objects, measured at
// its fullest, just before a full collection: free gaps between objects still take pages). A live
// set larger than that is over budget: the node then collects as often as the floor allows and
// says so (memory_over_budget); it never stops itself.

/** LOOKOUT_MEMORY_MB when unset. 100k checks on one node needed 246–249 MiB on 2026-11-30, 257–278 MiB on 2026-12-03, 259–271 MiB after that day's cuts, 256–262 on 2026-12-04 and 255–263 after that day's per-probe garbage cut, 249–252 (peaks ≤ 254.4) on 2026-12-05 (BENCHMARKS.md §2). */
export const DEFAULT_MEMORY_MB = 256;
/** The smallest budget accepted (0 turns the governor off). */
export const MIN_MEMORY_MB = 64;
/** Memory per byte of old generation objects assumed before any was measured, and the least ever assumed. */
export const FRAGMENTATION_INITIAL = 1.2;
export const FRAGMENTATION_MIN = 1.1;
/** The most assumed: a measure past it (a sample taken just after a collection) is not the heap at its fullest. */
export const FRAGMENTATION_MAX = 2;
/** Bounds of --heap-growing-percent: below 10% V8 collects nearly back to back; above 100% a live set rising at start overshoots. */
export const GROWING_PERCENT_MIN = 10;
export const GROWING_PERCENT_MAX = 100;
/** Young generation (one semi-space) per budget: 1/64 of it, a power of two from 1 to 16 MiB (V8's default maximum). */
export const SEMI_SPACE_SHARE = 64;

const MiB = 1024 * 1024;

/** The heap as the governor sees it (bytes). */
export interface HeapSample {
  /** Resident set of the process. */
  rss: number;
  /** Memory V8 has committed for all its spaces. */
  heapCommitted: number;
  /** Committed for the young generation (both semi-spaces and its large objects). */
  youngCommitted: number;
  /** Size of one semi-space now. */
  semiSpace: number;
  /** Old generation objects (live or not) after the last full collection; before the first, now. */
  oldLive: number;
  /** Old generation memory per byte of its objects at its fullest (committed / used before the last full collection). */
  fragmentation: number;
}

/** Which settings the user already made with node flags (NODE_OPTIONS or the command line): those are left alone. */
export interface UserHeapFlags {
  oldGeneration: boolean;
  youngGeneration: boolean;
}

export interface HeapPlan {
  /** --heap-growing-percent; 0: the old generation is the user's (V8's own factor). */
  growingPercent: number;
  /** --semi-space-growth-factor; 0: the young generation is the user's. */
  semiSpaceGrowthFactor: 0 | 1 | 2;
  /** The size one semi-space grows to, bytes (0: the user's). */
  semiSpaceTarget: number;
  /** Room for old generation objects, bytes. */
  oldRoom: number;
  /** The live old generation leaves less than the smallest growth step inside the budget. */
  overBudget: boolean;
}

/** The semi-space size the budget allows: 1/64 of it, rounded down to a power of two, 1..16 MiB. */
export function semiSpaceTarget(budgetMb: number): number {
  const want = (budgetMb * MiB) / SEMI_SPACE_SHARE;
  let size = MiB;
  while (size * 2 <= want && size < 16 * MiB) size *= 2;
  return size;
}

/** The plan for a budget of `budgetMb` (> 0) and the heap as sampled. */
export function planHeap(budgetMb: number, heap: HeapSample, user: UserHeapFlags = { oldGeneration: false, youngGeneration: false }): HeapPlan {
  const budget = budgetMb * MiB;
  const target = user.youngGeneration ? 0 : semiSpaceTarget(budgetMb);
  // V8 doubles a semi-space when it grows; the governor hears of a collection only after it, so in
  // a burst of collections one more doubling may land before the flag does.
  const semiSpaceGrowthFactor = user.youngGeneration ? 0 : heap.semiSpace < target ? 2 : 1;
  // Outside the V8 heap (binary, native memory) as measured; the young generation at its target
  // (or as it is, when the user sized it), whichever is larger.
  const outside = Math.max(0, heap.rss - heap.heapCommitted);
  const young = Math.max(heap.youngCommitted, 2 * target);
  const oldRoom = Math.max(0, (budget - outside - young) / Math.min(FRAGMENTATION_MAX, Math.max(FRAGMENTATION_MIN, heap.fragmentation)));
  const live = Math.max(heap.oldLive, MiB);
  // Whole steps of 5%, so that a few MB of noise in the sample does not reset the flag each time.
  const percent = 5 * Math.floor((20 * (oldRoom - live)) / live + 1e-9);
  const overBudget = percent < GROWING_PERCENT_MIN;
  const growingPercent = user.oldGeneration ? 0 : Math.min(GROWING_PERCENT_MAX, Math.max(GROWING_PERCENT_MIN, percent));
  return { growingPercent, semiSpaceGrowthFactor, semiSpaceTarget: target, oldRoom, overBudget };
}

/** The V8 flags that carry a plan out (none for what the user set). */
export function heapFlags(plan: HeapPlan): string[] {
  const out: string[] = [];
  if (plan.growingPercent > 0) out.push(`--heap-growing-percent=${plan.growingPercent}`);
  if (plan.semiSpaceGrowthFactor > 0) out.push(`--semi-space-growth-factor=${plan.semiSpaceGrowthFactor}`);
  return out;
}

const OLD_FLAGS = ['max-old-space-size', 'max-heap-size', 'heap-growing-percent', 'initial-old-space-size'];
const YOUNG_FLAGS = ['max-semi-space-size', 'min-semi-space-size', 'semi-space-growth-factor'];

/** Node flags the user gave (process.execArgv, NODE_OPTIONS) that size the heap themselves. */
export function userHeapFlags(execArgv: readonly string[], nodeOptions: string | undefined): UserHeapFlags {
  const names = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)]
    .filter((a) => a.startsWith('--'))
    .map((a) => a.slice(2).split('=')[0]!.replace(/_/g, '-'));
  return { oldGeneration: names.some((n) => OLD_FLAGS.includes(n)), youngGeneration: names.some((n) => YOUNG_FLAGS.includes(n)) };
}
