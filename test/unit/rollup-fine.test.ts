// The fine grain of the rollups beside the rollup period (protocol/rollup.ts, protocol/rollup-series.ts,
// runtime/rollup-recorder.ts, protocol/state-query.ts) on a manual clock: one accumulator per grain,
// the fine one holding only checks probed more often than its period, the fine records of an hour
// add up exactly to its hourly record (histograms added), and a history request picks its series'
// grain from a bounded field.
import pino from 'pino';
import { UsageError } from '../../cli/client-args';
import { parseLast } from '../../cli/state';
import { formatSeries, spanText, type HistoryReply } from '../../cli/state-format';
import { LATENCY_BOUNDS_MS, summarize, type RollupRecord } from '../../protocol/rollup';
import { FINE_SERIES_MAX_POINTS, pickSeries, wantsFine, type SeriesAsk } from '../../protocol/rollup-series';
import type { ResultMessage } from '../../protocol/records';
import { parseHistory } from '../../protocol/state-query';
import { ManualClock } from '../../runtime/clock';
import { loadConfig } from '../../runtime/config';
import { rollupGrains, RollupRecorder } from '../../runtime/rollup-recorder';
import { subjects } from '../../runtime/subjects';

const M = 60_000;
const H = 3600_000;

const sumOf = (records: readonly RollupRecord[]) => {
  const s = summarize(records, -Infinity, Infinity);
  const buckets = new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0);
  for (const r of records) r.buckets.forEach((n, i) => (buckets[i]! += n));
  return { probes: s.probes, failures: s.failures, inconclusive: s.inconclusive, buckets, maxMs: s.maxMs };
};

describe('one accumulator per grain', () => {
  test('the fine grain holds only the checks probed more often than its period; draining one grain leaves the other whole', () => {
    const clock = new ManualClock(400_000 * H + 5);
    const published: { subject: string; msg: RollupRecord }[] = [];
    const r = new RollupRecorder({ bus: { publish: (subject, msg) => void published.push({ subject, msg: msg as RollupRecord }) }, clock, nodeId: 'n1', grains: rollupGrains(subjects(), H, M), log: pino({ level: 'silent' }) });
    r.start();
    const result = (checkId: string, intervalMs: number, ok = true, reason: string | null = null): ResultMessage => ({ checkId, ok, latencyMs: 5, intervalMs, vantage: 0, reason }) as ResultMessage;
    for (let i = 0; i < 100; i++) r.observe(result(`slow${i}`, M)); // 100k checks at 60 s, scaled down: no fine rows
    for (let i = 0; i < 10; i++) r.observe(result(`fast${i}`, 10_000));
    r.observe(result('fast0', 10_000, false, 'inconclusive'));
    expect(r.held()).toEqual([110, 10]);
    clock.advance(M); // the fine period ends: its records out, its rows gone; the hour's counts stay
    expect(r.held()).toEqual([110, 0]);
    const fine = published.filter((p) => p.subject.startsWith('lookout._rollup_fine.')).map((p) => p.msg);
    expect(fine.map((f) => f.checkId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `fast${i}`).sort());
    expect(fine.find((f) => f.checkId === 'fast0')).toMatchObject({ probes: 2, inconclusive: 1 });
    r.stop();
    const coarse = published.filter((p) => p.subject.startsWith('lookout._rollup.')).map((p) => p.msg);
    expect(coarse).toHaveLength(110);
    expect(coarse.find((f) => f.checkId === 'fast0')).toMatchObject({ probes: 2, inconclusive: 1 });
    expect(r.held()).toEqual([0, 0]);
  });
});

