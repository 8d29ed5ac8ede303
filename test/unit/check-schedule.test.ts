// Where a check's next probe goes (protocol/check-schedule.ts), as tables around one slot `s` of
// a check with a 10 s interval: the first slot of a gained check and its catch-up, an interval
// change, the slot after a due one (passed slots skipped and counted), catch-up pacing, jitter.
import { CatchUpPacer } from '../../protocol/catch-up-pacer';
import { catchUpAt, earlierSlot, firstSlot, jitteredStart, retimedSlot, slotAfterDue } from '../../protocol/check-schedule';
import { phaseOf } from '../../protocol/hash';
import { nextSlot } from '../../protocol/slots';

const I = 10_000;
const id = 'api';
/** A slot of `id` on the 10 s grid: every expectation is an offset from it. */
const s = nextSlot(id, I, 1_700_000_000_000);
const free = () => new CatchUpPacer(1000); // a place every ms, none taken

describe('firstSlot', () => {
  test.each([
    // name, now, startAt → slot, catchUp
    ['a check added while owning: the next slot', s - 3000, s - 3000, s, false],
    ['a check added exactly at a slot: that slot', s, s, s, false],
    ['gained ahead of the handover instant: the first slot at or after it', s - 3000, s + 1000, s + I, false],
    ['gained exactly at the handover instant, which is a slot', s - 3000, s, s, false],
    ['gained late, slot s unowned and the next one far: catch up now', s + 500, s - 1000, s + 500, true],
    ['gained late, but the next slot is within half an interval: wait for it', s + 6000, s - 1000, s + I, false],
    ['gained late, no slot between the instant and now: nothing missed', s + 500, s + 100, s + I, false],
    ['handover instant over an interval ago: an ordinary gain, no catch-up', s + 500, s + 500 - I - 1, s + I, false],
  ])('%s', (_name, now, startAt, slot, catchUp) => {
    expect(firstSlot(id, I, now, startAt, free())).toEqual({ slot, catchUp });
  });

  test('a catch-up takes the pacer’s next free place; when that is too late, the regular slot is used', () => {
    const pacer = new CatchUpPacer(1); // one place a second
    expect(firstSlot(id, I, s + 500, s - 1000, pacer)).toEqual({ slot: s + 500, catchUp: true });
    expect(firstSlot(id, I, s + 500, s - 1000, pacer)).toEqual({ slot: s + 1500, catchUp: true });
    for (let i = 0; i < 3; i++) firstSlot(id, I, s + 500, s - 1000, pacer); // s + 2500 … s + 4500
    // The next place (s + 5500) is past half the wait for slot s + I (s + 5250): no catch-up.
    expect(firstSlot(id, I, s + 500, s - 1000, pacer)).toEqual({ slot: s + I, catchUp: false });
  });
});

describe('catchUpAt', () => {
  test.each([
    // now, regular slot → catch-up at
    [s, s + I, s],
    [s, s + I / 2 + 1, s],
    [s, s + I / 2, null], // the regular slot comes within half an interval
  ])('now %d, regular slot %d → %s', (now, regular, want) => {
    expect(catchUpAt(free(), now, regular, I)).toBe(want);
  });

  test('reserves the place it returns, and nothing when it declines', () => {
    const pacer = new CatchUpPacer(10); // a place every 100 ms
    expect(catchUpAt(pacer, s, s + I / 2, I)).toBeNull();
    expect(pacer.peek(s)).toBe(s);
    expect(catchUpAt(pacer, s, s + I, I)).toBe(s);
    expect(pacer.peek(s)).toBe(s + 100);
  });
});

