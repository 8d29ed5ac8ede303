// Rollups of a check's probes per period (protocol/rollup.ts) and the node's recorder
// (runtime/rollup-recorder.ts) on a manual clock: counts and a latency histogram that add up
// exactly across nodes and periods, percentiles from the summed histogram, stored records read as
// hostile input, one record per check at each period's end, the partial period when the node stops.
import pino from 'pino';
import { bucketOf, LATENCY_BOUNDS_MS, parseRollup, percentileOf, periodStart, RollupAccumulator, summarize, type RollupRecord } from '../../protocol/rollup';
import { rollupSeries } from '../../protocol/rollup-series';
import type { ResultMessage } from '../../protocol/records';
import { ManualClock } from '../../runtime/clock';
import { rollupGrains, RollupRecorder } from '../../runtime/rollup-recorder';
import { subjects } from '../../runtime/subjects';

const H = 3600_000;

test.each([
  [0.3, 0],
  [1, 0],
  [1.01, 1],
  [49, 5],
  [30_000, LATENCY_BOUNDS_MS.length - 1],
  [30_001, LATENCY_BOUNDS_MS.length],
])('latency %d ms → bucket %d', (ms, bucket) => {
  expect(bucketOf(ms)).toBe(bucket);
});

test('percentiles are the upper bound of the bucket holding them; past the last bound or empty: null', () => {
  const b = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
  b[3] = 90; // ≤ 10 ms
  b[6] = 9; // ≤ 100 ms
  b[10] = 1; // ≤ 2000 ms
  expect([percentileOf(b, 0.5), percentileOf(b, 0.9), percentileOf(b, 0.99), percentileOf(b, 1)]).toEqual([10, 10, 100, 2000]);
  expect(percentileOf(new Array(15).fill(0), 0.5)).toBeNull();
  const over = new Array(15).fill(0);
  over[14] = 1;
  expect(percentileOf(over, 0.5)).toBeNull();
});

test('an accumulator counts probes, failures and inconclusive results per check; drained, it starts afresh', () => {
  const acc = new RollupAccumulator();
  for (let i = 0; i < 200; i++) acc.observe(`c${i % 100}`, i % 2, i % 10 !== 0, false, 4); // grows past its first capacity
  acc.observe('c1', 1, false, true, 900); // inconclusive: counted, no latency
  const records = acc.drain('n1', 1000 * H, H);
  expect(records).toHaveLength(100);
  expect(records.find((r) => r.checkId === 'c1')).toEqual({ checkId: 'c1', node: 'n1', vantage: 1, period: 1000 * H, periodMs: H, probes: 3, failures: 0, inconclusive: 1, buckets: [0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], sumMs: 8, maxMs: 4 });
  expect(records.find((r) => r.checkId === 'c0')).toMatchObject({ probes: 2, failures: 2 });
  expect(acc.drain('n1', 1001 * H, H)).toEqual([]);
});

test('a window sums the periods that start in it, from every node (a check that moved mid-period)', () => {
  const rec = (node: string, period: number, probes: number, failures: number, bucket: number): RollupRecord => {
    const buckets = new Array(15).fill(0);
    buckets[bucket] = probes;
    return { checkId: 'c', node, vantage: 0, period, periodMs: H, probes, failures, inconclusive: 0, buckets, sumMs: probes * 10, maxMs: 10 };
  };
  const records = [rec('a', 0, 3600, 0, 3), rec('a', H, 1800, 18, 3), rec('b', H, 1800, 0, 6), rec('b', 2 * H, 3600, 0, 3)];
  expect(summarize(records, H, 2 * H)).toEqual({ probes: 3600, failures: 18, inconclusive: 0, successRatio: 0.995, meanMs: 10, p50Ms: 10, p90Ms: 100, p99Ms: 100, maxMs: 10, periods: 2 });
  expect(summarize(records, 5 * H, 6 * H)).toMatchObject({ probes: 0, successRatio: null, meanMs: null, p50Ms: null, maxMs: null, periods: 0 });
});

