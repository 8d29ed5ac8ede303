// protocol/overlap.ts: how many probes two nodes both ran, from a release placed on the receiver's
// clock. Interval 1000 ms; their probes lie on the grid …, last − 1000, last.
import { duplicateProbes, theirProbes } from '../../protocol/overlap';

const I = 1000;

describe('theirProbes: a released check on the receiver’s clock', () => {
  test.each([
    // rc, receivedAt, seqPast → first, last, cap
    ['next due in 300: the last ran 700 ago', { dueInMs: 300 }, 10_000, undefined, { first: -Infinity, last: 9_300, cap: Infinity }],
    ['overdue (held): the last ran before the due slot', { dueInMs: -2_500 }, 10_000, undefined, { first: -Infinity, last: 6_500, cap: Infinity }],
    ['ran for 4 s, 5 probes', { dueInMs: 300, ranForMs: 4_000, ran: 5 }, 10_000, undefined, { first: 6_000, last: 9_300, cap: 5 }],
    ['one catch-up probe off the grid, after the grid point before its next slot: the last is that probe', { dueInMs: 281, ranForMs: 712, ran: 1 }, 10_000, undefined, { first: 9_288, last: 9_288, cap: 1 }],
    ['the seq past ours caps it', { dueInMs: 300, ran: 9 }, 10_000, 4, { first: -Infinity, last: 9_300, cap: 4 }],
    ['a seq behind ours: nothing', { dueInMs: 300 }, 10_000, -2, { first: -Infinity, last: 9_300, cap: 0 }],
  ])('%s', (_name, rc, receivedAt, seqPast, want) => {
    expect(theirProbes(rc, receivedAt, I, seqPast)).toEqual(want);
  });
});

describe('duplicateProbes: slot intervals cut on our grid (grid points at every 1 000 ms)', () => {
  const their = (last: number, first = -Infinity, cap = Infinity) => ({ first, last, cap });
  test.each([
    // their, ours, grid, expected
    ['we have not probed (since our pause): none', their(9_000), { first: null }, 0, 0],
    ['their last in the interval before our first: none (late results, not twice)', their(5_010), { first: 6_400 }, 0, 0],
    ['their last placed 30 ms late by transit, still in the interval before ours: none', their(5_030), { first: 6_005 }, 0, 0],
    ['the same without a grid (cut at our first probe): none', their(5_030), { first: 6_005 }, undefined, 0],
    ['their last in the interval of our first (our catch-up at +400): one', their(6_010), { first: 6_400 }, 0, 1],
    ['both on the grid for 4 intervals: four', their(9_010), { first: 6_005 }, 0, 4],
    ['our first a catch-up late in its interval: the grid probe of that interval counts', their(9_010), { first: 6_900 }, 0, 4],
    ['capped by what they published past our seq', their(9_010, -Infinity, 2), { first: 6_005 }, 0, 2],
    ['their first after ours: only theirs count', their(9_010, 8_000), { first: 2_000 }, 0, 2],
    ['we stopped at 7 005: their probes after our last interval do not count', their(9_010), { first: 6_005, last: 7_005 }, 0, 2],
    ['we stopped in the interval of their last: it counts', their(9_010), { first: 6_005, last: 9_020 }, 0, 4],
    ['they ran nothing (cap 0)', their(9_010, -Infinity, 0), { first: 6_005 }, 0, 0],
  ])('%s', (_name, th, ours, grid, want) => {
    expect(duplicateProbes(th, ours, I, grid)).toBe(want);
  });
});