describe('the recorder with a fine grain', () => {
  const result = (checkId: string, ok: boolean, latencyMs: number, intervalMs = 30_000): ResultMessage => ({ checkId, ok, latencyMs, intervalMs, vantage: 0, reason: ok ? null : 'status' }) as ResultMessage;

  test.each([
    ['probed every 30 s: both grains', 30_000, ['_rollup', '_rollup_fine']],
    ['probed once a minute (the fine period): the hourly grain only', M, ['_rollup']],
    ['probed every 5 min: the hourly grain only', 5 * M, ['_rollup']],
  ])('a check %s', (_what, intervalMs, tokens) => {
    const clock = new ManualClock(400_000 * H + 5);
    const published: string[] = [];
    const r = new RollupRecorder({ bus: { publish: (subject) => void published.push(subject.split('.')[1]!) }, clock, nodeId: 'n1', grains: rollupGrains(subjects(), H, M), log: pino({ level: 'silent' }) });
    r.start();
    r.observe(result('a', true, 2, intervalMs));
    r.stop();
    expect(published).toEqual(tokens);
  });

  test('fine records each minute on <prefix>._rollup_fine.<id>, the hourly one on _rollup.<id>, adding up exactly; a stop publishes both partial periods', () => {
    const t0 = 400_000 * H;
    const clock = new ManualClock(t0 + 30 * M + 5);
    const published: { subject: string; msg: RollupRecord }[] = [];
    const r = new RollupRecorder({ bus: { publish: (subject, msg) => void published.push({ subject, msg: msg as RollupRecord }) }, clock, nodeId: 'n1', grains: rollupGrains(subjects(), H, M), log: pino({ level: 'silent' }) });
    r.start();
    for (let minute = 0; minute < 30; minute++) {
      r.observe(result('a', minute % 7 !== 0, 1 + minute * 10));
      r.observe(result('a', true, 2));
      clock.advance(M);
    }
    const fine = published.filter((p) => p.subject === 'lookout._rollup_fine.a').map((p) => p.msg);
    const coarse = published.filter((p) => p.subject === 'lookout._rollup.a').map((p) => p.msg);
    expect(fine).toHaveLength(30);
    expect(fine.every((f) => f.periodMs === M)).toBe(true);
    expect(fine[0]!.period).toBe(t0 + 30 * M);
    expect(coarse).toEqual([expect.objectContaining({ period: t0, periodMs: H, probes: 60 })]);
    expect(sumOf(fine)).toEqual(sumOf(coarse));
    r.observe(result('a', true, 3));
    clock.advance(M / 2);
    r.stop();
    expect(published.slice(-2).map((p) => [p.subject, p.msg.period, p.msg.probes])).toEqual([
      ['lookout._rollup.a', t0 + H, 1],
      ['lookout._rollup_fine.a', t0 + H, 1],
    ]);
    const n = published.length;
    clock.advance(2 * H);
    expect(published).toHaveLength(n); // stopped: no timer left
  });

  test.each([
    [H, M, ['_rollup', '_rollup_fine']],
    [H, 0, ['_rollup']],
    [0, M, ['_rollup_fine']],
    [0, 0, []],
  ])('grains for period %d and fine period %d', (period, fine, tokens) => {
    expect(rollupGrains(subjects(), period, fine).map((g) => g.subject('x').split('.')[1])).toEqual(tokens);
  });
});

describe('which grain a history series is at', () => {
  const now = 1000 * H;
  const ask = (over: Partial<SeriesAsk>): SeriesAsk => ({ grain: 'coarse', fromMs: now - 24 * H, toMs: now, nowMs: now, fineMaxAgeMs: 24 * H, ...over });
  test.each([
    ['coarse, whatever the range', ask({}), false],
    ['fine, whatever the range', ask({ grain: 'fine', fromMs: now - 30 * 24 * H }), true],
    ['auto, the last 24 h', ask({ grain: 'auto' }), true],
    ['auto, the last hour', ask({ grain: 'auto', fromMs: now - H }), true],
    ['auto, reaching past the fine records', ask({ grain: 'auto', fromMs: now - 24 * H - 1 }), false],
    ['auto, 7 days', ask({ grain: 'auto', fromMs: now - 7 * 24 * H }), false],
    ['auto, the fine grain off here', ask({ grain: 'auto', fromMs: now - H, fineMaxAgeMs: 0 }), false],
  ])('%s → reads the fine records: %s', (_name, a, fine) => {
    expect(wantsFine(a)).toBe(fine);
  });

  const rec = (period: number, periodMs: number, probes: number): RollupRecord => ({ checkId: 'c', node: 'n', vantage: 0, period, periodMs, probes, failures: 0, inconclusive: 0, buckets: [probes, ...new Array(LATENCY_BOUNDS_MS.length).fill(0)], sumMs: probes, maxMs: 1 });
  const coarse = [rec(now - 2 * H, H, 60), rec(now - H, H, 60)];
  const fine = Array.from({ length: 120 }, (_, i) => rec(now - 2 * H + i * M, M, 1));

  test.each([
    ['coarse', ask({}), coarse, fine, 'coarse', 2, H],
    ['fine', ask({ grain: 'fine', fromMs: now - H }), coarse, fine, 'fine', 60, M],
    ['fine with no fine record: an empty fine series, as asked', ask({ grain: 'fine' }), coarse, [], 'fine', 0, null],
    ['auto with fine records', ask({ grain: 'auto' }), coarse, fine, 'fine', 120, M],
    ['auto with none (fine off where it was probed): coarse', ask({ grain: 'auto' }), coarse, [], 'coarse', 2, H],
    ['auto over 7 days', ask({ grain: 'auto', fromMs: now - 7 * 24 * H }), coarse, fine, 'coarse', 2, H],
    ['auto, the fine records reaching back only into the newer hour (byte cap): coarse', ask({ grain: 'auto' }), coarse, fine.slice(60), 'coarse', 2, H],
    ['auto, the fine records starting inside the older hour: fine', ask({ grain: 'auto' }), coarse, fine.slice(59), 'fine', 61, M],
    ['auto, a new check: fine records, no ended hour yet', ask({ grain: 'auto' }), [], fine.slice(100), 'fine', 20, M],
  ] as const)('%s', (_name, a, c, f, grain, points, periodMs) => {
    const s = pickSeries(a, c, f);
    expect([s.grain, s.series.length, s.series[0]?.periodMs ?? null]).toEqual([grain, points, periodMs]);
    // However it is cut, a series counts the same probes over the same time.
    if (f.length === fine.length) expect(s.series.reduce((n, p) => n + p.probes, 0)).toBe(points === 0 ? 0 : a.fromMs <= now - 2 * H ? 120 : 60);
  });

  test('a fine series keeps the newest FINE_SERIES_MAX_POINTS periods', () => {
    const many = Array.from({ length: FINE_SERIES_MAX_POINTS + 10 }, (_, i) => rec(now - (FINE_SERIES_MAX_POINTS + 10 - i) * 1000, 1000, 1));
    const s = pickSeries(ask({ grain: 'fine' }), [], many);
    expect(s.series).toHaveLength(FINE_SERIES_MAX_POINTS);
    expect(s.series.at(-1)!.period).toBe(new Date(now - 1000).toISOString());
  });
});

