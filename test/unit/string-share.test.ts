import { normalizePolicy } from '../../checks/spec';
import { StringShare, STRING_SHARE_MAX } from '../../protocol/string-share';
import { applyOutcome, initialVerdict, parseVerdictState, sharedHistories, type VerdictState } from '../../protocol/verdict';

describe('StringShare', () => {
  test('gives back an equal string and holds each distinct value once', () => {
    const t = new StringShare(8);
    expect(t.share('101')).toBe('101');
    expect(t.share(['1', '0', '1'].join(''))).toBe('101');
    expect(t.share('11')).toBe('11');
    expect(t.size).toBe(2);
  });

  test.each([
    // [max, distinct values shared, size after]
    [1, 1, 1],
    [1, 2, 1],
    [4, 4, 4],
    [4, 5, 1],
    [4, 9, 1],
    [4, 11, 3],
  ])('max %i: after %i distinct values it holds %i (it starts over when full)', (max, n, size) => {
    const t = new StringShare(max);
    for (let i = 0; i < n; i++) expect(t.share(`v${i}`)).toBe(`v${i}`);
    expect(t.size).toBe(size);
  });

  test('a bound below 1 is refused', () => {
    expect(() => new StringShare(0)).toThrow(RangeError);
    expect(() => new StringShare(Number.NaN)).toThrow(RangeError);
  });

  test('the default bound is STRING_SHARE_MAX', () => {
    const t = new StringShare();
    for (let i = 0; i < STRING_SHARE_MAX + 1; i++) t.share(String(i));
    expect(t.size).toBe(1);
  });
});

describe('verdict histories are shared', () => {
  // The table is module-wide: measure what one scenario adds to it.
  test('1,000 checks probed alike hold as many history values as one check has had, not 1,000 each', () => {
    const p = normalizePolicy({ type: 'window', window: 5, threshold: 3, initial: 2 });
    let states: VerdictState[] = Array.from({ length: 1000 }, () => initialVerdict(p));
    const before = sharedHistories.size;
    for (let probe = 0; probe < 70; probe++) states = states.map((s) => applyOutcome(p, s, probe % 7 !== 3));
    // One check's histories over 70 probes: at most 70 values (fewer once they repeat at 64 long).
    const added = sharedHistories.size - before;
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThanOrEqual(70);
    expect(new Set(states.map((s) => s.history)).size).toBe(1);
    expect(states[0]!.history).toHaveLength(64);
  });

  test('a state read off another node is shared too, and its value unchanged', () => {
    const h = '1101'.repeat(9) + '0';
    const before = sharedHistories.size;
    expect(parseVerdictState('up', h)).toEqual({ status: 'up', history: h });
    expect(parseVerdictState('up', `${h}`)).toEqual({ status: 'up', history: h });
    expect(sharedHistories.size - before).toBe(1);
  });
});
