// The chaos suite's invariant checker (testkit/chaos/invariants.ts): table tests over hand-made
// target, result and event logs — one clean run, then one fault of each kind the checker must see.

import { checkInvariants, crashGapBound, type ChaosInput, type ChaosRow, type Hit, type LogEvent, type ResultRecord, type StatusRecord } from '../../testkit/chaos/invariants';
import { formatTable, tableRow } from '../../testkit/chaos/table';

const I = 1000;
const W = { from: 0, to: 10_000 };

/** Hits of `check` every interval from `from` (plus `offset`) up to the window's end, except at `skip`. */
function steady(check: string, o: { from?: number; to?: number; offset?: number; skip?: number[] } = {}): Hit[] {
  const out: Hit[] = [];
  for (let t = (o.from ?? 0) + (o.offset ?? 5); t < (o.to ?? W.to); t += I) if (!(o.skip ?? []).some((s) => Math.abs(s - t) < I / 2)) out.push({ check, t });
  return out;
}

function result(checkId: string, seq: number, epoch: number, node = 'a', t = seq * I, extra: Partial<ResultRecord> = {}): ResultRecord {
  return { checkId, seq, epoch, node, slot: 1_700_000_000_000 + seq * I, ok: true, vantage: 0, t, ...extra };
}

function series(checkId: string, n: number, epoch = 1, node = 'a'): ResultRecord[] {
  return Array.from({ length: n }, (_, i) => result(checkId, i + 1, epoch, node));
}

function input(over: Partial<ChaosInput> = {}): ChaosInput {
  return {
    scenario: 's',
    profile: 'test',
    intervalMs: I,
    checks: ['x', 'y'],
    window: W,
    wallAtZero: 0,
    phaseOf: () => 0,
    move: 'crash',
    gapBoundMs: crashGapBound(I),
    hits: [...steady('x'), ...steady('y')],
    results: [...series('x', 9), ...series('y', 9)],
    statuses: [],
    events: [],
    specsAtEnd: ['x', 'y'],
    duplicateRunsMetric: 0,
    ...over,
  };
}

const ev = (node: string, event: string, fields: object = {}, t = 100): LogEvent => ({ node, event, t, ...fields });
const status = (checkId: string, to: string, t = 500): StatusRecord => ({ checkId, from: 'up', to, node: 'a', epoch: 1, seq: 3, t });

/** The fields a case checks, with the broken invariants. */
function pick(r: ChaosRow) {
  return { maxGapMs: r.maxGapMs, missed: r.missedSlots, checksOverBound: r.checksOverBound, duplicates: r.duplicates, uncounted: r.uncountedDuplicates, seqRepeats: r.seqRepeats, epochRegressions: r.epochRegressions, down: r.spuriousDown, specsLost: r.specsLost, leaders: r.maxLeadersPerTerm, broken: r.broken };
}

const clean = { maxGapMs: 1000, missed: 0, checksOverBound: 0, duplicates: 0, uncounted: 0, seqRepeats: 0, epochRegressions: 0, down: 0, specsLost: 0, leaders: 1, broken: [] as string[] };

