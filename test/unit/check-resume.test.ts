// The resume state machine of a check-table entry as a table: every phase against every input,
// the legal transitions of protocol/check-resume.ts and the named no-ops; and what a check
// continues from.
import { normalizeSpec } from '../../checks/spec';
import { continueFrom, resumeStep, ResumePhase, takeoverSeqGap, type ResumeInput } from '../../protocol/check-resume';

const due: ResumeInput = { type: 'due' };
const answer = (recent: boolean, probed: boolean): ResumeInput => ({ type: 'answer', recent, probed });

describe('resumeStep', () => {
  test.each([
    // phase, input, → phase, action
    ['lookingUp', due, 'lookingUp', 'none'], // the probe runs; its outcome parks until the answer
    ['lookingUp', answer(true, false), 'awaitingFirstProbe', 'wait'], // a planned move: the old owner is still probing
    ['lookingUp', answer(true, true), 'resumed', 'apply'], // we already probed: take what we have
    ['lookingUp', answer(false, false), 'resumed', 'apply'], // none, or overdue (a failover)
    ['lookingUp', answer(false, true), 'resumed', 'apply'],
    ['awaitingFirstProbe', due, 'lookingUpAgain', 'lookup'], // the first probe: look up again
    ['awaitingFirstProbe', answer(true, false), 'awaitingFirstProbe', 'ignore'],
    ['awaitingFirstProbe', answer(false, true), 'awaitingFirstProbe', 'ignore'],
    ['lookingUpAgain', due, 'lookingUpAgain', 'none'],
    ['lookingUpAgain', answer(true, true), 'resumed', 'apply'], // the second answer is taken as it is
    ['lookingUpAgain', answer(false, true), 'resumed', 'apply'],
    ['lookingUpAgain', answer(true, false), 'resumed', 'apply'],
    ['resumed', due, 'resumed', 'none'],
    ['resumed', answer(true, false), 'resumed', 'ignore'], // e.g. the answer for a check removed and set again
    ['resumed', answer(false, true), 'resumed', 'ignore'],
  ] as const)('%s + %j → %s (%s)', (phase, input, next, action) => {
    expect(resumeStep(phase, input)).toEqual({ phase: next, action });
  });

  test('the phases are these four (the table above covers each), and from each one `resumed` is reached', () => {
    const phases = Object.values(ResumePhase);
    expect(phases).toEqual(['lookingUp', 'awaitingFirstProbe', 'lookingUpAgain', 'resumed']);
    for (const start of phases) {
      let phase: ResumePhase = start;
      // The longest path: an answer that defers, the first due slot, the second answer.
      for (const input of [answer(true, false), due, answer(true, true)]) phase = resumeStep(phase, input).phase;
      expect([start, phase]).toEqual([start, 'resumed']);
    }
  });

  test('a lookup is issued only on the way out of awaitingFirstProbe; apply only on the way into resumed', () => {
    const inputs = [due, answer(true, false), answer(true, true), answer(false, false), answer(false, true)];
    for (const phase of Object.values(ResumePhase)) {
      for (const input of inputs) {
        const step = resumeStep(phase, input);
        if (step.action === 'lookup') expect([phase, step.phase]).toEqual(['awaitingFirstProbe', 'lookingUpAgain']);
        if (step.action === 'apply') expect(step.phase).toBe('resumed');
        if (step.action === 'none' || step.action === 'ignore') expect(step.phase).toBe(phase);
      }
    }
  });
});

describe('continueFrom', () => {
  const spec = normalizeSpec('a', { kind: 'tcp', target: '127.0.0.1:1', intervalMs: 1000, timeoutMs: 500, policy: { type: 'window', window: 3, threshold: 2, initial: 1 } });

  test('a found state: its verdict, history and seq; its status counts as published', () => {
    expect(continueFrom({ seq: 41, status: 'down', history: '0010', slot: 5 }, spec.policy)).toEqual({ verdict: { status: 'down', history: '0010' }, seq: 41, published: 'down', degraded: false, flapping: false });
  });

  test.each([
    // the found result's flags → published, and the flags carried on (absent: an older node's result)
    [{ status: 'up' as const }, 'up', false, false],
    [{ status: 'up' as const, degraded: true as const }, 'degraded', true, false],
    [{ status: 'up' as const, degraded: true as const, flapping: true as const }, 'flapping', true, true],
    [{ status: 'down' as const, flapping: true as const }, 'flapping', false, true],
  ])('a found result %j: published %s, degraded %s, flapping %s', (found, published, degraded, flapping) => {
    expect(continueFrom({ seq: 41, history: '0011', slot: 5, ...found }, spec.policy)).toMatchObject({ seq: 41, published, degraded, flapping });
  });

  test('none: the policy’s initial verdict, seq 0, nothing published yet', () => {
    expect(continueFrom(null, spec.policy)).toEqual({ verdict: { status: 'down', history: '001' }, seq: 0, published: 'unknown', degraded: false, flapping: false });
  });
});

describe('takeover seq gap: a held-dead holder\'s unseen results never share a seq with ours', () => {
  test.each([
    // interval, unseen window → seq numbers skipped
    [1000, 0, 0],
    [1000, 1750, 3], // test profile: dead 1000 + 3 pings of 250
    [2000, 6500, 5], // production: dead 3500 + 3 pings of 1000, at a 2 s interval
    [60_000, 6500, 2],
    [1000, 1000, 2],
  ])('interval %i ms, window %i ms → %i', (interval, window, gap) => {
    expect(takeoverSeqGap(interval, window)).toBe(gap);
  });

  test('continueFrom skips the gap, found or not', () => {
    const spec = normalizeSpec('a', { kind: 'tcp', target: '127.0.0.1:1', intervalMs: 1000, timeoutMs: 500 });
    expect(continueFrom({ seq: 41, status: 'up', history: '1', slot: 5 }, spec.policy, 3)).toMatchObject({ seq: 44, published: 'up' });
    expect(continueFrom(null, spec.policy, 3)).toMatchObject({ seq: 3, published: 'unknown' });
  });
});
