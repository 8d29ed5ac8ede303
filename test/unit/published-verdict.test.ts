// The published verdict (protocol/published-verdict.ts): up / degraded / down / flapping derived
// from the binary policy verdict, the newest outcome and the carried flags.
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import type { ProbeOutcome } from '../../checks/outcome';
import { breachOf, changeCause, flagFields, flagsOf, publishedOf, stepPublished, type VerdictFlags } from '../../protocol/published-verdict';
import { failWith, pass } from '../helpers/fake-ports';

const spec = (extra: Partial<CheckSpec> = {}) =>
  normalizeSpec('api', { kind: 'http', target: 'https://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, policy: { type: 'consecutive', rise: 1, fall: 2 }, ...extra } as CheckSpec);
const slow = (ms: number): ProbeOutcome => ({ ...pass(), latencyMs: ms, timings: { total: ms } });
const cert = (chainDaysLeft: number): ProbeOutcome => ({ ...pass(), cert: { daysLeft: chainDaysLeft, notAfter: '2027-01-01T00:00:00.000Z', chainDaysLeft, chainNotAfter: '2027-01-01T00:00:00.000Z' } });
const flags = (degraded: boolean, flapping: boolean): VerdictFlags => ({ degraded, flapping });

describe('publishedOf', () => {
  test.each([
    // policy, degraded, flapping → published
    ['up', false, false, 'up'],
    ['up', true, false, 'degraded'],
    ['down', false, false, 'down'],
    ['down', true, false, 'down'], // degraded only while the policy is up
    ['up', false, true, 'flapping'],
    ['up', true, true, 'flapping'],
    ['down', true, true, 'flapping'],
  ] as const)('%s, degraded %s, flapping %s → %s', (status, degraded, flapping, want) => {
    expect(publishedOf(status, flags(degraded, flapping))).toBe(want);
  });
});

describe('breachOf: a passing probe over a degraded threshold', () => {
  test.each([
    ['no thresholds', spec(), slow(900), null],
    ['slower than degradedAfterMs', spec({ degradedAfterMs: 500 }), slow(501), 'latency'],
    ['exactly degradedAfterMs is not slower', spec({ degradedAfterMs: 500 }), slow(500), null],
    ['a failed probe never breaches', spec({ degradedAfterMs: 500 }), { ...failWith('status'), latencyMs: 900 }, null],
    ['chain expires sooner than tls.degradedDaysLeft', spec({ http: { tls: { degradedDaysLeft: 30 } } }), cert(29.5), 'cert_expiry'],
    ['chain expires just at tls.degradedDaysLeft', spec({ http: { tls: { degradedDaysLeft: 30 } } }), cert(30), null],
    ['no certificate seen', spec({ http: { tls: { degradedDaysLeft: 30 } } }), pass(), null],
    ['both: the certificate is named first', spec({ degradedAfterMs: 1, http: { tls: { degradedDaysLeft: 30 } } }), { ...cert(3), latencyMs: 9 }, 'cert_expiry'],
  ] as const)('%s → %s', (_name, s, o, want) => {
    expect(breachOf(s, o)?.reason ?? null).toBe(want);
  });

  test('the message says what was measured and the threshold', () => {
    expect(breachOf(spec({ degradedAfterMs: 500 }), slow(812))?.message).toBe('the probe took 812 ms; degradedAfterMs is 500');
  });
});

describe('stepPublished', () => {
  const s = spec({ degradedAfterMs: 500 });
  const upState = (degraded = false) => ({ verdict: { status: 'up' as const, history: '11' }, degraded, flapping: false });

  test.each([
    // name, degraded before, outcome → degraded after, published
    ['a slow pass degrades an up check', false, slow(600), true, 'degraded'],
    ['a fast pass clears it', true, slow(100), false, 'up'],
    ['a failure the policy absorbs keeps degraded (no up in between)', true, failWith('timeout'), true, 'degraded'],
    ['a failure the policy absorbs keeps up', false, failWith('timeout'), false, 'up'],
  ] as const)('%s', (_name, before, o, degraded, to) => {
    const step = stepPublished(s, upState(before), o);
    expect([step.degraded, step.to]).toEqual([degraded, to]);
    expect(step.flapping).toBe(false);
    expect(step.percent).toBeNull(); // no flap in the spec
  });

  test('the policy still decides up and down: two failures under fall 2 are down, degraded or not', () => {
    const step = stepPublished(s, { verdict: { status: 'up', history: '110' }, degraded: true, flapping: false }, failWith('status'));
    expect([step.verdict.status, step.to]).toEqual(['down', 'down']);
  });

  test('down → degraded directly when the first pass after a down is slow', () => {
    const step = stepPublished(s, { verdict: { status: 'down', history: '00' }, degraded: false, flapping: false }, slow(700));
    expect(step.to).toBe('degraded');
  });

  test('with flap, the percent of the new history decides the flag', () => {
    const f = spec({ flap: { low: 20, high: 30 } });
    const storm = { verdict: { status: 'up' as const, history: '10101010101010101010' }, degraded: false, flapping: false };
    const step = stepPublished(f, storm, pass());
    expect(step.percent).toBeGreaterThanOrEqual(30);
    expect([step.flapping, step.to]).toEqual([true, 'flapping']);
  });
});

describe('changeCause', () => {
  const s = spec({ degradedAfterMs: 500, flap: { low: 20, high: 30 } });
  test('down: the probe’s reason; degraded: the threshold; flapping: the percent; up: none', () => {
    const state = { verdict: { status: 'up' as const, history: '11' }, degraded: false, flapping: false };
    const deg = stepPublished(s, state, slow(600));
    expect(changeCause(s, deg, slow(600))).toEqual({ reason: 'latency', message: 'the probe took 600 ms; degradedAfterMs is 500' });
    const down = { ...deg, to: 'down' as const };
    expect(changeCause(s, down, failWith('status'))).toEqual({ reason: 'status', message: 'failed: status' });
    const flap = { ...deg, to: 'flapping' as const, percent: 42.5 };
    expect(changeCause(s, flap, pass())).toEqual({ reason: null, message: '42.5% state change over the last 21 results (flapping from flap.high 30% until flap.low 20%)' });
    expect(changeCause(s, { ...deg, to: 'up' as const }, pass())).toEqual({ reason: null, message: null });
  });
});

describe('the flags on the wire: present only when true; absent (an older node) reads as false', () => {
  test.each([
    ['up', flags(true, false), { degraded: true }],
    ['down', flags(true, false), {}], // degraded means nothing while down
    ['down', flags(false, true), { flapping: true }],
    ['up', flags(false, false), {}],
  ] as const)('%s %j → %j', (status, f, wire) => {
    expect(flagFields(status, f)).toEqual(wire);
  });

  test.each([
    [{}, flags(false, false)],
    [{ degraded: true, flapping: true }, flags(true, true)],
    [{ degraded: 'yes', flapping: 1 }, flags(false, false)],
  ])('%j → %j', (raw, want) => {
    expect(flagsOf(raw)).toEqual(want);
  });
});
