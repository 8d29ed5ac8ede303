// Shard assignment with relieved members (overloaded: protocol/overload-relief.ts, the quotas in
// protocol/assignment-quotas.ts reliefQuotas): per shape, the primary and total slots each member
// holds once relieved, that rows keep distinct owners, that the relieved map fed back in stays put
// (no flapping between two maps), and that lifting the relief restores a balanced map.
import { assignShards } from '../../protocol/assignment';
import { reliefQuotas } from '../../protocol/assignment-quotas';
import { movedSlots } from '../../protocol/assignment-moves';
import type { ShardMap } from '../../protocol/records';

/** Per member: [rank 0, rank 1, ..., total]. */
function counts(map: ShardMap, nodes: readonly string[]): Record<string, number[]> {
  const r = map[0]!.length;
  const out: Record<string, number[]> = Object.fromEntries(nodes.map((n) => [n, new Array<number>(r + 1).fill(0)]));
  for (const row of map) {
    row.forEach((n, k) => {
      out[n]![k]!++;
      out[n]![r]!++;
    });
  }
  return out;
}

const distinctRows = (map: ShardMap) => map.every((row) => new Set(row).size === row.length);

test.each<[string, string[], number, number, string[], Record<string, number[]>]>([
  // name, members, vantage points, shards, relieved, counts per member [rank 0, …, total]
  ['2 nodes, 3 vantage points (r = n): the relieved node gives up primaries, keeps its place in every row', ['a', 'b'], 3, 256, ['b'], { a: [192, 64, 256], b: [64, 192, 256] }],
  ['3 nodes, r = n', ['a', 'b', 'c'], 3, 256, ['c'], { a: [107, 85, 64, 256], b: [107, 85, 64, 256], c: [42, 86, 128, 256] }],
  ['4 nodes, 3 vantage points: fewer primaries and fewer slots in all', ['a', 'b', 'c', 'd'], 3, 256, ['d'], { a: [75, 64, 64, 203], b: [75, 64, 64, 203], c: [74, 64, 64, 202], d: [32, 64, 64, 160] }],
  ['5 nodes, one vantage point, two relieved', ['a', 'b', 'c', 'd', 'e'], 1, 256, ['a', 'b'], { a: [25, 25], b: [25, 25], c: [69, 69], d: [69, 69], e: [68, 68] }],
  ['every member relieved: nobody could take the load, the map is balanced', ['a', 'b'], 3, 256, ['a', 'b'], { a: [128, 128, 256], b: [128, 128, 256] }],
  ['a fair share under two: the relieved member may hold no primary', ['a', 'b', 'c'], 1, 4, ['c'], { a: [2, 2], b: [2, 2], c: [0, 0] }],
  ['relieving a node that is not a member changes nothing', ['a', 'b'], 1, 10, ['z'], { a: [5, 5], b: [5, 5] }],
])('%s', (_name, nodes, vantage, shards, relieved, want) => {
  const balanced = assignShards(nodes, null, shards, vantage);
  const map = assignShards(nodes, balanced, shards, vantage, relieved);
  expect(distinctRows(map)).toBe(true);
  expect(map.every((row) => row.length === Math.min(vantage, nodes.length))).toBe(true);
  const got = counts(map, nodes);
  // Per member the shape, not who got the odd +1 (that follows the hash): compare sorted by member.
  expect(got).toEqual(want);
  // Fed back in with the same relief: the map stays put (a write changes nothing, no flapping).
  expect(movedSlots(map, assignShards(nodes, map, shards, vantage, relieved))).toBe(0);
  // Relief lifted: balanced again.
  const back = counts(assignShards(nodes, map, shards, vantage), nodes);
  const primaries = Object.values(back).map((c) => c[0]!);
  expect(Math.max(...primaries) - Math.min(...primaries)).toBeLessThanOrEqual(1);
});

test.each<[string, number, number[], boolean[], number[]]>([
  // name, shards, held at rank 0, relieved flags, want quotas
  ['one of two relieved', 256, [128, 128], [false, true], [192, 64]],
  ['the +1 goes to the member already holding more (sticky)', 257, [100, 150, 7], [false, false, true], [107, 108, 42]],
  ['two of four relieved', 256, [64, 64, 64, 64], [true, false, true, false], [32, 96, 32, 96]],
])('reliefQuotas: %s', (_name, S, held, light, want) => {
  const n = held.length;
  const base = Math.floor(S / n);
  expect(reliefQuotas({ n, S, base, isRelieved: (u) => light[u]! }, held)).toEqual(want);
});
