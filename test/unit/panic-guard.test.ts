// The panic guard's intake (runtime/panic-guard.ts): only status messages whose bytes can say
// `"to":"down"` are decoded; those that are downs are counted towards a panic; the rest (a start's
// first verdicts: one per check, heard by every node) are never decoded.
import pino from 'pino';
import type { Bus, BusMsg } from '../../runtime/bus';
import { encode, lazyJson } from '../../runtime/bus';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { saysDown, startPanicGuard } from '../../runtime/panic-guard';
import { subjects } from '../../runtime/subjects';

test.each([
  [{ checkId: 'a', from: 'up', to: 'down', reason: 'timeout' }, true],
  [{ checkId: 'a', from: 'unknown', to: 'up' }, false],
  [{ checkId: 'a', from: 'down', to: 'up' }, false],
  [{ checkId: 'down', from: 'up', to: 'degraded', message: 'to down' }, false],
])('%j says down: %s', (msg, down) => {
  expect(saysDown(encode(msg))).toBe(down);
  // Never false for a message whose `to` is down: the guard would miss it.
  if ((msg as { to: string }).to === 'down') expect(saysDown(encode(msg))).toBe(true);
});

test('a byte view into a larger buffer is read at its own offset', () => {
  const whole = Buffer.from('xx{"to":"down"}yy');
  expect(saysDown(new Uint8Array(whole.buffer, whole.byteOffset + 2, 13))).toBe(true);
  expect(saysDown(new Uint8Array(whole.buffer, whole.byteOffset + 2, 10))).toBe(false); // '{"to":"dow'
});

test('only messages that can say down are decoded; downs start a panic, ups never do', () => {
  const s = subjects('lookout');
  let deliver!: (m: BusMsg) => void;
  const bus: Bus = {
    publish: () => {},
    subscribe: (_subject, onMsg) => {
      deliver = onMsg;
      return () => {};
    },
    request: () => Promise.reject(new Error('no requests here')),
  };
  let decoded = 0;
  const send = (msg: object) => {
    const data = encode(msg);
    const json = lazyJson(data);
    deliver({ subject: s.status('x'), data, json: () => (decoded++, json()), wantsReply: false, respond: () => {} });
  };
  const clock = new ManualClock(0);
  const guard = startPanicGuard({ bus, subjects: s, clock, cfg: { fraction: 0.1, windowMs: 60_000, holdMs: 60_000, minDowns: 2 }, checks: () => 20, leading: () => false, nodeId: 'n1', metrics: createMetrics(), log: pino({ level: 'silent' }) });
  for (let i = 0; i < 50; i++) send({ checkId: `c${i}`, from: 'unknown', to: 'up' });
  expect(decoded).toBe(0);
  expect(guard.panicking()).toBe(false);
  send({ checkId: 'c1', from: 'up', to: 'down', reason: 'timeout' });
  send({ checkId: 'c2', from: 'up', to: 'down', reason: 'timeout' });
  expect(decoded).toBe(2);
  expect(guard.panicking()).toBe(true); // 2 of 20 checks within the window: the threshold (10%, at least 2)
  guard.stop();
});
