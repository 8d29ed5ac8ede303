// Admission control of the spec API as a pure function of arrivals and time: the token bucket,
// the backlog bound, the retry hint; and the rejection tally behind the periodic summary.
import { AdmissionGate, costOf, RejectionTally, TOKEN_BYTES } from '../../protocol/spec-admission';

const run = (gate: AdmissionGate, at: number[]) => at.map((t) => gate.offer(t)).map((a) => (a.type === 'admit' ? 'admit' : `${a.why}:${a.retryAfterMs}`));

describe('AdmissionGate', () => {
  test.each([
    ['a burst up to `burst` is admitted, the rest shed with the time to the next token', { ratePerSec: 10, burst: 3, maxPending: 100 }, [0, 0, 0, 0, 0], ['admit', 'admit', 'admit', 'rate:100', 'rate:100']],
    ['tokens come back at the rate', { ratePerSec: 10, burst: 1, maxPending: 100 }, [0, 50, 100, 150, 200], ['admit', 'rate:50', 'admit', 'rate:50', 'admit']],
    ['a quiet period refills up to the burst, not beyond', { ratePerSec: 1000, burst: 2, maxPending: 100 }, [0, 10_000, 10_000, 10_000], ['admit', 'admit', 'admit', 'rate:1']],
    ['the backlog bound sheds before the rate does', { ratePerSec: 1000, burst: 100, maxPending: 2 }, [0, 0, 0, 0], ['admit', 'admit', 'backlog:1', 'backlog:1']],
  ] as const)('%s', (_what, cfg, at, expected) => {
    expect(run(new AdmissionGate(cfg, 0), [...at])).toEqual(expected);
  });

  test('answered requests free backlog places; a clock that steps back never mints tokens', () => {
    const g = new AdmissionGate({ ratePerSec: 1000, burst: 5, maxPending: 2 }, 1000);
    expect(run(g, [1000, 1000, 1000])).toEqual(['admit', 'admit', 'backlog:1']);
    g.done();
    expect(g.backlog).toBe(1);
    expect(run(g, [1000])).toEqual(['admit']);
    g.done();
    g.done();
    g.done(); // never below zero
    expect(g.backlog).toBe(0);
    // 5 − 3 = 2 tokens left; the clock went back, which adds none.
    expect(run(g, [0, 0])).toEqual(['admit', 'admit']);
    g.done();
    g.done();
    expect(run(g, [0])).toEqual(['rate:1']);
  });

  test('bad bounds are refused', () => {
    expect(() => new AdmissionGate({ ratePerSec: 0, burst: 1, maxPending: 1 }, 0)).toThrow(/ratePerSec/);
    expect(() => new AdmissionGate({ ratePerSec: 1, burst: 0, maxPending: 1 }, 0)).toThrow();
  });
});

test('RejectionTally counts per code between summaries and says nothing after a quiet period', () => {
  const t = new RejectionTally();
  expect(t.take()).toBeNull();
  for (const c of ['range', 'type', 'range', 'unavailable(rate)']) t.add(c);
  expect(t.take()).toEqual({ range: 2, type: 1, 'unavailable(rate)': 1 });
  expect(t.take()).toBeNull();
});

test('big payloads cost more tokens: one per started 4 KiB; a request above the burst is still admissible', () => {
  expect([0, 1, TOKEN_BYTES, TOKEN_BYTES + 1, 256 * 1024].map(costOf)).toEqual([1, 1, 1, 2, 64]);
  const g = new AdmissionGate({ ratePerSec: 100, burst: 50, maxPending: 1000 }, 0);
  expect(g.offer(0, costOf(100 * 1024))).toEqual({ type: 'admit' }); // 25 tokens
  expect(g.offer(0, costOf(100 * 1024))).toEqual({ type: 'admit' }); // 25 more: the burst is spent
  expect(g.offer(0, 1)).toEqual({ type: 'shed', why: 'rate', retryAfterMs: 10 });
  expect(g.offer(400, 64)).toEqual({ type: 'shed', why: 'rate', retryAfterMs: 100 }); // costs the whole burst (50); 0.4 s gave 40
  expect(g.offer(500, 64)).toEqual({ type: 'admit' });
});
