// The slot analysis the cluster tests rely on, on synthetic result lists: what counts as a gap, a
// duplicate, a seq break, an announced skip, and what does not (a late arrival, a new owner that
// continues the seq).
import { clockTime, formatResults, lastEvents, lateness, slotReportFromResults, type PublishedResult } from '../helpers/slot-report';

const I = 1000;
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0); // a slot of every check below (phase 0)

/** Results of `id` for slots T0 + k·I, k in `ks`, seq from `seq0`, by `node`. */
function series(id: string, ks: number[], node = 'n1', seq0 = 1, extra: Partial<PublishedResult> = {}): PublishedResult[] {
  return ks.map((k, i) => ({ checkId: id, slot: T0 + k * I, seq: seq0 + i, node, epoch: 1, vantage: 0, skipped: 0, at: new Date(T0 + k * I + 3).toISOString(), ...extra }));
}
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const clean = (r: ReturnType<typeof slotReportFromResults>) => ({ duplicates: r.duplicates, gaps: r.gaps, seqBreaks: r.seqBreaks });
const none = { duplicates: [], gaps: [], seqBreaks: [] };

describe('slotReportFromResults', () => {
  test('every slot once, seq by one: clean', () => {
    const r = slotReportFromResults([...series('a', range(0, 5)), ...series('b', range(0, 5))], ['a', 'b'], I);
    expect(clean(r)).toEqual(none);
    expect(r).toMatchObject({ series: 2, results: 10, skipped: [], offenders: [] });
  });

  test('a new owner continuing the seq across a handover is clean; arrival order does not matter', () => {
    const rs = [...series('a', [0, 1, 2], 'n1', 1), ...series('a', [3, 4], 'n2', 4, { epoch: 2 })];
    const shuffled = [rs[3]!, rs[0]!, rs[2]!, rs[4]!, rs[1]!]; // n2's first result arrived before n1's last
    expect(clean(slotReportFromResults(shuffled, ['a'], I))).toEqual(none);
  });

  test('a probe that started in its slot but was published late is in its slot', () => {
    const late = series('a', range(0, 4));
    late[2] = { ...late[2]!, at: new Date(T0 + 2 * I + 900).toISOString() };
    expect(clean(slotReportFromResults(late, ['a'], I))).toEqual(none);
    expect(lateness(late)).toEqual([3, 3, 900, 3]);
    // against the grid, a catch-up probe is late for the slot it stands for
    const catchUp = { ...late[0]!, slot: T0 + 1300, at: new Date(T0 + 1302).toISOString() };
    expect(lateness([catchUp])).toEqual([2]);
    expect(lateness([catchUp], { intervalMs: I, phaseOf: () => T0 % I })).toEqual([302]);
  });

  test('a slot probed twice is a duplicate (and the seq repeats)', () => {
    const rs = [...series('a', [0, 1, 2], 'n1', 1), ...series('a', [2, 3], 'n2', 3)];
    const r = slotReportFromResults(rs, ['a'], I);
    expect(r.duplicates).toEqual([`a v0: slot ${clockTime(T0 + 2 * I)} probed twice (n1 e1 seq 3; n2 e1 seq 3)`]);
    expect(r.seqBreaks).toEqual([`a v0: seq 3 (n1 e1, slot ${clockTime(T0 + 2 * I)}) → 3 (n2 e1, slot ${clockTime(T0 + 2 * I)})`]);
    expect(r.gaps).toEqual([]);
    expect(r.offenders).toEqual(['a']);
  });

  test.each([
    // [what, slots missed, seq of the result after the hole (seq 3 + missed: consumed), node of it, declared losses, lost, gaps]
    ['seq consumed, declared by its node at the time: lost, not a gap', 1, 4, 'n1', [{ node: 'n1', at: T0 + 2 * I + 500, results: 3 }], 1, 0],
    ['two slots consumed, one declaration of two', 2, 5, 'n1', [{ node: 'n1', at: T0 + 3 * I, results: 2 }], 1, 0],
    ['two slots, declared one: a gap', 2, 5, 'n1', [{ node: 'n1', at: T0 + 3 * I, results: 1 }], 0, 1],
    ['declared by another node: a gap', 1, 4, 'n1', [{ node: 'n2', at: T0 + 2 * I, results: 5 }], 0, 1],
    ['declared long before the hole: a gap', 1, 4, 'n1', [{ node: 'n1', at: T0 - 10 * I, results: 5 }], 0, 1],
    ['seq not consumed (nothing probed): a gap', 1, 3, 'n1', [{ node: 'n1', at: T0 + 2 * I, results: 5 }], 0, 1],
    ['another node after the hole (a handover, not a loss): a gap', 1, 4, 'n2', [{ node: 'n1', at: T0 + 2 * I, results: 5 }], 0, 1],
  ] as const)('declared losses — %s', (_what, missed, seqAfter, node, declaredLost, lost, gaps) => {
    const rs = [...series('a', [0, 1], 'n1', 1), ...series('a', [2 + missed], node, seqAfter)];
    const r = slotReportFromResults(rs, ['a'], I, {}, { declaredLost });
    expect([r.lost.length, r.gaps.length]).toEqual([lost, gaps]);
    if (lost) expect(r.seqBreaks).toEqual([]);
  });

  test('one declaration is spent once: two holes against a count of one leave a gap', () => {
    const rs = [...series('a', [0, 1], 'n1', 1), ...series('a', [3], 'n1', 4), ...series('b', [0, 1], 'n1', 1), ...series('b', [3], 'n1', 4)];
    const r = slotReportFromResults(rs, ['a', 'b'], I, {}, { declaredLost: [{ node: 'n1', at: T0 + 2 * I, results: 1 }] });
    expect([r.lost.length, r.gaps.length]).toEqual([1, 1]);
  });

  test('a missed slot is a gap, named with the results on both sides', () => {
    const r = slotReportFromResults([...series('a', [0, 1], 'n1', 1), ...series('a', [3, 4], 'n2', 3)], ['a', 'b'], I);
    expect(r.gaps).toEqual([`a v0: 1 slot(s) unprobed between ${clockTime(T0 + I)} (n1 e1 seq 2) and ${clockTime(T0 + 3 * I)} (n2 e1 seq 3)`, 'b v0: no result']);
    expect(r.seqBreaks).toEqual([]);
    expect(r.offenders).toEqual(['a', 'b']);
  });

  test('rounds the owner announced as skipped are listed, not gaps; unannounced ones beyond them are gaps', () => {
    const skipped = [...series('a', [0, 1]), ...series('a', [4], 'n1', 3, { skipped: 2 })];
    const r = slotReportFromResults(skipped, ['a'], I);
    expect(r.gaps).toEqual([]);
    expect(r.skipped).toEqual([`a v0: 2 round(s) between ${clockTime(T0 + I)} and ${clockTime(T0 + 4 * I)} (n1 e1 seq 3)`]);
    const short = [...series('a', [0, 1]), ...series('a', [4], 'n1', 3, { skipped: 1 })];
    expect(slotReportFromResults(short, ['a'], I).gaps).toEqual([`a v0: 1 slot(s) unprobed between ${clockTime(T0 + I)} (n1 e1 seq 2) and ${clockTime(T0 + 4 * I)} (n1 e1 seq 3), 1 announced as skipped`]);
  });

  test('a new owner that restarts the seq is a seq break', () => {
    const r = slotReportFromResults([...series('a', [0, 1], 'n1', 7), ...series('a', [2, 3], 'n2', 1)], ['a'], I);
    expect(r.seqBreaks).toEqual([`a v0: seq 8 (n1 e1, slot ${clockTime(T0 + I)}) → 1 (n2 e1, slot ${clockTime(T0 + 2 * I)})`]);
    expect(r.gaps).toEqual([]);
  });

  test('a catch-up probe off the grid covers the slot whose interval it falls in; the owner may rejoin the grid one slot later', () => {
    const catchUp = (ms: number, node = 'n2', seq = 2): PublishedResult => ({ ...series('a', [0], node, seq)[0]!, slot: T0 + ms });
    // slot 1 missed, caught up at +1300 (in slot 1's interval), back on the grid at slot 2: clean
    const early = slotReportFromResults([...series('a', [0]), catchUp(1300), ...series('a', [2, 3], 'n2', 3)], ['a'], I);
    expect(clean(early)).toEqual(none);
    expect(early.catchUps).toEqual([`a v0: catch-up probe at ${clockTime(T0 + 1300)} (n2 e1 seq 2) for slot ${clockTime(T0 + I)}`]);
    // caught up at +1600: the grid is rejoined half an interval later at the earliest, slot 3 — by design, not a gap
    expect(clean(slotReportFromResults([...series('a', [0]), catchUp(1600), ...series('a', [3, 4], 'n2', 3)], ['a'], I))).toEqual(none);
    // caught up only in slot 2's interval: slot 1 was never probed
    expect(slotReportFromResults([...series('a', [0]), catchUp(2500), ...series('a', [3], 'n2', 3)], ['a'], I).gaps).toEqual([
      `a v0: 1 slot(s) unprobed between ${clockTime(T0)} (n1 e1 seq 1) and ${clockTime(T0 + 2500)} (n2 e1 seq 2)`,
    ]);
    // a catch-up probe and a grid probe in the same interval: a duplicate
    expect(slotReportFromResults([...series('a', [0, 1]), catchUp(1300, 'n2', 3)], ['a'], I).duplicates).toEqual([
      `a v0: slot ${clockTime(T0 + I)} probed twice (n1 e1 seq 2; n2 e1 seq 3 at ${clockTime(T0 + 1300)})`,
    ]);
    // the grid's phase can be given (two results, one of them off the grid: no majority)
    const two = [catchUp(1300, 'n2', 1), ...series('a', [2], 'n2', 2)];
    expect(slotReportFromResults(two, ['a'], I, {}, { phaseOf: () => T0 % I }).catchUps).toHaveLength(1);
  });

  test('a window keeps only its slots, and each series must reach both edges', () => {
    const rs = series('a', range(0, 10));
    expect(clean(slotReportFromResults(rs, ['a'], I, { from: T0 + 2 * I, to: T0 + 6 * I }))).toEqual(none);
    expect(slotReportFromResults(rs, ['a'], I, { from: T0 + 2 * I, to: T0 + 6 * I }).results).toBe(4);
    // stopped after slot 4: the window up to slot 8 has a gap at its end
    const stopped = series('a', range(0, 5));
    expect(slotReportFromResults(stopped, ['a'], I, { from: T0 + 2 * I, to: T0 + 8 * I }).gaps).toEqual([`a v0: last slot ${clockTime(T0 + 4 * I)} (n1 e1 seq 5) is 4000 ms before the window closes`]);
    // the window's last slot skipped, announced by the first result after the window: listed, not a gap
    const endSkip = [...series('a', range(0, 5)), ...series('a', [6], 'n1', 6, { skipped: 1 })];
    const endReport = slotReportFromResults(endSkip, ['a'], I, { from: T0 + 2 * I, to: T0 + 6 * I });
    expect(endReport.gaps).toEqual([]);
    expect(endReport.skipped).toEqual([`a v0: 1 round(s) before ${clockTime(T0 + 6 * I)} (n1 e1 seq 6)`]);
    // the same without the announcement: a gap
    const endUnannounced = [...series('a', range(0, 5)), ...series('a', [6], 'n1', 6)];
    expect(slotReportFromResults(endUnannounced, ['a'], I, { from: T0 + 2 * I, to: T0 + 6 * I }).gaps).toEqual([`a v0: last slot ${clockTime(T0 + 4 * I)} (n1 e1 seq 5) is 2000 ms before the window closes`]);
    // started at slot 5: the window from slot 2 has a gap at its start
    const started = series('a', range(5, 9));
    expect(slotReportFromResults(started, ['a'], I, { from: T0 + 2 * I, to: T0 + 8 * I }).gaps).toEqual([`a v0: first slot ${clockTime(T0 + 5 * I)} (n1 e1 seq 1) is 3000 ms after the window opens`]);
    expect(slotReportFromResults(rs, ['b'], I, { from: T0, to: T0 + I }).gaps).toEqual([`b v0: no result with a slot in [${clockTime(T0)}, ${clockTime(T0 + I)})`]);
  });

  test('vantage points are separate series, each with its own seq; a missing vantage is reported', () => {
    const v0 = series('m', range(0, 4), 'n1', 1, { vantage: 0 });
    const v1 = series('m', range(0, 4), 'n2', 1, { vantage: 1 });
    expect(clean(slotReportFromResults([...v0, ...v1], ['m'], I, {}, { vantages: 2 }))).toEqual(none);
    expect(slotReportFromResults(v0, ['m'], I, {}, { vantages: 2 }).gaps).toEqual(['m v1: no result']);
  });

  test('failoverFrom: the slots between the last result of the crashed node and the first of a survivor are a failover, not a gap', () => {
    const catchUp = { ...series('a', [0], 'n2', 4)[0]!, slot: T0 + 3300 };
    const rs = [...series('a', [0, 1, 2], 'n1', 1), catchUp, ...series('a', [4, 5, 7], 'n2', 5)];
    const r = slotReportFromResults(rs, ['a'], I, {}, { failoverFrom: 'n1' });
    expect(r.failovers).toEqual([{ check: 'a v0', from: 'n1', to: 'n2', ms: 1300 }]);
    expect(r.seqBreaks).toEqual([]);
    expect(r.gaps).toEqual([`a v0: 1 slot(s) unprobed between ${clockTime(T0 + 5 * I)} (n2 e1 seq 6) and ${clockTime(T0 + 7 * I)} (n2 e1 seq 7)`]);
    // on the grid: the failover is whole intervals; without failoverFrom it is a gap
    const onGrid = [...series('a', [0, 1], 'n1', 1), ...series('a', [4, 5], 'n3', 3)];
    expect(slotReportFromResults(onGrid, ['a'], I, {}, { failoverFrom: 'n1' })).toMatchObject({ gaps: [], failovers: [{ check: 'a v0', from: 'n1', to: 'n3', ms: 3000 }] });
    expect(slotReportFromResults(onGrid, ['a'], I).gaps).toHaveLength(1);
    // a survivor that restarts the seq is still a seq break
    expect(slotReportFromResults([...series('a', [0, 1], 'n1', 5), ...series('a', [3], 'n2', 1)], ['a'], I, {}, { failoverFrom: 'n1' }).seqBreaks).toHaveLength(1);
  });

  test('failoverFrom: the crashed node\'s own next life under a later epoch (a survivor held the slot without probing) is a failover; under the same epoch a gap', () => {
    const rs = [...series('a', [0, 1, 2], 'n1', 1), ...series('a', [5, 6], 'n1', 16, { epoch: 2 })];
    expect(clean(slotReportFromResults(rs, ['a'], I, {}, { failoverFrom: 'n1' }))).toEqual(none);
    expect(slotReportFromResults(rs, ['a'], I, {}, { failoverFrom: 'n1' }).failovers).toEqual([{ check: 'a v0', from: 'n1', to: 'n1', ms: 3000 }]);
    const sameEpoch = [...series('a', [0, 1, 2], 'n1', 1), ...series('a', [5, 6], 'n1', 4)];
    expect(slotReportFromResults(sameEpoch, ['a'], I, {}, { failoverFrom: 'n1' }).gaps).toHaveLength(1);
  });

  test('failoverFrom: the crashed node going on under a newer epoch before the crash (its leader re-elected, nothing moved: next slot, seq by one) is no failover; the crash after it is the one', () => {
    const rs = [...series('a', [0, 1], 'n1', 1), ...series('a', [2, 3], 'n1', 3, { epoch: 2 }), ...series('a', [5, 6], 'n2', 7, { epoch: 3 })];
    const r = slotReportFromResults(rs, ['a'], I, {}, { failoverFrom: 'n1' });
    expect(clean(r)).toEqual(none);
    expect(r.failovers).toEqual([{ check: 'a v0', from: 'n1', to: 'n2', ms: 2000 }]);
  });

  test('other checks in the list are ignored', () => {
    expect(slotReportFromResults([...series('a', [0, 1]), ...series('z', [0, 0])], ['a'], I)).toMatchObject({ ...none, series: 1, results: 2 });
  });
});

test('lastEvents prints the last results of each named check', () => {
  const rs = [...series('a', range(0, 10)), ...series('b', [0], 'n2', 1, { ok: false, skipped: 1 })];
  const text = lastEvents(rs, ['a', 'b', 'c'], 2);
  expect(text).toBe(
    [
      '  last 2 results of a:',
      formatResults(rs.slice(8, 10)),
      '  last 2 results of b:',
      `    n2 slot ${clockTime(T0)}+3ms e1:1 v0 skipped 1 FAIL`,
      '  last 2 results of c:',
      '    (none)',
    ].join('\n'),
  );
  expect(formatResults(rs.slice(0, 1))).toBe(`    n1 slot ${clockTime(T0)}+3ms e1:1 v0`);
});