const cases: [string, Partial<ChaosInput>, Partial<typeof clean>][] = [
  ['a clean run breaks nothing', { events: [ev('a', 'leader_elected', { term: 3 })] }, {}],
  ['a gap within interval + 5 s after a crash is allowed', { hits: [...steady('x', { skip: [2005, 3005, 4005, 5005] }), ...steady('y')] }, { maxGapMs: 5000, missed: 4 }],
  ['a gap beyond the crash bound breaks "gap"', { hits: [...steady('x', { skip: [2005, 3005, 4005, 5005, 6005, 7005] }), ...steady('y')] }, { maxGapMs: 7000, missed: 6, checksOverBound: 1, broken: ['gap'] }],
  ['one missed slot breaks a planned move', { move: 'planned', hits: [...steady('x', { skip: [4005] }), ...steady('y')] }, { maxGapMs: 2000, missed: 1, checksOverBound: 1, broken: ['gap'] }],
  ['a planned move with every slot probed, some late, holds', { move: 'planned', hits: [...steady('x', { skip: [4005, 5005] }), { check: 'x', t: 4700 }, { check: 'x', t: 5600 }, ...steady('y')] }, { maxGapMs: 1695 }],
  ['a missed slot after a crash is within the bound', { hits: [...steady('x', { skip: [4005] }), ...steady('y')] }, { maxGapMs: 2000, missed: 1 }],
  ['a check never probed again counts up to the window\'s end', { hits: [...steady('x', { to: 3000 }), ...steady('y')] }, { maxGapMs: 7995, missed: 6, checksOverBound: 1, broken: ['gap'] }],
  ['a check without any hit in the window is one whole gap', { hits: steady('y') }, { maxGapMs: 10_000, missed: 8, checksOverBound: 1, broken: ['gap'] }],
  ['hits outside the window are not judged', { hits: [...steady('x', { from: -5000, to: 3000 }), ...steady('x', { from: 3000, offset: 500 }), ...steady('y'), { check: 'x', t: -4990 }, { check: 'y', t: 10_100 }, { check: 'y', t: 10_200 }] }, { maxGapMs: 1495 }],
  ['a gap open when the window opens runs from the hit before it', { hits: [{ check: 'x', t: -3000 }, ...steady('x', { from: 3000 }), ...steady('y')] }, { maxGapMs: 6005, missed: 2, checksOverBound: 1, broken: ['gap'] }],
  ['a second probe in one slot\'s interval is an uncounted duplicate', { hits: [...steady('x'), { check: 'x', t: 4300 }, ...steady('y')] }, { duplicates: 1, uncounted: 1, broken: ['duplicates'] }],
  ['a probe late by most of an interval is in its own slot: no duplicate', { hits: [...steady('x', { skip: [4005] }), { check: 'x', t: 4900 }, ...steady('y')] }, { maxGapMs: 1895 }],
  ['a skewed owner probing the same slot as the new owner is a duplicate', { hits: [...steady('x'), { check: 'x', t: 4010 }, ...steady('y')] }, { duplicates: 1, uncounted: 1, broken: ['duplicates'] }],
  ['the grid is the wall clock at the target (wallAtZero, phase)', { wallAtZero: 500, phaseOf: () => 300, hits: [...steady('x', { offset: 800 }), { check: 'x', t: 4850 }, ...steady('y')] }, { maxGapMs: 1000, duplicates: 1, uncounted: 1, broken: ['duplicates'] }],
  ['duplicates the nodes counted (metric) are allowed', { hits: [...steady('x'), { check: 'x', t: 4300 }, ...steady('y')], duplicateRunsMetric: 1 }, { duplicates: 1 }],
  ['duplicates the nodes counted (handover_late_probes) are allowed', { hits: [...steady('x'), { check: 'x', t: 4300 }, { check: 'y', t: 4400 }, ...steady('y')], events: [ev('c', 'handover_late_probes', { probes: 2 }), ev('a', 'leader_elected', { term: 1 })] }, { duplicates: 2 }],
  ['more duplicates than counted: the rest are uncounted', { hits: [...steady('x'), { check: 'x', t: 4300 }, { check: 'y', t: 4400 }, ...steady('y')], duplicateRunsMetric: 1 }, { duplicates: 2, uncounted: 1, broken: ['duplicates'] }],
  ['a catch-up probe half an interval before the grid is no duplicate', { hits: [...steady('x', { skip: [3005] }), { check: 'x', t: 3300 }, ...steady('y')] }, { maxGapMs: 1295 }],
  ['two owners publishing one seq is a seq repeat', { results: [...series('x', 9), result('x', 9, 2, 'b', 9500), ...series('y', 9)] }, { seqRepeats: 1, broken: ['seq'] }],
  ['the same message received twice is no seq repeat', { results: [...series('x', 9), result('x', 9, 1, 'a', 9500), ...series('y', 9)] }, {}],
  ['seq per vantage: two vantages may share a seq', { results: [...series('x', 9), result('x', 9, 1, 'b', 9500, { vantage: 1 }), ...series('y', 9)] }, {}],
  ['a seq restarting at 1 under a newer epoch is a seq repeat', { results: [...series('x', 5), result('x', 1, 2, 'b', 6000), ...series('y', 9)] }, { seqRepeats: 1, broken: ['seq'] }],
  ['a higher seq with a lower epoch is an epoch regression', { results: [...series('x', 4, 2), result('x', 5, 1, 'b', 5000), ...series('y', 9)] }, { epochRegressions: 1, broken: ['epoch'] }],
  ['a stale owner\'s older (epoch, seq) is recognisably older: no violation', { results: [result('x', 1, 1), result('x', 2, 1), result('x', 3, 2, 'b'), result('x', 4, 2, 'b'), ...series('y', 9)] }, {}],
  ['a repeat before the window is history, not this scenario\'s', { results: [result('x', 1, 1, 'a', -500), result('x', 1, 1, 'b', -400), result('x', 2, 1, 'b', 1000), ...series('y', 9)] }, {}],
  ['a status change to down is spurious (the target never fails)', { statuses: [status('x', 'down'), status('x', 'up', 900)] }, { down: 1, broken: ['down'] }],
  ['a down before the window is not counted', { statuses: [status('x', 'down', -10)] }, {}],
  ['a spec missing from the final list is lost', { specsAtEnd: ['y'] }, { specsLost: 1, broken: ['specs'] }],
  ['an unreadable spec list loses every spec', { specsAtEnd: null }, { specsLost: 2, broken: ['specs'] }],
  ['two nodes elected in one term break "leaders"', { events: [ev('a', 'leader_elected', { term: 3 }), ev('b', 'leader_elected', { term: 3 }), ev('b', 'leader_elected', { term: 4 })] }, { leaders: 2, broken: ['leaders'] }],
  ['one node elected twice in a term, or in several terms, is one leader per term', { events: [ev('a', 'leader_elected', { term: 3 }), ev('a', 'leader_elected', { term: 3 }), ev('b', 'leader_elected', { term: 4 })] }, {}],
];

describe('checkInvariants', () => {
  test.each(cases)('%s', (_name, over, want) => {
    const leaders = over.events ? {} : { leaders: 0 };
    expect(pick(checkInvariants(input(over)))).toEqual({ ...clean, ...leaders, ...want });
  });

  test('examples name the offending check and what happened', () => {
    const r = checkInvariants(input({ hits: [...steady('x', { to: 3000 }), ...steady('y')], statuses: [status('y', 'down')] }));
    expect(r.examples).toEqual([expect.stringMatching(/^gap: x unprobed 7995 ms from 2005 ms into the window \(3 hits in the window; 6 slot\(s\) missed/), 'down: y: up → down by a e1:s3']);
  });

  test('the table has a header, a rule and one row per scenario, broken invariants in bold', () => {
    const rows = [checkInvariants(input()), checkInvariants(input({ scenario: 't', specsAtEnd: [] }))];
    const lines = formatTable(rows).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[2]).toBe(tableRow(rows[0]!));
    expect(lines[2]).toMatch(/^\| s \| test \| 2 \| 1000 \(6000\) \| 0 \| 0 \| 0 \(0\) \| .* \| none \|$/);
    expect(lines[3]).toMatch(/\*\*specs\*\* \|$/);
  });
});
