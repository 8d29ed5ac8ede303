// Notifications end to end (issue 14 §3): real `lookout node` processes on a real nats-server, a
// real HTTP receiver on 127.0.0.1. Each scenario has its own servers, nodes and receiver.
//   - a real check going down with 3 nodes running: exactly one call, with the right payload and
//     headers; and one when it comes back up;
//   - the receiver failing the first calls: retried with the backoff's order, then delivered;
//   - the receiver always failing: exactly `attempts` calls, then a dead letter.
// "Exactly" is judged once JetStream says nothing is left to route or deliver (helpers/notify.ts
// notifyIdle), never after a sleep.
import { putChecks } from '../helpers/cluster';
import { deadLetters, notifyIdle, publishChange, putNotifier } from '../helpers/notify';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';
import { startWebhookReceiver } from '../helpers/webhook-receiver';

const env = { LOOKOUT_NOTIFY_ACK_WAIT_MS: '2000' };

scenarioTest('one verdict change, 3 nodes: exactly one webhook call with the right payload; one more when it comes back up', { nodes: ['n1', 'n2', 'n3'], env }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  const put = await putNotifier(s.cluster.nc, 'ops', { match: { ids: ['nt-*'], labels: { team: 'payments' } }, webhook: { url: `${receiver.url}/hook`, headers: { Authorization: 'Bearer t0ken' } } });
  expect(put).toMatchObject({ ok: true, id: 'ops' });
  const [id] = await putChecks(s.cluster.nc, s.target, 'nt', 1, 1000, { policy: { type: 'consecutive', rise: 1, fall: 1 }, confirm: false, labels: { team: 'payments' } });
  await waitFor(`${id} up`, () => s.events.statuses(id).find((m) => m.to === 'up'), { timeoutMs: 60_000, intervalMs: 100 });

  s.target.set(`/c/${id}`, { status: 503 });
  const down = await waitFor(`${id} down`, () => s.events.statuses(id).find((m) => m.to === 'down'), { timeoutMs: 60_000, intervalMs: 100 });
  await waitFor('the down delivered', () => receiver.calls.find((c) => c.json?.to === 'down'), { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  const delivery = `ops:${id}:${down.epoch}:${down.seq}`;
  expect(receiver.calls.map((c) => [c.delivery, c.attempt])).toEqual([[delivery, 1]]);
  const call = receiver.calls[0]!;
  expect(call.path).toBe('/hook');
  expect(call.headers['content-type']).toBe('application/json');
  expect(call.headers.authorization).toBe('Bearer t0ken');
  expect(call.headers['user-agent']).toMatch(/^lookout\/.+ \(node n[123]\)$/);
  expect(call.json).toEqual({
    notifier: 'ops', delivery, kind: 'transition', reminder: null, check: id, from: 'up', to: 'down', at: down.at, node: down.node,
    reason: 'status', message: down.message, epoch: down.epoch, seq: down.seq, labels: { team: 'payments' },
  });
  // The first verdict (unknown → up) was no news: the only call is the down.

  s.target.set(`/c/${id}`, { status: 200 });
  const up = await waitFor(`${id} up again`, () => s.events.statuses(id).find((m) => m.to === 'up' && m.from === 'down'), { timeoutMs: 60_000, intervalMs: 100 });
  await waitFor('the recovery delivered', () => receiver.calls.find((c) => c.json?.to === 'up'), { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  expect(receiver.calls.map((c) => c.delivery)).toEqual([delivery, `ops:${id}:${up.epoch}:${up.seq}`]);
  // One node routed each change and one node called: their logs say so.
  const routedLines = () => [...s.cluster.nodes.keys()].flatMap((n) => s.cluster.logs(n).filter((l) => l.event === 'notify_routed' && l.check === id));
  const routed = await waitFor('both changes routed in the logs', routedLines, { until: (ls) => ls.length >= 2, timeoutMs: 30_000, intervalMs: 50 });
  expect(routed.map((l) => l.to).sort()).toEqual(['down', 'up']);
});

scenarioTest('the receiver fails the first two calls: retried after the backoff, then delivered on the third attempt', { nodes: ['n1', 'n2'], env }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  receiver.answer((c) => (c.n <= 2 ? 503 : 200));
  await putNotifier(s.cluster.nc, 'flaky', { webhook: { url: receiver.url }, retry: { attempts: 5, backoffMs: 200, maxBackoffMs: 1000 } });
  const t = publishChange(s.cluster.nc, 'api', 'up', 'down');
  const delivery = `flaky:api:${t.epoch}:${t.seq}`;
  await waitFor('a 2xx answer', () => receiver.calls.find((c) => c.n === 3), { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  expect(receiver.calls.map((c) => [c.delivery, c.attempt])).toEqual([[delivery, 1], [delivery, 2], [delivery, 3]]);
  // Log lines come through each node's stdout, which may trail JetStream's ack: polled for.
  const logs = await waitFor('the two failures and the delivery logged', () => [...s.cluster.nodes.keys()].flatMap((n) => s.cluster.logs(n)), {
    until: (ls) => ls.filter((l) => l.event === 'notify_attempt_failed').length >= 2 && ls.some((l) => l.event === 'notify_delivered'),
    timeoutMs: 30_000,
    intervalMs: 50,
  });
  expect(logs.filter((l) => l.event === 'notify_attempt_failed').map((l) => [l.attempt, l.retryInMs])).toEqual([[1, 200], [2, 400]]);
  expect(logs.filter((l) => l.event === 'notify_delivered').map((l) => l.attempt)).toEqual([3]);
});

scenarioTest('the receiver always fails: exactly `attempts` calls, then a dead letter with the last error', { nodes: ['n1', 'n2'], env }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  receiver.answer(() => 500);
  const dead = deadLetters(s.cluster.nc);
  s.onCleanup(() => dead.stop());
  await putNotifier(s.cluster.nc, 'broken', { webhook: { url: receiver.url }, retry: { attempts: 3, backoffMs: 100, maxBackoffMs: 100 } });
  const t = publishChange(s.cluster.nc, 'db', 'up', 'down');
  const letter = await waitFor('the dead letter', () => dead.letters[0], { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  expect(receiver.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
  expect(letter).toMatchObject({ notifier: 'broken', delivery: `broken:db:${t.epoch}:${t.seq}`, check: 'db', attempts: 3, httpStatus: 500, kind: 'transition' });
  expect(letter.error).toMatch(/HTTP 500.*attempt 3 of 3/);
  expect(dead.letters).toHaveLength(1);
});
