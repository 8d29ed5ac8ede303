// The pause detector (runtime/pause-detector.ts) on a clock whose monotonic time can jump (a
// stopped process): one report per pause, from the ticks, from another component, or from a NATS
// outage — a stale connection counted from before its disconnect.
import { ManualClock } from '../../runtime/clock';
import { PauseDetector, type PauseReport } from '../../runtime/pause-detector';

function start(staleDetectMs = 750) {
  const inner = new ManualClock(0);
  let jump = 0;
  const clock = { now: () => inner.now(), monotonic: () => inner.monotonic() + jump, setTimeout: (fn: () => void, ms: number) => inner.setTimeout(fn, ms), clearTimeout: (h: unknown) => inner.clearTimeout(h) };
  const seen: PauseReport[] = [];
  const d = new PauseDetector(clock, 640, staleDetectMs, (r) => seen.push(r));
  d.start();
  return { inner, d, seen, stop: (ms: number) => (jump += ms) };
}

test('ticking on time: nothing; a stop longer than the threshold: one report with its length', () => {
  const t = start();
  expect(t.d.tickMs).toBe(160);
  t.inner.advance(10_000);
  expect(t.seen).toEqual([]);
  t.stop(5000); // the process did not run: the next tick comes 5 s late by the monotonic clock
  t.inner.advance(160);
  expect(t.seen).toEqual([{ gapMs: 5000, source: 'ticks' }]);
  t.inner.advance(1000);
  expect(t.seen).toHaveLength(1);
  t.stop(600); // below the threshold
  t.inner.advance(160);
  expect(t.seen).toHaveLength(1);
});

test('a pause reported by the timer queue is not reported again by the next tick', () => {
  const t = start();
  t.stop(3000);
  t.d.report(3000, 'timer');
  t.inner.advance(160);
  expect(t.seen).toEqual([{ gapMs: 3000, source: 'timer' }]);
});

test('NATS outages: a short one is nothing; a long one, or a stale link counted from before its disconnect, is a pause', () => {
  const t = start(750);
  t.d.linkDown();
  t.inner.advance(500);
  t.d.linkUp();
  expect(t.seen).toEqual([]);
  t.d.linkDown();
  t.inner.advance(700);
  t.d.linkUp();
  expect(t.seen).toEqual([{ gapMs: 700, source: 'nats' }]);
  t.d.linkStale();
  t.d.linkDown();
  t.inner.advance(100);
  t.d.linkUp();
  expect(t.seen.at(-1)).toEqual({ gapMs: 850, source: 'nats' });
  t.d.linkUp(); // no outage open: nothing
  expect(t.seen).toHaveLength(2);
});

test('cut off: while the link has been down past the threshold (a stale one counted from before its disconnect), not before, not after it is back', () => {
  const t = start(750);
  expect(t.d.cutOff()).toBe(false);
  t.d.linkDown();
  t.inner.advance(600);
  expect(t.d.cutOff()).toBe(false);
  t.inner.advance(100);
  expect(t.d.cutOff()).toBe(true);
  t.d.linkUp();
  expect(t.d.cutOff()).toBe(false);
  t.d.linkStale();
  t.d.linkDown();
  expect(t.d.cutOff()).toBe(true); // 750 ms of staleness before the disconnect is past 640 already
  t.d.linkUp();
  expect(t.d.cutOff()).toBe(false);
});

test('overdue: the tick is late past the threshold and has not run yet (a finished probe reporting first on waking)', () => {
  const t = start();
  expect(t.d.overdue()).toBe(false);
  t.stop(5000);
  expect(t.d.overdue()).toBe(true);
  t.inner.advance(160); // the tick runs: the pause is reported, and the detector is current again
  expect(t.seen).toEqual([{ gapMs: 5000, source: 'ticks' }]);
  expect(t.d.overdue()).toBe(false);
  t.d.stop();
  t.stop(5000);
  expect(t.d.overdue()).toBe(false); // stopped: nothing to be late
});

test('noticeNow: an overdue tick is taken at once (a map read on waking, before any timer ran); one report, one timer', () => {
  const t = start();
  expect(t.d.noticeNow()).toBe(false);
  expect(t.seen).toEqual([]);
  t.stop(5000);
  expect(t.d.noticeNow()).toBe(true);
  expect(t.seen).toEqual([{ gapMs: 4840, source: 'ticks' }]);
  expect(t.d.noticeNow()).toBe(false); // current again
  expect(t.inner.pending).toBe(1); // the tick re-armed once, the overdue one cleared
  t.inner.advance(160);
  expect(t.seen).toHaveLength(1);
  t.d.stop();
  t.stop(5000);
  expect(t.d.noticeNow()).toBe(false);
});

test('stop: no more ticks', () => {
  const t = start();
  t.d.stop();
  t.stop(5000);
  t.inner.advance(1000);
  expect(t.seen).toEqual([]);
  expect(t.inner.pending).toBe(0);
});
