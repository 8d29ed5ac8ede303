// Clock offsets from heartbeats (protocol/clock-offset.ts): the least-delayed sample of a window,
// its spread, the skew from the cluster's median, and the crossings of the bound.
import { ClockOffsets, estimateOffset, median, SKEW_CLEAR_RATIO, type ClockReport } from '../../protocol/clock-offset';

describe('estimateOffset: the largest sample of the window (delay only makes a sample smaller)', () => {
  test.each([
    ['too few samples', [5, 6], 3, null],
    ['no samples', [], 1, null],
    ['one sample, minSamples 1', [-30_000], 1, { offsetMs: -30_000, uncertaintyMs: 0, samples: 1 }],
    ['in step, a few ms of delay', [-2, -1, -7, -3], 3, { offsetMs: -1, uncertaintyMs: 6, samples: 4 }],
    ['peer 30 s behind, one heartbeat delayed 900 ms', [-30_001, -30_900, -30_002], 3, { offsetMs: -30_001, uncertaintyMs: 899, samples: 3 }],
    ['peer 2 s ahead', [1_998, 1_999, 1_995], 3, { offsetMs: 1_999, uncertaintyMs: 4, samples: 3 }],
  ])('%s', (_name, samples, minSamples, want) => {
    expect(estimateOffset(samples, minSamples)).toEqual(want);
  });
});

describe('median', () => {
  test.each([
    [[], null],
    [[4], 4],
    [[0, -30_000, 0], 0],
    [[0, 30_000, 30_000], 30_000],
    [[0, 10], 5],
    [[3, 1, 4, 2], 2.5],
  ])('%j → %p', (xs, want) => {
    expect(median(xs)).toBe(want);
  });
});

/** Feed `n` heartbeats per peer: peer clock = ours + offset, each delayed by delays[i % len]. */
function feed(o: ClockOffsets, peers: Record<string, number>, n = 4, delays = [1, 0, 3], instance = 'i1'): void {
  for (let i = 0; i < n; i++) {
    const recvAt = 1_000_000 + i * 100;
    for (const [peer, offset] of Object.entries(peers)) o.sample(peer, instance, recvAt - delays[i % delays.length]! + offset, recvAt);
  }
}

const view = (r: ClockReport) => Object.fromEntries([...r.nodes].map(([n, c]) => [n, [c.offsetMs, c.skewMs]]));

describe('ClockOffsets.report: offset from this node, skew from the median of the live nodes', () => {
  test.each([
    ['three in step', 'a', { b: 0, c: 0 }, ['a', 'b', 'c'], { a: [0, 0], b: [0, 0], c: [0, 0] }],
    ['c 30 s behind, seen from a', 'a', { b: 0, c: -30_000 }, ['a', 'b', 'c'], { a: [0, 0], b: [0, 0], c: [-30_000, -30_000] }],
    ['c 30 s behind, seen from c: the same node is named', 'c', { a: 30_000, b: 30_000 }, ['a', 'b', 'c'], { c: [0, -30_000], a: [30_000, 0], b: [30_000, 0] }],
    ['two nodes: each off by half', 'a', { b: 4_000 }, ['a', 'b'], { a: [0, -2_000], b: [4_000, 2_000] }],
    ['a dead peer keeps its estimate but is not in the median', 'a', { b: 0, c: 0, d: 50_000 }, ['a', 'b', 'c'], { a: [0, 0], b: [0, 0], c: [0, 0], d: [50_000, 50_000] }],
    ['alone: nothing to compare with', 'a', {}, ['a'], { a: [0, 0] }],
  ])('%s', (_name, self, peers, live, want) => {
    const o = new ClockOffsets(self);
    feed(o, peers);
    expect(view(o.report(live, 1000))).toEqual(want);
  });

  test('the least-delayed heartbeat wins, the spread is the uncertainty; a peer needs minSamples first', () => {
    const o = new ClockOffsets('a', 16, 3);
    o.sample('b', 'i1', 10_000 - 500, 10_000); // delayed 500 ms
    o.sample('b', 'i1', 10_100 - 2, 10_100);
    expect(o.estimate('b')).toBeNull();
    o.sample('b', 'i1', 10_200 - 40, 10_200);
    expect(o.estimate('b')).toEqual({ offsetMs: -2, uncertaintyMs: 498, samples: 3 });
  });

  test('only the last `window` samples count: an old least-delayed sample ages out', () => {
    const o = new ClockOffsets('a', 4, 1);
    o.sample('b', 'i1', 1000, 1000); // offset 0
    for (let i = 1; i <= 4; i++) o.sample('b', 'i1', 1000 + i * 100 - 5_000, 1000 + i * 100); // the clock stepped back 5 s
    expect(o.estimate('b')).toEqual({ offsetMs: -5_000, uncertaintyMs: 0, samples: 4 });
  });

  test('a new life of a peer (another instance) starts a new window', () => {
    const o = new ClockOffsets('a', 16, 3);
    feed(o, { b: -30_000 });
    expect(o.estimate('b')!.offsetMs).toBe(-30_000);
    o.sample('b', 'i2', 5_000, 5_000);
    expect(o.estimate('b')).toBeNull();
    feed(o, { b: 0 }, 3, [0], 'i2');
    expect(o.estimate('b')!.offsetMs).toBe(0);
  });

  test('a new life without sentAt (a downgrade to an earlier version) ends the old life\'s estimate', () => {
    const o = new ClockOffsets('a', 16, 3);
    feed(o, { b: -30_000 });
    o.sample('b', 'i1', undefined, 5_000); // the same life, one heartbeat without sentAt: kept
    expect(o.estimate('b')!.offsetMs).toBe(-30_000);
    o.sample('b', 'i2', undefined, 5_000);
    expect(o.estimate('b')).toBeNull();
    expect(o.report(['a', 'b'], 1000).pending).toBe(0); // and it is not waited for
  });

  test('its own heartbeats and non-finite times are not samples', () => {
    const o = new ClockOffsets('a', 16, 1);
    o.sample('a', 'i1', 5, 0);
    o.sample('b', 'i1', Number.NaN, 0);
    expect([...o.report(['a', 'b'], 1000).nodes.keys()]).toEqual(['a']);
  });
});

