// What the node holding a delivery job does (protocol/notify-attempt.ts): the backoff, which
// answers are retried, and the decisions on arrival and after a call, for transitions and reminders.
import { afterCall, backoffMs, onArrival, retryableStatus } from '../../protocol/notify-attempt';
import { newJob, type NotifyJob } from '../../protocol/notify-job';
import type { StatusView } from '../../protocol/notify-match';
import { normalizeNotifier, type Notifier } from '../../protocol/notifier';

const NOW = Date.parse('2026-01-06T12:00:00Z'); // a Tuesday
const down: StatusView = { checkId: 'api', from: 'up', to: 'down', at: '2026-01-06T11:59:00Z', node: 'n1', epoch: 3, seq: 41, reason: 'status', message: 'x' };
const up: StatusView = { ...down, from: 'down', to: 'up', seq: 42 };
const n = (doc: Omit<Notifier, 'webhook'> = {}) => normalizeNotifier('ops', { webhook: { url: 'http://127.0.0.1:9/' }, retry: { attempts: 3, backoffMs: 1000, maxBackoffMs: 5000 }, ...doc });
const job = (kind: 'transition' | 'reminder', t: StatusView = down): NotifyJob => newJob(kind, 'ops', 'ops:api:3:41', t, {});
const openNow = [{ cron: '0 12 * * *', durationMs: 3_600_000, comment: 'noon' }];
const fail500 = { ok: false as const, retryable: true, httpStatus: 500, error: 'HTTP 500' };

test.each([
  [1, 1000],
  [2, 2000],
  [3, 4000],
  [4, 5000],
  [100, 5000],
])('backoff after attempt %i: %i ms', (attempt, ms) => expect(backoffMs(n().retry, attempt)).toBe(ms));

test.each([
  [500, true], [503, true], [429, true], [408, true], [425, true], [400, false], [401, false], [404, false], [410, false],
])('HTTP %i retryable: %s', (status, want) => expect(retryableStatus(status)).toBe(want));

describe('a transition job on arrival', () => {
  test('its notifier was deleted', () => expect(onArrival(job('transition'), null, 1, NOW)).toEqual({ type: 'drop', why: 'notifier_deleted' }));
  test('first delivery: call, attempt 1', () => expect(onArrival(job('transition'), n(), 1, NOW)).toEqual({ type: 'deliver', attempt: 1, reminder: null }));
  test('third delivery: attempt 3', () => expect(onArrival(job('transition'), n(), 3, NOW)).toEqual({ type: 'deliver', attempt: 3, reminder: null }));
  test('past its attempts (the node of the last one died): no call', () => expect(onArrival(job('transition'), n(), 4, NOW)).toEqual({ type: 'exhausted', attempt: 4 }));
  test('in a silence: suppressed; a down with reminders still starts them', () => {
    expect(onArrival(job('transition'), n({ silences: openNow }), 1, NOW)).toMatchObject({ type: 'suppress', remind: false, waitMs: null, silence: { index: 0 } });
    expect(onArrival(job('transition'), n({ silences: openNow, remindEveryMs: 60_000 }), 1, NOW)).toMatchObject({ type: 'suppress', remind: true });
    expect(onArrival(job('transition', up), n({ silences: openNow, remindEveryMs: 60_000 }), 1, NOW)).toMatchObject({ type: 'suppress', remind: false });
  });
});

describe('a transition job after its call', () => {
  test('2xx: delivered; reminders only after a down with remindEveryMs', () => {
    expect(afterCall(job('transition'), n(), 1, { ok: true, httpStatus: 204 })).toEqual({ type: 'delivered', remind: false });
    expect(afterCall(job('transition'), n({ remindEveryMs: 60_000 }), 1, { ok: true, httpStatus: 200 })).toEqual({ type: 'delivered', remind: true });
    expect(afterCall(job('transition', up), n({ remindEveryMs: 60_000 }), 1, { ok: true, httpStatus: 200 })).toEqual({ type: 'delivered', remind: false });
  });
  test('retryable with attempts left: retry after the backoff', () => expect(afterCall(job('transition'), n(), 2, fail500)).toEqual({ type: 'retry', delayMs: 2000 }));
  test('retryable on the last attempt: dead', () => expect(afterCall(job('transition'), n(), 3, fail500)).toEqual({ type: 'dead', error: 'HTTP 500 (attempt 3 of 3: no attempts left)', httpStatus: 500 }));
  test('not retryable: dead at once', () => expect(afterCall(job('transition'), n(), 1, { ok: false, retryable: false, httpStatus: null, error: 'denied' })).toEqual({ type: 'dead', error: 'denied (not retried)', httpStatus: null }));
});

describe('a reminder job', () => {
  const r = n({ remindEveryMs: 60_000 });
  test('first delivery is the timer: wait', () => expect(onArrival(job('reminder'), r, 1, NOW)).toEqual({ type: 'wait', delayMs: 60_000 }));
  test('still this down: reminder n is delivery n + 1', () => expect(onArrival(job('reminder'), r, 3, NOW, down)).toEqual({ type: 'deliver', attempt: 1, reminder: 2 }));
  test('a quorum message that keeps the verdict is still this down', () => expect(onArrival(job('reminder'), r, 2, NOW, { ...down, from: 'down', seq: 50 })).toEqual({ type: 'deliver', attempt: 1, reminder: 1 }));
  test('the check is up', () => expect(onArrival(job('reminder'), r, 2, NOW, up)).toEqual({ type: 'stop', why: 'check_recovered' }));
  test('the check was deleted', () => expect(onArrival(job('reminder'), r, 2, NOW, null)).toEqual({ type: 'stop', why: 'check_gone' }));
  test('a newer down has its own chain', () => expect(onArrival(job('reminder'), r, 2, NOW, { ...down, from: 'unknown', epoch: 4, seq: 1 })).toEqual({ type: 'stop', why: 'newer_change' }));
  test('reminders turned off, or the notifier deleted', () => {
    expect(onArrival(job('reminder'), n(), 2, NOW, down)).toEqual({ type: 'drop', why: 'reminders_off' });
    expect(onArrival(job('reminder'), null, 2, NOW, down)).toEqual({ type: 'drop', why: 'notifier_deleted' });
  });
  test('in a silence: suppressed, and the chain waits on', () => expect(onArrival(job('reminder'), n({ remindEveryMs: 60_000, silences: openNow }), 2, NOW, down)).toMatchObject({ type: 'suppress', remind: false, waitMs: 60_000 }));
  test('after its call, whatever the outcome: wait for the next', () => {
    expect(afterCall(job('reminder'), r, 1, { ok: true, httpStatus: 200 })).toEqual({ type: 'wait', delayMs: 60_000, failed: null });
    expect(afterCall(job('reminder'), r, 1, fail500)).toEqual({ type: 'wait', delayMs: 60_000, failed: 'HTTP 500' });
  });
});
