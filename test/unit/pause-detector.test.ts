// The pause detector (runtime/pause-detector.ts) on a manual clock that can stall (a stopped
// process: time passes, no timer fires): one report per pause, from its ticks (the lag sampler's
// late timer, runtime/load-monitor.ts), from another component, or from a NATS outage — a stale
// connection counted from before its disconnect.
import { ManualClock } from '../../runtime/clock';
import { LoadMonitor } from '../../runtime/load-monitor';
import { PauseDetector, type PauseReport } from '../../runtime/pause-detector';

function start(staleDetectMs = 750) {
  const clock = new ManualClock(0);
  const seen: PauseReport[] = [];
  const d = new PauseDetector(clock, 640, staleDetectMs, (r) => seen.push(r));
  // Its ticks: the lag sampler's 20 ms timer (runtime/load-monitor.ts), as the node wires it.
  const load = new LoadMonitor(clock, { lagMs: 250, holdMs: 5_000 }, { observeLag: () => {}, setLoad: () => {} }, null, (late) => d.tick(late));
  load.start();
  return { clock, d, load, seen };
}

test('ticking on time: nothing; a stop longer than the threshold: one report with its length', () => {
  const t = start();
  t.clock.advance(10_000);
  expect(t.seen).toEqual([]);
  t.clock.stall(5000); // the process did not run: the sampler fires 5 s late
  t.clock.advance(1);
  expect(t.seen).toEqual([{ gapMs: 4980, source: 'ticks' }]); // from its due time, 20 ms after the last firing
  t.clock.advance(1000);
  expect(t.seen).toHaveLength(1);
  t.clock.stall(600); // below the threshold
  t.clock.advance(1);
  expect(t.seen).toHaveLength(1);
});

test('a pause reported by the timer queue is not reported again by the late tick', () => {
  const t = start();
  t.clock.advance(105);
  t.clock.stall(3000);
  t.d.report(3000, 'timer');
  t.clock.advance(1);
  expect(t.seen).toEqual([{ gapMs: 3000, source: 'timer' }]);
  t.clock.stall(3000); // a later pause is reported again
  t.clock.advance(1);
  expect(t.seen).toEqual([{ gapMs: 3000, source: 'timer' }, { gapMs: 2981, source: 'ticks' }]);
});

test('NATS outages: a short one is nothing; a long one, or a stale link counted from before its disconnect, is a pause', () => {
  const t = start(750);
  t.d.linkDown();
  t.clock.advance(500);
  t.d.linkUp();
  expect(t.seen).toEqual([]);
  t.d.linkDown();
  t.clock.advance(700);
  t.d.linkUp();
  expect(t.seen).toEqual([{ gapMs: 700, source: 'nats' }]);
  t.d.linkStale();
  t.d.linkDown();
  t.clock.advance(100);
  t.d.linkUp();
  expect(t.seen.at(-1)).toEqual({ gapMs: 850, source: 'nats' });
  t.d.linkUp(); // no outage open: nothing
  expect(t.seen).toHaveLength(2);
});

test('the sampler stopped: no more ticks', () => {
  const t = start();
  t.load.stop();
  t.clock.stall(5000);
  t.clock.advance(1000);
  expect(t.seen).toEqual([]);
  expect(t.clock.pending).toBe(0);
});