describe('ClockOffsets.judge: crossings of the bound, with hysteresis', () => {
  const bound = 1000;
  const clear = bound * SKEW_CLEAR_RATIO;
  // Each row: c's offset at successive rounds (a, b in step), and the crossings each round reports.
  test.each([
    ['in step: nothing', [0, 5, -3], [[], [], []]],
    ['30 s behind: raised once, not repeated', [-30_000, -30_000, -29_990], [['c skewed -30000'], [], []]],
    ['back in step: cleared once', [-30_000, 0, 0], [['c skewed -30000'], ['c cleared 0'], []]],
    ['at the bound is not past it', [bound, -bound], [[], []]],
    ['just past, then between clear and bound: stays raised', [bound + 1, clear + 1, clear], [['c skewed 1001'], [], ['c cleared 800']]],
  ])('%s', (_name, offsets, want) => {
    const o = new ClockOffsets('a', 1, 1);
    const got = offsets.map((off) => {
      o.sample('b', 'i1', 1000, 1000);
      o.sample('c', 'i1', 1000 + off, 1000);
      return o.judge(o.report(['a', 'b', 'c'], bound)).map((ch) => `${ch.node} ${ch.to} ${ch.skewMs}`);
    });
    expect(got).toEqual(want);
  });

  test('seen from the skewed node itself, it names itself', () => {
    const o = new ClockOffsets('c', 16, 1);
    feed(o, { a: 30_000, b: 30_000 }, 1, [0]);
    expect(o.judge(o.report(['a', 'b', 'c'], bound))).toEqual([{ node: 'c', to: 'skewed', offsetMs: 0, skewMs: -30_000, uncertaintyMs: 0 }]);
    expect(o.skewed()).toEqual(['c']);
  });

  test('a forgotten peer loses its estimate and its flag', () => {
    const o = new ClockOffsets('a', 16, 1);
    feed(o, { b: 0, c: -30_000 }, 1, [0]);
    expect(o.judge(o.report(['a', 'b', 'c'], bound)).map((c) => c.node)).toEqual(['c']);
    o.forget('c');
    expect(o.skewed()).toEqual([]);
    expect(o.estimate('c')).toBeNull();
    expect(o.judge(o.report(['a', 'b'], bound))).toEqual([]);
  });

  test('window and minSamples are checked', () => {
    expect(() => new ClockOffsets('a', 2, 3)).toThrow();
    expect(() => new ClockOffsets('a', 0, 0)).toThrow();
  });
});

describe('ClockOffsets.judge waits for a complete report', () => {
  test('a live peer still short of samples holds judgement (its clock would be missing from the median)', () => {
    const o = new ClockOffsets('a', 16, 3);
    feed(o, { c: -30_000 }, 3);
    o.sample('b', 'i1', 1_000_000, 1_000_000); // b: one sample so far
    const early = o.report(['a', 'b', 'c'], 1000);
    expect(early.pending).toBe(1);
    expect(view(early)).toEqual({ a: [0, 15_000], c: [-30_000, -15_000] }); // a two-clock median: a looks off too
    expect(o.judge(early)).toEqual([]);
    feed(o, { b: 0 }, 3);
    const full = o.report(['a', 'b', 'c'], 1000);
    expect(full.pending).toBe(0);
    expect(o.judge(full).map((c) => `${c.node} ${c.to} ${c.skewMs}`)).toEqual(['c skewed -30000']);
  });

  test('a peer that never sent sentAt (an earlier version), or a dead one short of samples, is not waited for', () => {
    const o = new ClockOffsets('a', 16, 3);
    feed(o, { b: 0, c: -30_000 }, 3);
    o.sample('d', 'i1', 5, 5); // d is dead: one sample, not live
    const r = o.report(['a', 'b', 'c', 'old'], 1000);
    expect(r.pending).toBe(0);
    expect(o.judge(r).map((c) => c.node)).toEqual(['c']);
  });
});

test('a node that just started does not judge from the first peers it heard: it listens settleMs first', () => {
  // c (30 s behind) has heard a three times and b not yet: a two-clock median would blame a too.
  const o = new ClockOffsets('c', 16, 3, 400);
  feed(o, { a: 30_000 }, 3);
  const early = o.report(['a', 'c'], 1000, 5_000);
  expect(early).toMatchObject({ pending: 0, settling: true });
  expect(view(early)).toEqual({ c: [0, -15_000], a: [30_000, 15_000] });
  expect(o.judge(early)).toEqual([]);
  // By the end of the settle time b has been heard (it would be suspect otherwise).
  feed(o, { b: 30_000 }, 3);
  expect(o.report(['a', 'b', 'c'], 1000, 5_399).settling).toBe(true);
  const settled = o.report(['a', 'b', 'c'], 1000, 5_400);
  expect(settled).toMatchObject({ pending: 0, settling: false });
  expect(o.judge(settled).map((c) => `${c.node} ${c.to} ${c.skewMs}`)).toEqual(['c skewed -30000']);
});
