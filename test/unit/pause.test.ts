// The pause rule (protocol/pause.ts): which gaps, late timers and NATS outages count as a pause.
import { TIMING_PROFILES } from '../../runtime/config';
import { confirmTimings, outageMs, pauseBetweenTicks, pauseFromLateTimer, pauseFromOutage, pauseThresholdMs, pauseTickMs, PAUSE_MIN_THRESHOLD_MS } from '../../protocol/pause';

describe('pause threshold: 0.8 × (deadAfterMs − 2 × heartbeatMs)', () => {
  test.each([
    ['production', 3500, 500, 2000],
    ['nats-cluster', 3500, 500, 2000],
    ['test', 1000, 100, 640],
    ['heartbeat half the dead threshold: the floor', 200, 100, PAUSE_MIN_THRESHOLD_MS],
  ])('%s (dead %i ms, heartbeat %i ms) → %i ms', (_name, dead, hb, want) => {
    expect(pauseThresholdMs(dead, hb)).toBe(want);
  });

  test('every profile: below the dead threshold, so a pause that got us declared dead is always flagged', () => {
    for (const p of Object.values(TIMING_PROFILES)) {
      const t = pauseThresholdMs(p.deadAfterMs, p.heartbeatMs);
      expect(t).toBeLessThan(p.deadAfterMs - p.heartbeatMs);
      expect(pauseTickMs(t)).toBeLessThanOrEqual(t / 4);
    }
  });

  test.each([
    [640, 160],
    [2000, 500],
    [20_000, 1_000],
    [20, 10],
  ])('tick for threshold %i ms → %i ms', (threshold, tick) => {
    expect(pauseTickMs(threshold)).toBe(tick);
  });
});

describe('evidence of a pause', () => {
  test.each([
    ['on time', 1000, 1160, 160, 0],
    ['late, below the threshold', 1000, 1160 + 640, 160, 0],
    ['late, just past the threshold', 1000, 1160 + 641, 160, 641],
    ['a 5 s SIGSTOP', 1000, 1160 + 5000, 160, 5000],
  ])('ticks: %s', (_name, prev, now, tick, want) => {
    expect(pauseBetweenTicks(prev, now, tick, 640)).toBe(want);
  });

  test.each([
    ['early (host timer rounding)', 1000, 999, 0],
    ['on time', 1000, 1000, 0],
    ['at the threshold', 1000, 1640, 0],
    ['past it', 1000, 1641, 641],
  ])('late timer: %s', (_name, due, fired, want) => {
    expect(pauseFromLateTimer(due, fired, 640)).toBe(want);
  });

  test.each([
    ['a short reconnect', { downAt: 0, upAt: 500, stale: false }, 500, 0],
    ['a cut link past the threshold', { downAt: 0, upAt: 700, stale: false }, 700, 700],
    ['a frozen link found by pings: counted from before the disconnect', { downAt: 0, upAt: 100, stale: true }, 850, 850],
    ['clock weirdness never counts negative', { downAt: 100, upAt: 0, stale: false }, 0, 0],
  ])('NATS outage: %s', (_name, o, length, pause) => {
    expect(outageMs(o, 750)).toBe(length);
    expect(pauseFromOutage(o, 750, 640)).toBe(pause);
  });
});

test('confirmation timings follow the failure detector', () => {
  expect(confirmTimings(3500, 500)).toEqual({ retryMs: 500, stepTimeoutMs: 3500, confirmMaxMs: 10_500 });
});