test.each([
  ['not an object', 'x'],
  ['a bucket count that is not a count', { buckets: new Array(15).fill(-1) }],
  ['the wrong number of buckets', { buckets: [1] }],
  ['more failures than probes', { failures: 9, probes: 1 }],
  ['a negative latency sum', { sumMs: -1 }],
])('a stored record is hostile input: %s → refused', (_name, over) => {
  const good = { checkId: 'c', node: 'a', vantage: 0, period: 0, periodMs: H, probes: 1, failures: 0, inconclusive: 0, buckets: [1, ...new Array(14).fill(0)], sumMs: 0.5, maxMs: 0.5 };
  expect(parseRollup(good)).toEqual(good);
  expect(parseRollup(typeof over === 'string' ? over : { ...good, ...over })).toBeNull();
});

describe('the recorder', () => {
  const result = (checkId: string, ok: boolean, latencyMs: number): ResultMessage => ({ checkId, ok, latencyMs, vantage: 0, reason: ok ? null : 'status' }) as ResultMessage;

  function recorder(startMs: number) {
    const clock = new ManualClock(startMs);
    const published: { subject: string; msg: RollupRecord }[] = [];
    const deferred: (() => void)[] = [];
    const r = new RollupRecorder({
      bus: { publish: (subject, msg) => void published.push({ subject, msg: msg as RollupRecord }) },
      clock,
      nodeId: 'n1',
      grains: rollupGrains(subjects(), H, 0),
      log: pino({ level: 'silent' }),
      defer: (fn) => void deferred.push(fn),
    });
    r.start();
    return { clock, r, published, runDeferred: () => deferred.splice(0).forEach((fn) => fn()) };
  }

  test('one record per check at the period\'s end, labelled with the period; the next period counts afresh', () => {
    const t0 = 500_000 * H + 20 * 60_000; // 20 minutes into an hour
    const { clock, r, published } = recorder(t0);
    r.observe(result('a', true, 3));
    r.observe(result('a', false, 40));
    r.observe(result('b', true, 1));
    clock.advance(40 * 60_000 - 1);
    expect(published).toEqual([]);
    clock.advance(1);
    expect(published.map((p) => p.subject).sort()).toEqual(['lookout._rollup.a', 'lookout._rollup.b']);
    expect(published.find((p) => p.msg.checkId === 'a')!.msg).toMatchObject({ node: 'n1', period: periodStart(t0, H), periodMs: H, probes: 2, failures: 1 });
    r.observe(result('a', true, 3));
    clock.advance(H);
    expect(published.filter((p) => p.msg.checkId === 'a').map((p) => [p.msg.period, p.msg.probes])).toEqual([
      [periodStart(t0, H), 2],
      [periodStart(t0, H) + H, 1],
    ]);
  });

  test('many checks are published a chunk per turn of the event loop; a stop publishes the partial period at once', () => {
    const { clock, r, published, runDeferred } = recorder(7 * H);
    for (let i = 0; i < 1200; i++) r.observe(result(`c${i}`, true, 2));
    clock.advance(H);
    expect(published).toHaveLength(500);
    runDeferred();
    runDeferred();
    expect(published).toHaveLength(1200);
    r.observe(result('late', true, 2));
    r.stop();
    expect(published.at(-1)!.msg).toMatchObject({ checkId: 'late', period: 8 * H, probes: 1 });
    clock.advance(H);
    expect(published).toHaveLength(1201); // stopped: no timer left
  });
});

test('rollupSeries: one point per period (nodes added up), oldest first, the newest maxPoints, inside the window', () => {
  const rec = (node: string, period: number, probes: number, bucket: number): RollupRecord => {
    const buckets = new Array(LATENCY_BOUNDS_MS.length + 1).fill(0);
    buckets[bucket] = probes;
    return { checkId: 'c', node, vantage: 0, period, periodMs: 1000, probes, failures: 0, inconclusive: 0, buckets, sumMs: probes, maxMs: 1 };
  };
  const records = [rec('a', 3000, 2, 0), rec('b', 3000, 2, 5), rec('a', 1000, 1, 0), rec('a', 2000, 3, 2), rec('a', 9000, 1, 0)];
  const series = rollupSeries(records, 1000, 9000, 2);
  expect(series.map((p) => [p.period, p.periodMs, p.probes, p.p50Ms])).toEqual([
    [new Date(2000).toISOString(), 1000, 3, 5],
    [new Date(3000).toISOString(), 1000, 4, 1],
  ]);
});