describe('earlierSlot', () => {
  // phaseOf('api', 5000) and phaseOf('api', 20_000) put slot s on those grids too.
  test.each([
    // new interval, now, pending slot → slot, or null to keep the pending one
    ['a shorter interval whose next slot comes first: moved there', 5000, s - 9000, s, s - 5000],
    ['a longer interval whose next slot is the pending one: kept', 20_000, s - 9000, s, null],
    ['a longer interval whose next slot is later: kept', 20_000, s + 1, s + I, null],
    ['the same grid: its next slot is the pending one', I, s - 9000, s, null],
  ])('%s', (_name, interval, now, pending, want) => {
    expect(earlierSlot(id, interval, now, pending)).toBe(want);
  });
});

describe('slotAfterDue', () => {
  test.each([
    // name, due slot, slot interval, interval, catchUp, now → next slot, skipped
    ['fixed rate: the slot one interval on', s, I, I, false, s + 40, s + I, null],
    ['after a catch-up early in the wait: the next grid slot', s + 500, I, I, true, s + 540, s + I, null],
    ['after a catch-up late in the wait: the grid slot half an interval on, not the one 4 s on', s + 6000, I, I, true, s + 6040, s + 2 * I, null],
    ['late by more than an interval: passed slots skipped and counted', s, I, I, false, s + 3 * I + 10, s + 4 * I, { slot: s + I, count: 3 }],
    ['handled exactly at the next slot: that slot has passed too', s, I, I, false, s + I, s + 2 * I, { slot: s + I, count: 1 }],
    ['interval changed: the new grid’s first slot after this one', s, I, 5000, false, s + 40, s + 5000, null],
  ] as const)('%s', (_name, slot, slotInterval, interval, catchUp, now, next, skipped) => {
    expect(slotAfterDue(id, slot, slotInterval, interval, catchUp, now)).toEqual({ slot: next, skipped });
  });
});

describe('retimedSlot (the verdict state moved the check to another interval)', () => {
  // phaseOf('api', 2000) and phaseOf('api', 20_000) put slot s on those grids too (2000 divides 10 000).
  const T = 2000;
  const D = 20_000;
  test.each([
    // name, last probe's slot, from, to, now → next slot
    ['a failure while up: the fast grid, one fast interval after the failed probe', s, I, T, s + 40, s + T],
    ['a failure whose outcome came late (a stall): the first fast slot not yet passed', s, I, T, s + 2500, s + 2 * T],
    ['settled down: the down grid, at least one fast interval after the last probe', s, T, D, s + 40, s + D],
    ['recovered: back on the intervalMs grid, at least one fast interval on', s + T, T, I, s + T + 40, s + I],
    ['a resumed state and no probe yet: the new grid from now', null, I, T, s - 3000, s - T],
  ] as const)('%s', (_name, last, from, to, now, want) => {
    expect(retimedSlot(id, last, from, to, now)).toBe(want);
  });

  test('never closer to the last probe than the shorter interval, less than that plus the new interval away, on the new grid', () => {
    const pairs = [[I, T], [T, I], [T, D], [D, T], [I, 3000], [3000, 7000], [I, 60_000]] as const;
    for (const [from, to] of pairs) {
      for (let k = 0; k < 200; k++) {
        const last = s + k * 137;
        const now = last + (k % 7) * 100; // the probe took up to 600 ms: below both intervals
        const next = retimedSlot(id, last, from, to, now);
        const gap = next - last;
        expect([from, to, k, gap >= Math.min(from, to) && gap < Math.min(from, to) + to]).toEqual([from, to, k, true]);
        expect(((next - phaseOf(id, to)) % to + to) % to).toBe(0);
      }
    }
  });
});

describe('jitteredStart', () => {
  test.each([
    // interval, max jitter, random → start offset from the slot
    [I, 500, 0, 0],
    [I, 500, 0.5, 50], // bound: 1% of the interval (100 ms) below the 500 ms maximum
    [I, 500, 0.999, 99],
    [600_000, 500, 0.5, 250], // bound: the 500 ms maximum
    [I, 0, 0.9, 0],
  ])('interval %d, jitter %d, random %d → +%d ms', (interval, jitter, r, offset) => {
    expect(jitteredStart(s, interval, jitter, () => r)).toBe(s + offset);
  });
});
