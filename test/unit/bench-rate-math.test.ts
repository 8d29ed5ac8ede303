// Pure helpers of the open-loop benchmarks (bench/lib/rate-math.ts) and wrk's result line
// (bench/lib/wrk.ts): rate arithmetic, interleaving, medians that leave spoiled windows out.

import { dueCount, efficiency, interleave, measureUntilClean, parseRates, ratio, summarize, type Window } from '../../bench/lib/rate-math';
import { parseWrk } from '../../bench/lib/wrk';

describe('dueCount', () => {
  test.each([
    // rate, elapsedMs, issued, due
    [1500, 0, 0, 0],
    [1500, 1000, 0, 1500],
    [1500, 1000, 1500, 0],
    [1500, 10, 0, 15],
    [1500, 10, 14, 1],
    [3000, 5, 0, 15],
    [1500, 1, 0, 1],
    [1500, 0.5, 0, 0], // 0.75 requests due: none yet
    [1500, 1000, 1600, 0], // ahead (never negative)
    [0, 1000, 0, 0],
    [-5, 1000, 0, 0],
    [1500, -3, 0, 0],
  ])('rate %p after %p ms with %p issued: %p due', (rate, elapsed, issued, due) => {
    expect(dueCount(rate, elapsed, issued)).toBe(due);
  });

  test('summed over ticks, it issues exactly rate × time', () => {
    let issued = 0;
    for (let t = 5; t <= 10_000; t += 5) issued += dueCount(1500, t, issued);
    expect(issued).toBe(15_000);
  });
});

describe('parseRates', () => {
  test.each([
    ['1500,3000', [1500, 3000]],
    [' 1500 , 3000 ', [1500, 3000]],
    ['750', [750]],
  ])('%p', (raw, rates) => expect(parseRates(raw)).toEqual(rates));
  test.each(['', ',', '1500,x', '0', '-1', 'Infinity'])('rejects %p', (raw) => expect(() => parseRates(raw)).toThrow(/positive rates/));
});

test('interleave: every item once per rep, reps in order', () => {
  expect(interleave(2, ['lookout', 'bb'])).toEqual([
    [0, 'lookout'],
    [0, 'bb'],
    [1, 'lookout'],
    [1, 'bb'],
  ]);
  expect(interleave(0, ['a'])).toEqual([]);
});

const w = (count: number, cpuMs: number, foreignPct = 0, wallMs = 10_000): Window => ({ count, cpuMs, wallMs, foreignPct });

describe('efficiency', () => {
  test('probes per CPU-second, µs per probe, achieved rate, CPU share', () => {
    expect(efficiency(w(15_000, 5_000))).toEqual({ perSec: 1500, perCpuSec: 3000, usPer: 333, cpuPct: 50 });
  });
  test('no CPU or no probes: NaN, not Infinity', () => {
    expect(efficiency(w(10, 0)).perCpuSec).toBeNaN();
    expect(efficiency(w(0, 10)).usPer).toBeNaN();
  });
});

describe('summarize', () => {
  test('median of the clean windows; a spoiled window is listed but left out', () => {
    const s = summarize([w(1000, 1000), w(1000, 500, 40), w(1000, 800), w(1000, 900)], 15);
    expect(s.perCpuSecRuns).toEqual([1000, 2000, 1250, 1111]);
    expect(s.spoiledRuns).toEqual([1]);
    expect(s.kept).toBe(3);
    expect(s.runs).toBe(4);
    expect(s.perCpuSec).toBe(1111);
    expect(s.allSpoiled).toBe(false);
  });
  test('all spoiled: medians over all, flagged', () => {
    const s = summarize([w(1000, 1000, 50), w(1000, 500, 60)], 15);
    expect(s.allSpoiled).toBe(true);
    expect(s.kept).toBe(0);
    expect(s.perCpuSec).toBe(1500);
  });
  test('at the threshold a window still counts', () => {
    expect(summarize([w(1, 1, 15)], 15).kept).toBe(1);
  });
});

describe('measureUntilClean', () => {
  const seq = (foreign: number[]) => {
    let i = 0;
    return () => Promise.resolve(w(1, 1, foreign[i++] ?? 0));
  };
  test('a clean window is measured once', async () => {
    expect((await measureUntilClean(seq([0, 0]), 15, 3, () => true)).map((x) => x.foreignPct)).toEqual([0]);
  });
  test('spoiled windows are measured again, up to the retries, and all are returned', async () => {
    const flagged: number[] = [];
    const ws = await measureUntilClean(seq([90, 80, 5]), 15, 3, () => true, (x) => flagged.push(x.foreignPct));
    expect(ws.map((x) => x.foreignPct)).toEqual([90, 80, 5]);
    expect(flagged).toEqual([90, 80]);
    expect((await measureUntilClean(seq([90, 80, 70]), 15, 1, () => true)).map((x) => x.foreignPct)).toEqual([90, 80]);
  });
  test('no retry once the budget is spent', async () => {
    expect((await measureUntilClean(seq([90, 0]), 15, 3, () => false)).map((x) => x.foreignPct)).toEqual([90]);
  });
});

test.each([
  [3000, 1000, 3],
  [1857, 1117, 1.66],
  [NaN, 1000, NaN],
  [1000, 0, NaN],
])('ratio(%p, %p) = %p', (a, b, r) => expect(ratio(a, b)).toBe(r));

describe('parseWrk', () => {
  test('reads the WRKRESULT line among wrk output', () => {
    const out = 'Running 10s test @ http://x\n  1 threads and 8 connections\nWRKRESULT 16830 16829 1 10004123 2\nRequests/sec: 1682\n';
    expect(parseWrk(out)).toEqual({ requests: 16830, ok: 16829, bad: 1, durationMs: 10004.123, errors: 2 });
  });
  test('no line: null', () => expect(parseWrk('Requests/sec: 1682\n')).toBeNull());
});
