// The catalog: indexed by shard, a shard's specs dropped at once (a node that no longer owns
// it), and the list order kept across sets, deletes and drops.
import { SpecCatalog } from '../../actors/spec-catalog';
import { normalizeSpec } from '../../checks/spec';
import { shardOf } from '../../protocol/hash';

const SHARDS = 4;
const spec = (id: string) => normalizeSpec(id, { kind: 'tcp', target: '127.0.0.1:9', intervalMs: 5000, timeoutMs: 1000 } as never);
const ids = Array.from({ length: 40 }, (_, i) => `c${i}`);

test('dropShard forgets exactly that shard, and the list no longer shows it', () => {
  const c = new SpecCatalog(SHARDS);
  for (const id of ids) c.set(spec(id), 1);
  expect(c.page(null, 100).ids).toEqual([...ids].sort());
  const inTwo = ids.filter((id) => shardOf(id, SHARDS) === 2);
  expect(inTwo.length).toBeGreaterThan(0);
  expect(c.dropShard(2)).toBe(inTwo.length);
  expect(c.dropShard(2)).toBe(0);
  expect(c.inShard(2)).toEqual([]);
  expect(c.size).toBe(ids.length - inTwo.length);
  for (const id of inTwo) expect(c.get(id)).toBeUndefined();
  expect(c.page(null, 100).ids).toEqual(ids.filter((id) => !inTwo.includes(id)).sort());
  c.set(spec(inTwo[0]!), 2);
  expect(c.page(null, 100).ids).toEqual(ids.filter((id) => !inTwo.includes(id) || id === inTwo[0]).sort());
});

test.each([
  { name: 'a newer revision replaces', first: 3, second: 4, want: true },
  { name: 'the same revision is a replay', first: 3, second: 3, want: false },
  { name: 'an older revision is a replay', first: 3, second: 2, want: false },
])('set: $name', ({ first, second, want }) => {
  const c = new SpecCatalog(SHARDS);
  expect(c.set(spec('a'), first)).toBe(true);
  expect(c.set(spec('a'), second)).toBe(want);
  expect(c.get('a')!.revision).toBe(want ? second : first);
});
