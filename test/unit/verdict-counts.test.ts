// Fleet-wide verdict counts (protocol/verdict-counts.ts): a heartbeat's `verdicts` read as hostile
// input, the sum over members, a check table's and a node's tally (runtime/verdict-tally.ts), the
// verdict filter of state.list and /api/checks, and `lookout cluster`'s line. Pure, no NATS.
import { verdictLine } from '../../cli/format';
import { parseHeartbeat } from '../../protocol/heartbeat';
import { parseStateList } from '../../protocol/state-query';
import { parseChecksQuery } from '../../protocol/status-page-query';
import { emptyCounts, MAX_VERDICT_COUNT, parseVerdictCounts, sumCounts, type VerdictCounts } from '../../protocol/verdict-counts';
import { ManualClock } from '../../runtime/clock';
import { VerdictTally } from '../../runtime/verdict-tally';
import { Registry } from 'prom-client';

const good = { down: 2, degraded: 1, flapping: 0, up: 7, unknown: 3 };
const counts = (c: Partial<VerdictCounts>): VerdictCounts => ({ ...emptyCounts(), ...c });

describe('parseVerdictCounts: hostile heartbeats', () => {
  test.each<[string, unknown, VerdictCounts | null]>([
    ['every verdict a count', good, good],
    ['extra keys are ignored (a later version may count more)', { ...good, paused: 4, __proto__: { up: 1 } }, good],
    ['zeros', emptyCounts(), emptyCounts()],
    ['the bound itself', { ...good, up: MAX_VERDICT_COUNT }, { ...good, up: MAX_VERDICT_COUNT }],
    ['past the bound', { ...good, up: MAX_VERDICT_COUNT + 1 }, null],
    ['negative', { ...good, down: -1 }, null],
    ['fractional', { ...good, down: 1.5 }, null],
    ['a string', { ...good, down: '2' }, null],
    ['NaN-ish (null after JSON)', { ...good, down: null }, null],
    ['Infinity', { ...good, down: Infinity }, null],
    ['a verdict missing', { down: 2, degraded: 1, flapping: 0, up: 7 }, null],
    ['an array', [2, 1, 0, 7, 3], null],
    ['a number', 5, null],
    ['null', null, null],
    ['a count only inherited', Object.create(good), null],
  ])('%s', (_name, raw, want) => {
    expect(parseVerdictCounts(raw)).toEqual(want);
  });

  const hb = { node: 'n1', instance: 'i1', startedAt: 1, incarnation: 0, seq: 1, version: 'v', shards: 2, checks: 3, leaving: false };
  test('a heartbeat keeps good counts, drops bad ones and stays a heartbeat; absent is unknown', () => {
    expect(parseHeartbeat({ ...hb, verdicts: good })?.verdicts).toEqual(good);
    const bad = parseHeartbeat({ ...hb, verdicts: { ...good, up: -3 } });
    expect(bad).toMatchObject({ node: 'n1', checks: 3 });
    expect(bad && 'verdicts' in bad).toBe(false);
    expect(parseHeartbeat(JSON.parse(JSON.stringify({ ...hb, verdicts: { ...good, up: 1e300 } })))?.verdicts).toBeUndefined();
    expect(parseHeartbeat(hb)?.verdicts).toBeUndefined();
  });
});

describe('sumCounts', () => {
  test.each<[string, { node: string; verdicts?: VerdictCounts }[], VerdictCounts, number, string[], string[]]>([
    ['nobody', [], emptyCounts(), 0, [], []],
    ['two members add up', [{ node: 'a', verdicts: counts({ up: 3, down: 1 }) }, { node: 'b', verdicts: counts({ up: 2, flapping: 1, unknown: 4 }) }], counts({ up: 5, down: 1, flapping: 1, unknown: 4 }), 11, ['a', 'b'], []],
    ['a member that does not say is named, not counted as zero checks', [{ node: 'a', verdicts: counts({ degraded: 2 }) }, { node: 'old' }], counts({ degraded: 2 }), 2, ['a'], ['old']],
    ['largest counts stay exact', [{ node: 'a', verdicts: counts({ up: MAX_VERDICT_COUNT }) }, { node: 'b', verdicts: counts({ up: MAX_VERDICT_COUNT }) }], counts({ up: 2 * MAX_VERDICT_COUNT }), 2 * MAX_VERDICT_COUNT, ['a', 'b'], []],
  ])('%s', (_name, members, want, total, reported, unreported) => {
    expect(sumCounts(members)).toEqual({ counts: want, total, reported, unreported });
  });
});

