// The panic guard's intake (runtime/panic-guard.ts): a node publishes a down notice beside each
// status message that says down (downNoticeOf), and every guard counts those notices, on
// `<prefix>._node.down` only — never the status messages themselves (a start's first verdicts: one
// per check, which every node heard until the notices).
import pino from 'pino';
import type { Bus, BusMsg } from '../../runtime/bus';
import { encode, lazyJson } from '../../runtime/bus';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { downNoticeOf, startPanicGuard } from '../../runtime/panic-guard';
import { subjects } from '../../runtime/subjects';

test.each([
  ['a change to down', { checkId: 'a', from: 'up', to: 'down', reason: 'timeout' }, { checkId: 'a' }],
  ['a change to down in a group', { checkId: 'a', from: 'up', to: 'down', group: 'eu' }, { checkId: 'a', group: 'eu' }],
  ['a group too long to watch', { checkId: 'a', to: 'down', group: 'x'.repeat(65) }, { checkId: 'a' }],
  ['an empty group', { checkId: 'a', to: 'down', group: '' }, { checkId: 'a' }],
  ['a first verdict', { checkId: 'a', from: 'unknown', to: 'up' }, null],
  ['a recovery', { checkId: 'a', from: 'down', to: 'up' }, null],
  ['degraded (the word down elsewhere)', { checkId: 'down', from: 'up', to: 'degraded', message: 'to down' }, null],
  ['no check id', { to: 'down' }, null],
  ['not an object', 'down', null],
  ['null', null, null],
])('the notice of %s', (_name, status, notice) => {
  expect(downNoticeOf(status)).toEqual(notice);
});

/** A guard on a fake bus: what it subscribed to, and a way to deliver a message there. */
function guardOnBus(checks: number, groups?: ReadonlyMap<string, number>) {
  const s = subjects('lookout');
  const subscribed: string[] = [];
  let deliver!: (m: BusMsg) => void;
  const bus: Bus = {
    publish: () => {},
    subscribe: (subject, onMsg) => {
      subscribed.push(subject);
      deliver = onMsg;
      return () => {};
    },
    request: () => Promise.reject(new Error('no requests here')),
  };
  const send = (msg: unknown) => {
    const data = encode(msg);
    deliver({ subject: s.panicDowns(), data, json: lazyJson(data), wantsReply: false, respond: () => {} });
  };
  const guard = startPanicGuard({
    bus,
    subjects: s,
    clock: new ManualClock(0),
    cfg: { fraction: 0.1, windowMs: 60_000, holdMs: 60_000, minDowns: 2 },
    checks: () => checks,
    ...(groups ? { groupSizes: () => groups } : {}),
    leading: () => false,
    nodeId: 'n1',
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
  });
  return { s, subscribed, send, guard };
}

test('the guard hears the down notices only, and two of them start a panic', () => {
  const { s, subscribed, send, guard } = guardOnBus(20);
  expect(subscribed).toEqual([s.panicDowns()]);
  expect(subscribed).not.toContain(s.statusWildcard());
  send({ checkId: 'c1' });
  expect(guard.panicking()).toBe(false);
  send({ checkId: 'c2' });
  expect(guard.panicking()).toBe(true); // 2 of 20 checks within the window: the threshold (10%, at least 2)
  guard.stop();
});

test('a notice naming a group counts for that group too; a malformed notice counts for nothing', () => {
  const { send, guard } = guardOnBus(100, new Map([['eu', 4], ['us', 96]]));
  send('garbage');
  send(null);
  expect(guard.panicking()).toBe(false);
  send({ checkId: 'e1', group: 'eu' });
  send({ checkId: 'e2', group: 'eu' });
  expect(guard.panicking('eu')).toBe(true); // 2 of its 4 (10%, at least 2)
  expect(guard.panicking('us')).toBe(false);
  expect(guard.panicking()).toBe(false); // 2 of the fleet's 100: below its 10
  guard.stop();
});
