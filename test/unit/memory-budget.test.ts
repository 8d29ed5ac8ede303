// LOOKOUT_MEMORY_MB → the V8 flags the node sets itself (runtime/memory-budget.ts): a table of
// budgets and heaps, the flags the user gave winning over the setting, and the setting's parsing.
import { loadConfig } from '../../runtime/config';
import { DEFAULT_MEMORY_MB, heapFlags, planHeap, semiSpaceTarget, userHeapFlags, type HeapSample } from '../../runtime/memory-budget';

const MiB = 1024 * 1024;

/** A heap: sizes in MiB; the old generation takes 1.2 bytes of memory per byte of objects unless said. */
function heap(h: { rss: number; committed: number; young: number; semi: number; live: number; frag?: number }): HeapSample {
  return { rss: h.rss * MiB, heapCommitted: h.committed * MiB, youngCommitted: h.young * MiB, semiSpace: h.semi * MiB, oldLive: h.live * MiB, fragmentation: h.frag ?? 1.2 };
}

test.each([
  [64, 1],
  [100, 1],
  [128, 2],
  [256, 4],
  [512, 8],
  [1024, 16],
  [8192, 16],
])('a budget of %i MiB lets one semi-space grow to %i MiB', (budget, semi) => {
  expect(semiSpaceTarget(budget)).toBe(semi * MiB);
});

test.each([
  // 100k checks: ~100 MiB live, 50 MiB outside the heap, young generation at its target (2 x 4 MiB):
  // room (256 − 50 − 8) / 1.2 = 165 MiB for old objects, 65% above the live set.
  ['100k checks within the default', 256, { rss: 200, committed: 150, young: 8, semi: 4, live: 100 }, ['--heap-growing-percent=65', '--semi-space-growth-factor=1'], false],
  // Young generation below its target: it may grow (V8 doubles it); at the target it stops.
  ['a young generation below its target grows', 256, { rss: 120, committed: 60, young: 4, semi: 2, live: 40 }, ['--heap-growing-percent=100', '--semi-space-growth-factor=2'], false],
  ['at its target: stops growing', 256, { rss: 120, committed: 60, young: 8, semi: 4, live: 40 }, ['--heap-growing-percent=100', '--semi-space-growth-factor=1'], false],
  // Little live: the growth is capped (a live set rising at start would otherwise overshoot).
  ['a small live set: at most 100%', 1024, { rss: 120, committed: 60, young: 8, semi: 4, live: 30 }, ['--heap-growing-percent=100', '--semi-space-growth-factor=2'], false],
  // (256 − 40 outside − 16 young) / 1.2 = 166.7 MiB: 66% above 100 → 65.
  ['a young generation past its target (grown before the flag) stays as it is', 256, { rss: 200, committed: 160, young: 16, semi: 8, live: 100 }, ['--heap-growing-percent=65', '--semi-space-growth-factor=1'], false],
  // Fragmentation measured before the last full collection: (256 − 50 − 8) / 1.5 = 132 MiB → 30%.
  ['a fragmented old generation gets less room', 256, { rss: 200, committed: 150, young: 8, semi: 4, live: 100, frag: 1.5 }, ['--heap-growing-percent=30', '--semi-space-growth-factor=1'], false],
  // Never assumed below 1.1 (198 / 1.1 = 180 MiB → 80%), nor above 2 (198 / 2 = 99 MiB: over budget).
  ['fragmentation is taken as at least 1.1', 256, { rss: 200, committed: 150, young: 8, semi: 4, live: 100, frag: 1 }, ['--heap-growing-percent=80', '--semi-space-growth-factor=1'], false],
  ['and as at most 2', 256, { rss: 200, committed: 150, young: 8, semi: 4, live: 90, frag: 5 }, ['--heap-growing-percent=10', '--semi-space-growth-factor=1'], false],
  ['more live than room: the floor, over budget', 256, { rss: 330, committed: 280, young: 8, semi: 4, live: 200 }, ['--heap-growing-percent=10', '--semi-space-growth-factor=1'], true],
  ['just within: 10% left', 256, { rss: 230, committed: 180, young: 8, semi: 4, live: 150 }, ['--heap-growing-percent=10', '--semi-space-growth-factor=1'], false],
] as const)('%s', (_what, budget, h, flags, over) => {
  const plan = planHeap(budget, heap(h));
  expect(heapFlags(plan)).toEqual(flags);
  expect(plan.overBudget).toBe(over);
});

test('what the user sized with node flags is left to them', () => {
  const h = heap({ rss: 200, committed: 150, young: 8, semi: 4, live: 100 });
  expect(heapFlags(planHeap(256, h, { oldGeneration: true, youngGeneration: false }))).toEqual(['--semi-space-growth-factor=1']);
  expect(heapFlags(planHeap(256, h, { oldGeneration: false, youngGeneration: true }))).toEqual(['--heap-growing-percent=65']);
  expect(heapFlags(planHeap(256, h, { oldGeneration: true, youngGeneration: true }))).toEqual([]);
  // A young generation the user made larger is taken as it is: (256 − 50 − 32) / 1.2 = 145 → 45%.
  expect(heapFlags(planHeap(256, heap({ rss: 200, committed: 150, young: 32, semi: 16, live: 100 }), { oldGeneration: false, youngGeneration: true }))).toEqual(['--heap-growing-percent=45']);
});

test.each([
  [[], undefined, false, false],
  [['--expose-gc', '--cpu-prof'], '--enable-source-maps', false, false],
  [['--max-old-space-size=300'], undefined, true, false],
  [[], '--max_old_space_size=300', true, false],
  [[], '--heap-growing-percent=30 --inspect', true, false],
  [['--max-semi-space-size=2'], undefined, false, true],
  [[], '--max-heap-size=512 --semi-space-growth-factor=1', true, true],
])('node flags %j, NODE_OPTIONS %j: old generation the user\'s %s, young %s', (argv, opts, old, young) => {
  expect(userHeapFlags(argv, opts)).toEqual({ oldGeneration: old, youngGeneration: young });
});

test('LOOKOUT_MEMORY_MB: 256 by default, 0 turns it off, below 64 is refused', () => {
  expect(DEFAULT_MEMORY_MB).toBe(256);
  expect(loadConfig({}).memoryMb).toBe(256);
  expect(loadConfig({ LOOKOUT_MEMORY_MB: '0' }).memoryMb).toBe(0);
  expect(loadConfig({}, ['--memory-mb', '512']).memoryMb).toBe(512);
  expect(() => loadConfig({ LOOKOUT_MEMORY_MB: '32' })).toThrow(/LOOKOUT_MEMORY_MB: expected 0 \(off\) or an integer from 64/);
  expect(() => loadConfig({ LOOKOUT_MEMORY_MB: 'lots' })).toThrow(/LOOKOUT_MEMORY_MB/);
});
