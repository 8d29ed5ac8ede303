// The interval a check runs at as a pure function of its spec and verdict state
// (protocol/state-interval.ts): HAProxy's inter / fastinter / downinter on the binary verdict, for
// both policies, and the shortest / longest interval a spec can run at.
import { normalizePolicy, normalizeSpec } from '../../checks/spec';
import { intervalPhase, longestInterval, probeInterval, shortestInterval, type IntervalSpec } from '../../protocol/state-interval';
import { applyOutcome, initialVerdict, type VerdictState } from '../../protocol/verdict';

const I = 10_000;
const T = 2_000;
const D = 60_000;
const both: IntervalSpec = { intervalMs: I, intervalWhileTransitioningMs: T, intervalWhileDownMs: D };
const up = (history: string): VerdictState => ({ status: 'up', history });
const down = (history: string): VerdictState => ({ status: 'down', history });

describe('intervalPhase and probeInterval', () => {
  test.each([
    // name, state → phase, interval with both options
    ['up, newest passed: settled', up('1101'), 'settled', I],
    ['up, no outcome yet (consecutive, initial up): settled', up(''), 'settled', I],
    ['up, newest failed: going down', up('1110'), 'transitioning', T],
    ['up, several failures not yet enough to turn it down: still going down', up('1000'), 'transitioning', T],
    ['down, newest passed: going up', down('0001'), 'transitioning', T],
    ['down, newest failed: down', down('1110'), 'down', D],
    ['down, no outcome yet (consecutive, initial down): down', down(''), 'down', D],
  ] as const)('%s', (_name, state, phase, interval) => {
    expect(intervalPhase(state)).toBe(phase);
    expect(probeInterval(both, state)).toBe(interval);
  });

  test.each([
    ['neither option: always intervalMs', { intervalMs: I }, [I, I, I]],
    ['only the transitioning one: down runs at intervalMs', { intervalMs: I, intervalWhileTransitioningMs: T }, [I, T, I]],
    ['only the down one: a changing verdict runs at intervalMs', { intervalMs: I, intervalWhileDownMs: D }, [I, I, D]],
  ] as const)('%s', (_name, spec, [settled, transitioning, isDown]) => {
    expect([probeInterval(spec, up('1')), probeInterval(spec, up('0')), probeInterval(spec, down('0'))]).toEqual([settled, transitioning, isDown]);
    expect(probeInterval(spec, down('1'))).toBe(transitioning);
  });

  test('no verdict reached yet, or a state still being looked up (null): intervalMs', () => {
    expect(probeInterval(both, null)).toBe(I);
  });
});

/**
 * The intervals a check runs at after each outcome of `outcomes`, from the policy's initial state
 * (before any outcome no verdict is reached: the check table passes null).
 */
function walk(policy: Parameters<typeof normalizePolicy>[0], outcomes: string): string[] {
  const p = normalizePolicy(policy);
  let s = initialVerdict(p);
  const out = [`${s.status}:${probeInterval(both, null)}`];
  for (const o of outcomes) {
    s = applyOutcome(p, s, o === '1');
    out.push(`${s.status}:${probeInterval(both, s)}`);
  }
  return out;
}

describe('through a policy, outcome by outcome', () => {
  test('consecutive (rise 2, fall 3, initial up): fast from the first failure until down, down interval, fast from the first pass until up', () => {
    expect(walk({ type: 'consecutive', rise: 2, fall: 3, initial: 'up' }, '1' + '000' + '0' + '1' + '1' + '1')).toEqual([
      'up:10000', // before any probe
      'up:10000',
      'up:2000', // first failure: going down
      'up:2000',
      'down:60000', // the third: down, settled
      'down:60000',
      'down:2000', // first pass: going up
      'up:10000', // the second: up
      'up:10000',
    ]);
  });

  test('consecutive: a failure between passes while up is one fast probe; a pass between failures while down is one fast probe', () => {
    expect(walk({ type: 'consecutive', rise: 2, fall: 3, initial: 'up' }, '01')).toEqual(['up:10000', 'up:2000', 'up:10000']);
    expect(walk({ type: 'consecutive', rise: 2, fall: 1, initial: 'up' }, '010')).toEqual(['up:10000', 'down:60000', 'down:2000', 'down:60000']);
    expect(walk({ type: 'consecutive', rise: 2, fall: 2 }, '00')).toEqual(['down:10000', 'down:60000', 'down:60000']); // initial down: intervalMs before the first outcome
  });

  test('window (8, threshold 3, initial 2): intervalMs until the first outcome; down after the sixth failure in a row', () => {
    expect(walk({ type: 'window', window: 8, threshold: 3 }, '1' + '000000' + '1' + '1')).toEqual([
      'down:10000', // the pre-filled initial state: no verdict yet
      'up:10000',
      'up:2000',
      'up:2000',
      'up:2000',
      'up:2000',
      'up:2000', // 11100000: three passes in the window, still up
      'down:60000', // the sixth failure, 11000000: down
      'down:2000', // a pass while down: going up
      'down:2000', // two passes of three: still down, newest passed
    ]);
  });
});

describe('shortest and longest interval of a spec', () => {
  test.each([
    ['neither option', { intervalMs: I }, I, I],
    ['both', both, T, D],
    ['a down interval below intervalMs', { intervalMs: I, intervalWhileDownMs: 3000 }, 3000, I],
    ['a transitioning interval equal to intervalMs', { intervalMs: I, intervalWhileTransitioningMs: I }, I, I],
  ] as const)('%s', (_name, spec, shortest, longest) => {
    expect([shortestInterval(spec), longestInterval(spec)]).toEqual([shortest, longest]);
  });

  test('normalizeSpec carries the options only when given', () => {
    const plain = normalizeSpec('a', { kind: 'tcp', target: 'db:5432' });
    expect('intervalWhileTransitioningMs' in plain || 'intervalWhileDownMs' in plain).toBe(false);
    const with2 = normalizeSpec('a', { kind: 'tcp', target: 'db:5432', intervalMs: I, intervalWhileTransitioningMs: T, intervalWhileDownMs: D });
    expect([with2.intervalWhileTransitioningMs, with2.intervalWhileDownMs, with2.timeoutMs]).toEqual([T, D, 1999]);
  });
});

describe('a push check runs at push.checkEveryMs: its intervalMs is the job\'s period', () => {
  const push = (p: { checkEveryMs?: number }, intervalMs: number) => normalizeSpec('job', { kind: 'push', intervalMs, push: p });
  test.each([
    // name, spec → interval in every state (null, up settled, going down, down), shortest, longest
    ['a daily job, default cadence: a minute', push({}, 86_400_000), 60_000],
    ['a daily job evaluated every 5 s', push({ checkEveryMs: 5_000 }, 86_400_000), 5_000],
    ['a 30 s period, default cadence: the period (min(intervalMs, 60 s))', push({}, 30_000), 30_000],
    ['a weekly job evaluated hourly (the longest cadence)', push({ checkEveryMs: 3_600_000 }, 7 * 86_400_000), 3_600_000],
  ] as const)('%s', (_name, spec, every) => {
    const states = [null, up('1'), up('0'), down('0'), down('1')];
    expect([...states.map((st) => probeInterval(spec, st)), shortestInterval(spec), longestInterval(spec)]).toEqual(Array(7).fill(every));
  });
});
