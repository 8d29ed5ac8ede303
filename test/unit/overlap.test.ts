// protocol/overlap.ts: how many probes two nodes both ran, from a release placed on the receiver's
// wall clock by the peer's estimated offset. Interval 1000 ms; our grid points at every 1000 ms.
import { duplicateProbes, theirProbes } from '../../protocol/overlap';

const I = 1000;

describe('theirProbes: a released check on the receiver’s clock', () => {
  test.each([
    // rc, offsetMs, receivedAt, seqPast → probes
    ['next slot at 10 000 on its clock, clocks agree: the last grid probe at 9 000', { dueInMs: 300, nextAt: 10_000 }, 0, 9_700, undefined, { first: -Infinity, last: 9_000, lastOnGrid: true, cap: Infinity }],
    ['its clock 30 s ahead: moved back by the offset', { dueInMs: 300, nextAt: 40_000 }, 30_000, 9_700, undefined, { first: -Infinity, last: 9_000, lastOnGrid: true, cap: Infinity }],
    ['an older node without nextAt: placed by dueInMs at receipt', { dueInMs: 300 }, 0, 9_700, undefined, { first: -Infinity, last: 9_000, lastOnGrid: true, cap: Infinity }],
    ['ran from 6 000, 4 probes', { dueInMs: 300, nextAt: 10_000, firstAt: 6_000, ran: 4 }, 0, 9_700, undefined, { first: 6_000, last: 9_000, lastOnGrid: true, cap: 4 }],
    ['one catch-up probe after the grid point before its next slot: the last is that probe, off the grid', { dueInMs: 281, nextAt: 10_000, firstAt: 9_288, ran: 1 }, 0, 9_719, undefined, { first: 9_288, last: 9_288, lastOnGrid: false, cap: 1 }],
    ['the seq past ours caps it', { dueInMs: 300, nextAt: 10_000, ran: 9 }, 0, 9_700, 4, { first: -Infinity, last: 9_000, lastOnGrid: true, cap: 4 }],
    ['a seq behind ours: nothing', { dueInMs: 300, nextAt: 10_000 }, 0, 9_700, -2, { first: -Infinity, last: 9_000, lastOnGrid: true, cap: 0 }],
  ])('%s', (_name, rc, offsetMs, receivedAt, seqPast, want) => {
    expect(theirProbes(rc, offsetMs, receivedAt, I, seqPast)).toEqual(want);
  });
});

describe('duplicateProbes: slot intervals start at our grid points', () => {
  const grid = (last: number, first = -Infinity, cap = Infinity) => ({ first, last, lastOnGrid: true, cap });
  test.each([
    // their, ours, grid, expected
    ['we have not probed (since our pause): none', grid(9_000), { first: null }, 0, 0],
    ['their last in the interval before our first: none (late results, not twice)', grid(5_000), { first: 6_400 }, 0, 0],
    ['their last placed 450 ms late (offset error, transit): still rounded to its own grid point: none', grid(5_450), { first: 6_005 }, 0, 0],
    ['their last placed 300 ms early: still the grid point of our first: one', grid(5_700), { first: 6_005 }, 0, 1],
    ['their last in the interval of our first (our catch-up at +400): one', grid(6_000), { first: 6_400 }, 0, 1],
    ['both on the grid for 4 intervals: four', grid(9_000), { first: 6_005 }, 0, 4],
    ['our first a catch-up late in its interval: the grid probe of that interval counts', grid(9_000), { first: 6_900 }, 0, 4],
    ['capped by what they published past our seq', grid(9_000, -Infinity, 2), { first: 6_005 }, 0, 2],
    ['their first after ours: only theirs count', grid(9_000, 8_000), { first: 2_000 }, 0, 2],
    ['we stopped at 7 005: their probes after our last interval do not count', grid(9_000), { first: 6_005, last: 7_005 }, 0, 2],
    ['we stopped in the interval of their last: it counts', grid(9_000), { first: 6_005, last: 9_020 }, 0, 4],
    ['they ran nothing (cap 0)', grid(9_000, -Infinity, 0), { first: 6_005 }, 0, 0],
    ['paused holder: its last probe (3 000) long before our first: none, whatever its next slot said', grid(3_000, 1_000, 3), { first: 6_005 }, 0, 0],
    ['no grid of ours (we handed it on): intervals cut at our first probe', grid(5_030), { first: 6_005 }, undefined, 0],
    ['a lone catch-up off the grid, late in the interval before ours: not rounded into ours', { first: 5_700, last: 5_700, lastOnGrid: false, cap: 1 }, { first: 6_005 }, 0, 0],
  ])('%s', (_name, th, ours, g, want) => {
    expect(duplicateProbes(th, ours, I, g)).toBe(want);
  });
});
