import { fnv1a32, phaseOf, shardOf } from '../../protocol/hash';
import { followingSlot, jitterBound, nextSlot, slotAtOrAfter } from '../../protocol/slots';

describe('hash', () => {
  test.each([
    // FNV-1a 32 reference values
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ])('fnv1a32(%j) = %d', (s, h) => {
    expect(fnv1a32(s)).toBe(h);
  });

  test('shardOf is stable and spreads ids evenly over 256 shards', () => {
    expect(shardOf('api-health', 256)).toBe(fnv1a32('api-health') % 256);
    const counts = new Array(256).fill(0);
    for (let i = 0; i < 25_600; i++) counts[shardOf(`check-${i}`, 256)]++;
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(Math.max(...counts)).toBeLessThan(160);
  });

  test('phase is inside the interval and independent of the shard', () => {
    for (let i = 0; i < 1000; i++) {
      const p = phaseOf(`c${i}`, 10_000);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(10_000);
    }
    expect(phaseOf('x', 5000)).toBe(fnv1a32('phase:x') % 5000);
  });
});

describe('slots', () => {
  test.each([
    // t, phase, interval → first slot at or after t
    [0, 0, 1000, 0],
    [1, 0, 1000, 1000],
    [999, 250, 1000, 1250],
    [1250, 250, 1000, 1250],
    [1251, 250, 1000, 2250],
    [1_700_000_000_123, 42, 60_000, 1_700_000_040_042],
  ])('slotAtOrAfter(%d, %d, %d) = %d', (t, phase, interval, want) => {
    expect(slotAtOrAfter(t, phase, interval)).toBe(want);
  });

  test('nextSlot is strictly after t and congruent to the phase', () => {
    const t = 1_700_000_000_000;
    const s = nextSlot('web', 5000, t);
    expect(s).toBeGreaterThan(t);
    expect(s - t).toBeLessThanOrEqual(5000);
    expect((s - phaseOf('web', 5000)) % 5000).toBe(0);
    // Two nodes computing the slot at different moments of the same interval agree.
    expect(nextSlot('web', 5000, s - 1)).toBe(s);
    expect(nextSlot('web', 5000, s - 4999)).toBe(s);
  });

  test('followingSlot: fixed rate, and a new interval follows its own phase', () => {
    expect(followingSlot('a', 10_000, 5000, 5000)).toBe(15_000);
    const next = followingSlot('a', 10_000, 5000, 60_000);
    expect(next).toBeGreaterThan(10_000);
    expect((next - phaseOf('a', 60_000)) % 60_000).toBe(0);
  });

  test.each([
    [1000, 100, 10],
    [60_000, 100, 100],
    [60_000, 0, 0],
    [5000, 25, 25],
  ])('jitterBound(%d, %d) = %d (≤ 1%% of the interval)', (interval, max, want) => {
    expect(jitterBound(interval, max)).toBe(want);
  });
});