test.each([
  ['no grain: coarse', {}, { ok: true, value: { grain: 'coarse' } }],
  ['fine', { grain: 'fine' }, { ok: true, value: { grain: 'fine' } }],
  ['auto with a range', { grain: 'auto', from: '2026-12-01T00:00:00Z' }, { ok: true, value: { grain: 'auto', fromMs: Date.parse('2026-12-01T00:00:00Z') } }],
  ['an unknown grain', { grain: 'minute' }, { ok: false, error: { code: 'enum', path: 'grain' } }],
  ['a grain that is no string', { grain: 60_000 }, { ok: false, error: { code: 'enum', path: 'grain' } }],
  ['an inherited name', { grain: 'toString' }, { ok: false, error: { code: 'enum', path: 'grain' } }],
])('history request: %s', (_name, body, want) => {
  expect(parseHistory(Buffer.from(JSON.stringify(body)), Date.parse('2026-12-02T00:00:00Z'))).toMatchObject(want);
});

test('settings: the fine period a minute by default, 0 off, at least a second; its stream 24 h, 1600 per check, 256 MiB', () => {
  expect(loadConfig({})).toMatchObject({ rollupFinePeriodMs: 60_000, rollupsFineMaxAgeMs: 86_400_000, rollupsFinePerCheck: 1600, rollupsFineMaxBytes: 256 * 1024 * 1024 });
  expect(loadConfig({ LOOKOUT_ROLLUP_FINE_PERIOD_MS: '0' }).rollupFinePeriodMs).toBe(0);
  expect(loadConfig({ LOOKOUT_ROLLUP_FINE_PERIOD_MS: '1000' }).rollupFinePeriodMs).toBe(1000);
  expect(() => loadConfig({ LOOKOUT_ROLLUP_FINE_PERIOD_MS: '999' })).toThrow(/LOOKOUT_ROLLUP_FINE_PERIOD_MS.*expected 0 \(off\) or an integer from 1000/);
  expect(() => loadConfig({ LOOKOUT_ROLLUPS_FINE_MAX_BYTES: '1000' })).toThrow(/LOOKOUT_ROLLUPS_FINE_MAX_BYTES/);
});

describe('lookout history --grain: the series as printed', () => {
  test.each([
    [1000, '1s'],
    [60_000, '1m'],
    [3_600_000, '1h'],
    [90_000, '90s'],
    [1500, '1500ms'],
  ])('%d ms → %s', (ms, text) => {
    expect(spanText(ms)).toBe(text);
  });

  const reply = (series: HistoryReply['series'], grain?: string): HistoryReply => ({ checkId: 'c', verdict: 'up', since: null, uptime: {}, from: '2026-12-02T15:00:00.000Z', to: '2026-12-02T16:00:00.000Z', range: { ratio: 1, changes: 0 }, changes: [], series, ...(grain ? { grain } : {}) });

  test('one row per period; none said as such; a reply from an older node (no grain) is coarse', () => {
    const out = formatSeries(reply([{ period: '2026-12-02T15:01:00.000Z', periodMs: 60_000, probes: 6, failures: 1, inconclusive: 0, meanMs: 12.34, p50Ms: 20, p90Ms: 50, maxMs: 40.5 }], 'fine'));
    expect(out.split('\n')).toEqual([
      'fine periods of 1m from 2026-12-02 15:00:00 to 2026-12-02 16:00:00 UTC: 1',
      'PERIOD               PROBES  FAILED  ??  MEAN    P50    P90    MAX',
      '2026-12-02 15:01:00  6       1       0   12.3ms  ≤20ms  ≤50ms  40.5ms',
    ]);
    expect(formatSeries(reply([]))).toBe('coarse periods from 2026-12-02 15:00:00 to 2026-12-02 16:00:00 UTC: 0');
  });
});

test.each([
  ['30m', 30 * M],
  ['1h', H],
  [' 24h ', 24 * H],
  ['7d', 7 * 24 * H],
  ['31d', 31 * 24 * H],
])('--last %s → %d ms', (raw, ms) => {
  expect(parseLast(raw)).toBe(ms);
});

test.each(['0m', '32d', '1w', '1.5h', '-1h', 'h', '', '99999999m', '1h; rm'])('--last %j is a usage error', (raw) => {
  expect(() => parseLast(raw)).toThrow(UsageError);
  expect(() => parseLast(raw)).toThrow(/--last: expected a duration such as 30m, 1h, 24h or 7d/);
});
