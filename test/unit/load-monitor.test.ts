// The node's lag sampler (runtime/load-monitor.ts) under a manual clock: an event loop that stalls
// (ManualClock.stall: time passes, no timer fires) shows as stall between two readings — including
// a stall still under way when read, as when a probe's deadline fires first on waking — and the
// worst lag of each window moves the overloaded state, its gauges and the heartbeat's status.
import pino from 'pino';
import { ManualClock } from '../../runtime/clock';
import { LoadMonitor } from '../../runtime/load-monitor';

function monitor() {
  const clock = new ManualClock();
  const seen = { lags: [] as number[], load: [] as [number, boolean][] };
  const lines: { event?: string }[] = [];
  const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const m = new LoadMonitor(clock, { lagMs: 250, holdMs: 3_000 }, { observeLag: (s) => seen.lags.push(s), setLoad: (s, o) => seen.load.push([s, o]) }, log);
  m.start();
  return { clock, m, seen, events: () => lines.map((l) => l.event) };
}

test('an idle loop stalls nothing', () => {
  const { clock, m } = monitor();
  const before = m.stallMs();
  clock.advance(5_000);
  expect(m.stallMs() - before).toBe(0);
  expect(m.status()).toEqual({ overloaded: false, lagMs: 0 });
});

test('a stall between two readings is measured, even before the sampler has fired again', () => {
  const { clock, m } = monitor();
  clock.advance(105); // next firing due at 120
  const atStart = m.stallMs();
  clock.stall(900); // the loop does not run: nothing fires
  // Read as a probe's deadline would on waking, before the sampler fires: 885 ms past its due time.
  expect(m.stallMs() - atStart).toBe(885);
  clock.advance(1); // the sampler fires at once on waking (885 ms late) and re-arms: the same stall, not twice
  expect(m.stallMs() - atStart).toBe(885);
  clock.advance(1_000);
  expect(m.stallMs() - atStart).toBe(885);
});

test('lag past the threshold for the hold: overloaded (logged, gauged, in the status); below half for the hold: clear', () => {
  const { clock, m, seen, events } = monitor();
  // Every 100 ms the loop stalls 400 ms: each window's worst lag is ~400 ms.
  for (let i = 0; i < 12; i++) {
    clock.stall(400);
    clock.advance(100);
  }
  expect(m.status().overloaded).toBe(true);
  expect(m.status().lagMs).toBeGreaterThanOrEqual(250);
  expect(events()).toEqual(['node_overloaded']);
  expect(seen.load.at(-1)![1]).toBe(true);
  clock.advance(5_000);
  expect(m.status()).toEqual({ overloaded: false, lagMs: 0 });
  expect(events()).toEqual(['node_overloaded', 'node_overload_cleared']);
  expect(seen.load.at(-1)).toEqual([0, false]);
});

test('the timer queue\'s lateness counts towards the window', () => {
  const { clock, m } = monitor();
  for (let i = 0; i < 5; i++) {
    m.noteLateness(600);
    clock.advance(1_000);
  }
  expect(m.status()).toEqual({ overloaded: true, lagMs: 600 });
});
