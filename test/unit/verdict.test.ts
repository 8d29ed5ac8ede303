import { normalizePolicy } from '../../checks/spec';
import { applyOutcome, initialVerdict, parseVerdictState, HISTORY_MAX, type VerdictState } from '../../protocol/verdict';

/** Run a sequence like "✓✓✗" through a policy; returns the verdict after each probe. */
function run(policy: Parameters<typeof normalizePolicy>[0], seq: string, start?: VerdictState): string[] {
  const p = normalizePolicy(policy);
  let s = start ?? initialVerdict(p);
  const out: string[] = [];
  for (const c of seq) {
    s = applyOutcome(p, s, c === '✓');
    out.push(s.status);
  }
  return out;
}

describe('window / threshold / initial (Varnish)', () => {
  const w53 = { type: 'window' as const, window: 5, threshold: 3, initial: 0 };

  test('window 5, threshold 3: ✓✓✓✗✗ is healthy, one more ✗ is sick', () => {
    const v = run(w53, '✓✓✓✗✗✗');
    expect(v.slice(0, 5)).toEqual(['down', 'down', 'up', 'up', 'up']);
    expect(v[5]).toBe('down');
  });

  test.each([
    // [policy, outcomes, verdict after each]
    [{ type: 'window', window: 5, threshold: 3, initial: 0 }, '✓✓✓✓✓', 'down down up up up'],
    [{ type: 'window', window: 5, threshold: 3, initial: 0 }, '✓✗✓✗✓✗✓', 'down down down down up down up'],
    [{ type: 'window', window: 5, threshold: 3, initial: 2 }, '✓', 'up'],
    [{ type: 'window', window: 5, threshold: 3, initial: 2 }, '✗✓', 'down up'],
    [{ type: 'window', window: 5, threshold: 3, initial: 3 }, '✗✗✗', 'up up down'],
    [{ type: 'window', window: 5, threshold: 3, initial: 5 }, '✗✗✗', 'up up down'],
    [{ type: 'window', window: 1, threshold: 1, initial: 0 }, '✓✗✓', 'up down up'],
    [{ type: 'window', window: 3, threshold: 3, initial: 3 }, '✓✗✓✓✓', 'up down down down up'],
    [{ type: 'window', window: 8, threshold: 3 }, '✓✗✗✗✗✗✗', 'up up up up up up down'],
  ] as const)('%j %s → %s', (policy, outcomes, expected) => {
    expect(run(policy, outcomes).join(' ')).toBe(expected);
  });

  test.each([
    [0, 'down', '00000'],
    [2, 'down', '00011'],
    [3, 'up', '00111'],
    [5, 'up', '11111'],
  ])('initial %i pre-fills passes: starts %s with history %s', (initial, status, history) => {
    const s = initialVerdict(normalizePolicy({ type: 'window', window: 5, threshold: 3, initial }));
    expect(s).toEqual({ status, history });
  });

  test('defaults follow Varnish: window 8, threshold 3, initial 2 (starts down, one pass makes it up)', () => {
    const p = normalizePolicy(undefined);
    expect(p).toMatchObject({ type: 'window', window: 8, threshold: 3, initial: 2 });
    expect(initialVerdict(p).status).toBe('down');
    expect(run(undefined, '✓')).toEqual(['up']);
  });
});

describe('consecutive rise / fall (HAProxy, Consul)', () => {
  test.each([
    [{ type: 'consecutive', rise: 2, fall: 3 }, '✓✓✗✗✗', 'down up up up down'],
    [{ type: 'consecutive', rise: 2, fall: 3 }, '✓✗✓✗✓✓', 'down down down down down up'],
    [{ type: 'consecutive', rise: 2, fall: 3, initial: 'up' }, '✗✗✓✗✗✗', 'up up up up up down'],
    [{ type: 'consecutive', rise: 1, fall: 1 }, '✓✗✓', 'up down up'],
    [{ type: 'consecutive', rise: 3, fall: 1, initial: 'up' }, '✗✓✓✓', 'down down down up'],
  ] as const)('%j %s → %s', (policy, outcomes, expected) => {
    expect(run(policy, outcomes).join(' ')).toBe(expected);
  });

  test('initial verdict defaults to down, empty history', () => {
    expect(initialVerdict(normalizePolicy({ type: 'consecutive' }))).toEqual({ status: 'down', history: '' });
  });
});

describe('state', () => {
  test('history keeps the newest HISTORY_MAX outcomes', () => {
    const p = normalizePolicy({ type: 'window', window: 4, threshold: 2, initial: 0 });
    let s = initialVerdict(p);
    for (let i = 0; i < 100; i++) s = applyOutcome(p, s, i % 2 === 0);
    expect(s.history).toHaveLength(HISTORY_MAX);
    expect(s.history.endsWith('10')).toBe(true);
  });

  test('a resumed state continues exactly: no flip on handover', () => {
    // Healthy check handed over with one recent failure: the next failure alone must not flip it.
    const policy = { type: 'window' as const, window: 5, threshold: 3, initial: 0 };
    const resumed = { status: 'up' as const, history: '11110' };
    expect(run(policy, '✗', resumed)).toEqual(['up']);
  });

  test.each([
    ['up', '0101', true],
    ['down', '', true],
    ['maybe', '01', false],
    ['up', '012', false],
    ['up', 5, false],
    ['up', '1'.repeat(HISTORY_MAX + 1), false],
  ])('parseVerdictState(%j, %j) valid=%j', (status, history, valid) => {
    expect(parseVerdictState(status, history) !== null).toBe(valid);
  });
});
