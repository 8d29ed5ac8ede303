// The incremental id order: what a page shows after any mix of adds and deletes is what sorting
// every present id would show, whether the changes are folded in by splicing or by merging.
import { firstAfter, foldIn, SortedIds, SPLICE_MAX } from '../../protocol/sorted-ids';

test.each([
  { sorted: [], after: null, want: 0 },
  { sorted: ['a', 'c'], after: null, want: 0 },
  { sorted: ['a', 'c'], after: 'a', want: 1 },
  { sorted: ['a', 'c'], after: 'b', want: 1 },
  { sorted: ['a', 'c'], after: 'c', want: 2 },
  { sorted: ['a', 'c'], after: 'd', want: 2 },
  { sorted: ['B', 'a'], after: 'Z', want: 1 },
])('firstAfter($sorted, $after) = $want', ({ sorted, after, want }) => {
  expect(firstAfter(sorted, after)).toBe(want);
});

const many = (n: number, p: string) => Array.from({ length: n }, (_, i) => `${p}${i}`);

test.each([
  { name: 'adds spliced', sorted: ['b', 'd'], adds: ['e', 'a', 'c'], dels: [], want: ['a', 'b', 'c', 'd', 'e'] },
  { name: 'deletes spliced', sorted: ['a', 'b', 'c'], adds: [], dels: ['a', 'c'], want: ['b'] },
  { name: 'both spliced', sorted: ['a', 'b'], adds: ['c'], dels: ['a'], want: ['b', 'c'] },
  { name: 'everything deleted', sorted: ['a'], adds: [], dels: ['a'], want: [] },
  { name: 'adds merged', sorted: ['m'], adds: many(SPLICE_MAX + 1, 'x'), dels: [], want: ['m', ...many(SPLICE_MAX + 1, 'x').sort()] },
  { name: 'both merged', sorted: ['a', 'm', 'z'], adds: many(SPLICE_MAX, 'b'), dels: ['a', 'z'], want: [...many(SPLICE_MAX, 'b').sort(), 'm'] },
])('foldIn: $name', ({ sorted, adds, dels, want }) => {
  expect(foldIn([...sorted], adds, new Set(dels))).toEqual(want);
});

/** A deterministic generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test.each([1, 2, 3, 4])('random adds, deletes, re-adds and pages agree with a full sort (seed %i)', (seed) => {
  const r = rng(seed);
  const present = new Set<string>();
  const ids = new SortedIds();
  const all = () => present.values();
  for (let step = 0; step < 2000; step++) {
    const burst = r() < 0.1 ? 1 + Math.floor(r() * 3 * SPLICE_MAX) : 1;
    for (let k = 0; k < burst; k++) {
      const id = `c${Math.floor(r() * 300)}`;
      if (present.has(id)) {
        present.delete(id);
        ids.delete(id);
      } else {
        present.add(id);
        ids.add(id);
      }
    }
    if (r() < 0.3) {
      const want = [...present].sort();
      const after = r() < 0.5 ? null : `c${Math.floor(r() * 300)}`;
      const limit = 1 + Math.floor(r() * 50);
      const from = want.filter((id) => after === null || id > after);
      const got = ids.page(all, after, limit);
      expect(got.ids).toEqual(from.slice(0, limit));
      expect(got.next).toBe(from.length > limit ? from[limit - 1] : null);
    }
  }
});

test('before the first page, changes cost nothing and the order is read from the ids once', () => {
  const ids = new SortedIds();
  ids.add('b');
  ids.delete('b');
  let reads = 0;
  const all = () => {
    reads++;
    return ['c', 'a'];
  };
  expect(ids.page(all, null, 10)).toEqual({ ids: ['a', 'c'], next: null });
  ids.add('b');
  expect(ids.page(all, 'a', 1)).toEqual({ ids: ['b'], next: 'b' });
  expect(reads).toBe(1);
});
