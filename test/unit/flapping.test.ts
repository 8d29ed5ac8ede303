// Flap detection (protocol/flapping.ts): Nagios/Sensu weighted percent state change over the last
// 21 results, newer changes weighing more, with high/low hysteresis.
import { changeWeight, flapPercent, FLAP_WINDOW, nextFlapping } from '../../protocol/flapping';

const alternating = (n: number, first = '1') => Array.from({ length: n }, (_, i) => ((i % 2 === 0) === (first === '1') ? '1' : '0')).join('');

describe('weights: the oldest change 0.75, the newest 1.25, linear between', () => {
  test.each([
    [1, 0.75],
    [20, 1.25],
    [10.5, 1],
  ])('place %d weighs %d', (place, w) => {
    expect(changeWeight(place)).toBeCloseTo(w, 10);
  });

  test('the 20 weights sum to 20 (so every result changing is 100%)', () => {
    let sum = 0;
    for (let i = 1; i < FLAP_WINDOW; i++) sum += changeWeight(i);
    expect(sum).toBeCloseTo(20, 10);
  });
});

describe('flapPercent', () => {
  test.each([
    // name, history (oldest first), percent
    ['empty', '', 0],
    ['one result', '1', 0],
    ['steady pass', '1'.repeat(21), 0],
    ['steady fail', '0'.repeat(64), 0],
    ['every result changes', alternating(21), 100],
    ['one change, the newest', '1'.repeat(20) + '0', 6.25], // 1.25 × 100 / 20
    ['one change, the oldest of the window', '1' + '0'.repeat(20), 3.75], // 0.75 × 100 / 20
    ['a short history: its newest change still weighs 1.25', '10', 6.25],
    ['a short history counts over 20 places: 3 changes at the newest places', '1010', Math.round(((changeWeight(18) + changeWeight(19) + changeWeight(20)) * 5) * 100) / 100],
    ['changes older than the 21 results are not counted', alternating(30) + '0'.repeat(21), 0],
    ['only the last 21 of a longer history', alternating(43), 100],
    ['half the places change, the newer half', '1'.repeat(11) + alternating(10, '0'), Math.round(Array.from({ length: 10 }, (_, i) => changeWeight(11 + i)).reduce((a, b) => a + b) * 5 * 100) / 100],
  ] as const)('%s: %s → %d', (_name, history, percent) => {
    expect(flapPercent(history)).toBe(percent);
  });

  test('newer changes weigh more: the same number of changes, newer → higher percent', () => {
    const older = '1010' + '1'.repeat(17);
    const newer = '1'.repeat(17) + '1010';
    expect(older.length).toBe(21);
    expect(flapPercent(newer)).toBeGreaterThan(flapPercent(older));
  });
});

describe('nextFlapping: starts at high or above, ends at low or below, holds between', () => {
  const t = { low: 20, high: 30 };
  test.each([
    // was flapping, percent → flapping
    [false, 0, false],
    [false, 29.99, false],
    [false, 30, true],
    [false, 75, true],
    [true, 75, true],
    [true, 30, true],
    [true, 25, true], // between: stays
    [false, 25, false], // between: stays
    [true, 20.01, true],
    [true, 20, false],
    [true, 0, false],
  ])('was %s at %d%% → %s', (was, percent, want) => {
    expect(nextFlapping(was, percent, t)).toBe(want);
  });

  test('low 0 ends only on a steady window; high 100 starts only when every result changed', () => {
    expect(nextFlapping(true, 0.01, { low: 0, high: 100 })).toBe(true);
    expect(nextFlapping(true, 0, { low: 0, high: 100 })).toBe(false);
    expect(nextFlapping(false, 99.99, { low: 0, high: 100 })).toBe(false);
    expect(nextFlapping(false, flapPercent(alternating(21)), { low: 0, high: 100 })).toBe(true);
  });
});
