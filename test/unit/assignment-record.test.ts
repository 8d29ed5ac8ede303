import { judgeMap, parseAssignment, slotsOf } from '../../protocol/assignment-record';
import type { AssignmentRecord } from '../../protocol/records';

const rec = (term: number, epoch: number): AssignmentRecord => ({ term, epoch, leader: 'a', at: 1, members: ['a', 'b'], shards: [['a', 'b'], ['b', 'a'], ['b'], []] });

describe('judgeMap: which maps a node follows', () => {
  test.each([
    // current, maxTermSeen, incoming → verdict
    [null, 0, [1, 1], 'accept'],
    [[1, 1], 1, [1, 2], 'accept'],
    [[1, 2], 1, [1, 2], 'not_newer'],
    [[1, 2], 1, [1, 1], 'not_newer'],
    [[1, 5], 1, [4, 6], 'accept'], // a new leader continues the epoch
    [[4, 6], 4, [1, 7], 'stale_term'], // a deposed leader's late map
    [[4, 6], 9, [4, 7], 'stale_term'], // a newer leader exists: even a newer epoch of term 4 is refused
    [[4, 6], 9, [9, 7], 'accept'],
    [null, 5, [3, 1], 'stale_term'],
  ] as const)('current %j, max term %i, map %j → %s', (cur, maxTerm, inc, verdict) => {
    expect(judgeMap(cur ? { term: cur[0], epoch: cur[1] } : null, maxTerm, { term: inc[0], epoch: inc[1] })).toBe(verdict);
  });
});

test('slotsOf lists (shard, rank) for a node', () => {
  expect(slotsOf(rec(1, 1), 'a')).toEqual([
    { shard: 0, rank: 0 },
    { shard: 1, rank: 1 },
  ]);
  expect(slotsOf(rec(1, 1), 'b')).toEqual([
    { shard: 0, rank: 1 },
    { shard: 1, rank: 0 },
    { shard: 2, rank: 0 },
  ]);
  expect(slotsOf(rec(1, 1), 'zz')).toEqual([]);
});

test.each([
  ['valid', rec(3, 4), 4, true],
  ['wrong shard count', rec(3, 4), 8, false],
  ['negative term', { ...rec(3, 4), term: -1 }, 4, false],
  ['owners not strings', { ...rec(3, 4), shards: [[1], [], [], []] }, 4, false],
  ['null', null, 4, false],
  ['garbage', 'x', 4, false],
  ['with damped members', { ...rec(3, 4), damped: ['n4'] }, 4, true],
  ['damped not a list of strings', { ...rec(3, 4), damped: [4] }, 4, false],
])('parseAssignment: %s', (_n, raw, count, ok) => {
  expect(parseAssignment(raw, count) !== null).toBe(ok);
});

test('parseAssignment keeps the damped list, and drops an empty one', () => {
  expect(parseAssignment({ ...rec(3, 4), damped: ['n4'] }, 4)?.damped).toEqual(['n4']);
  expect(parseAssignment({ ...rec(3, 4), damped: [] }, 4)).not.toHaveProperty('damped');
});