describe('VerdictTally', () => {
  test('sums its sources; reuses a count for maxAgeMs; a removed source stops counting at once', () => {
    const clock = new ManualClock(0);
    const tally = new VerdictTally(clock, 1000);
    let a = counts({ up: 2 });
    const offA = tally.add({ countVerdicts: (into) => Object.entries(a).forEach(([k, n]) => (into[k as keyof VerdictCounts] += n)) });
    tally.add({ countVerdicts: (into) => (into.down += 1) });
    expect(tally.counts()).toEqual(counts({ up: 2, down: 1 }));
    a = counts({ up: 1, degraded: 1 });
    clock.advance(999);
    expect(tally.counts()).toEqual(counts({ up: 2, down: 1 })); // still the kept count
    clock.advance(1);
    expect(tally.counts()).toEqual(counts({ up: 1, degraded: 1, down: 1 }));
    offA();
    expect(tally.counts()).toEqual(counts({ down: 1 }));
    expect(tally.size).toBe(1);
  });

  test('lookout_checks_by_verdict on /metrics: one series per verdict; registering twice is harmless', async () => {
    const tally = new VerdictTally(new ManualClock(0));
    tally.add({ countVerdicts: (into) => ((into.down += 2), (into.up += 5)) });
    const r = new Registry();
    tally.register(r);
    tally.register(r);
    const text = await r.metrics();
    expect(text).toContain('lookout_checks_by_verdict{verdict="down"} 2');
    expect(text).toContain('lookout_checks_by_verdict{verdict="up"} 5');
    expect(text).toContain('lookout_checks_by_verdict{verdict="unknown"} 0');
  });
});

describe('the verdict filter', () => {
  const body = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
  test.each([
    ['down', 'down', true],
    ['unknown', 'unknown', true],
    ['flapping', 'flapping', true],
    ['another case', 'DOWN', false],
    ['empty', '', false],
    ['a list', ['down'], false],
    ['a number', 3, false],
    ['10 000 characters', 'x'.repeat(10_000), false],
  ])('state.list verdict %s → accepted %s', (_name, verdict, ok) => {
    const r = parseStateList(body({ verdict }));
    if (ok) expect(r).toEqual({ ok: true, value: expect.objectContaining({ verdict }) });
    else expect(r).toEqual({ ok: false, error: { code: 'enum', message: '"verdict" must be one of down, degraded, flapping, up, unknown', path: 'verdict' } });
  });

  test('no filter: verdict null', () => {
    expect(parseStateList(body({}))).toMatchObject({ ok: true, value: { verdict: null } });
  });

  test.each([
    ['verdict=down&prefix=web-', { ok: true, value: { verdict: 'down', prefix: 'web-' } }],
    ['verdict=up&verdict=down', { ok: false, error: { code: 'bad_request', path: 'verdict' } }],
    ['verdict=sideways', { ok: false, error: { code: 'enum', path: 'verdict' } }],
    ['verdict=%3Cscript%3E', { ok: false, error: { code: 'enum', path: 'verdict', message: expect.not.stringContaining('<') } }],
    ['verdict=', { ok: false, error: { code: 'enum', path: 'verdict' } }],
  ])('/api/checks?%s', (query, want) => {
    expect(parseChecksQuery(query)).toMatchObject(want);
  });
});

test("lookout cluster's checks line: the counts, the total, and who did not report", () => {
  expect(verdictLine({ counts: good, total: 13, reported: ['a'], unreported: [] })).toBe('2 down · 1 degraded · 0 flapping · 7 up · 3 unknown (13 checks)');
  expect(verdictLine({ counts: { up: 1 }, total: 1, reported: ['a'], unreported: ['b', 'c'] })).toBe('0 down · 0 degraded · 0 flapping · 1 up · 0 unknown (1 checks; not reported by b, c)');
});
