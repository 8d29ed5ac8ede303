// Delivery jobs read back as hostile input (protocol/notify-job.ts), their message ids, and the
// event a call renders.
import { eventOf, jobMsgId, newJob, parseJob } from '../../protocol/notify-job';
import type { StatusView } from '../../protocol/notify-match';

const t: StatusView = { checkId: 'api', from: 'up', to: 'down', at: '2026-06-01T12:00:00.000Z', node: 'n1', epoch: 3, seq: 41, reason: 'status', message: 'x' };
const job = newJob('transition', 'ops', 'ops:api:3:41', t, { team: 'payments' });

test('a job survives the round trip through JSON', () => expect(parseJob(JSON.parse(JSON.stringify(job)))).toEqual(job));
test('one message id per delivery, one per reminder chain', () => {
  expect(jobMsgId(job)).toBe('ops:api:3:41');
  expect(jobMsgId({ ...job, kind: 'reminder' })).toBe('ops:api:3:41:remind');
});
test.each([
  ['null', null],
  ['another version', { ...job, v: 2 }],
  ['an unknown kind', { ...job, kind: 'page' }],
  ['a notifier id with a dot', { ...job, notifier: 'a.b' }],
  ['a huge delivery id', { ...job, delivery: 'd'.repeat(600) }],
  ['no transition', { ...job, transition: null }],
])('%s is no job', (_w, data) => expect(parseJob(data)).toBeNull());
test('labels that are not strings are left out; a __proto__ label stays data', () => {
  const parsed = parseJob({ ...job, labels: JSON.parse('{"team":"p","n":1,"__proto__":"x"}') });
  expect(Object.entries(parsed!.labels)).toEqual([['team', 'p'], ['__proto__', 'x']]);
  expect(Object.getPrototypeOf(parsed!.labels)).toBe(Object.prototype);
});
test('the event of a reminder', () => expect(eventOf({ ...job, kind: 'reminder' }, 2)).toMatchObject({ kind: 'reminder', reminder: 2, check: 'api', to: 'down', labels: { team: 'payments' } }));
