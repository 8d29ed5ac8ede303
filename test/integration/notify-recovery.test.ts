// Notifications when things go wrong on Lookout's side, and while a check stays down (issue 14 §3):
// real `lookout node` processes, a real nats-server and a real HTTP receiver on 127.0.0.1.
//   - the node making a call is SIGKILLed mid-call (the receiver holds the call open): another node
//     continues the chain after the ack wait with the next attempt number, the receiver gets its
//     success, and the chain never makes more than `attempts` calls;
//   - reminders while down, numbered, stopping once the check is up again.
// The chain's state is in JetStream, so the assertions are read once JetStream says nothing is left
// to do (helpers/notify.ts notifyIdle).
import { notifyIdle, publishChange, putNotifier } from '../helpers/notify';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';
import { startWebhookReceiver } from '../helpers/webhook-receiver';

const env = { LOOKOUT_NOTIFY_ACK_WAIT_MS: '2000' };
const NODES = ['n1', 'n2', 'n3'];

scenarioTest('the node holding a retry dies mid-call: another node continues the chain with the next attempt, the receiver gets its success, attempts stay bounded', { nodes: NODES, env }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  // 1: fails; 2: held open until the caller dies; then: succeeds.
  receiver.answer((c) => (c.n === 1 ? 503 : c.n === 2 ? 'hang' : 200));
  await putNotifier(s.cluster.nc, 'pager', { webhook: { url: receiver.url, timeoutMs: 60_000 }, retry: { attempts: 5, backoffMs: 200, maxBackoffMs: 1000 } });
  const t = publishChange(s.cluster.nc, 'checkout', 'up', 'down');
  const delivery = `pager:checkout:${t.epoch}:${t.seq}`;

  await waitFor('the second call, held open by the receiver', () => receiver.calls.find((c) => c.n === 2), { timeoutMs: 60_000, intervalMs: 50 });
  // Which node makes it: the one whose log says it is calling attempt 2 of this delivery.
  const holder = await waitFor(
    'the node that logged attempt 2',
    () => [...s.cluster.nodes.keys()].find((n) => s.cluster.logs(n).some((l) => l.event === 'notify_attempt' && l.delivery === delivery && l.attempt === 2)),
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  expect(receiver.calls[1]!.headers['user-agent']).toContain(`(node ${holder})`);
  await s.cluster.kill(holder);

  const success = await waitFor('a call answered 2xx', () => receiver.calls.find((c) => c.n === 3), { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  expect(receiver.calls.map((c) => [c.delivery, c.attempt])).toEqual([[delivery, 1], [delivery, 2], [delivery, 3]]);
  expect(success.headers['user-agent']).not.toContain(`(node ${holder})`);
  // The caller logs the delivery after its ack: the line can still be on its way through the
  // node's stdout when JetStream is idle, so it is polled for (and then there is exactly one).
  const survivors = [...s.cluster.nodes.keys()];
  const deliveredLines = () => survivors.flatMap((n) => s.cluster.logs(n).filter((l) => l.event === 'notify_delivered' && l.delivery === delivery).map((l) => ({ node: n, attempt: l.attempt })));
  const delivered = await waitFor('a survivor logged notify_delivered', deliveredLines, { until: (d) => d.length > 0, timeoutMs: 30_000, intervalMs: 50 });
  expect(delivered).toEqual([{ node: expect.not.stringMatching(holder), attempt: 3 }]);
});

scenarioTest('reminders while a check stays down, numbered; they stop once it is up again', { nodes: ['n1', 'n2'], env }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  await putNotifier(s.cluster.nc, 'nag', { webhook: { url: receiver.url, format: 'slack' }, remindEveryMs: 1000 });
  const down = publishChange(s.cluster.nc, 'billing', 'up', 'down');
  const delivery = `nag:billing:${down.epoch}:${down.seq}`;
  await waitFor('two reminders', () => receiver.calls.filter((c) => c.delivery.includes(':remind:')).length >= 2, { timeoutMs: 60_000, intervalMs: 50 });

  const up = publishChange(s.cluster.nc, 'billing', 'down', 'up');
  await waitFor('the reminders stopped', () => [...s.cluster.nodes.keys()].some((n) => s.cluster.logs(n).some((l) => l.event === 'notify_reminders_stopped' && l.delivery === delivery && l.why === 'check_recovered')), { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc); // the reminder chain's job is gone too: no call can follow

  const [first, ...rest] = receiver.calls;
  expect(first!.delivery).toBe(delivery);
  expect(first!.json.text).toMatch(/billing is DOWN \(was up\)/);
  const reminders = rest.filter((c) => c.delivery.startsWith(`${delivery}:remind:`));
  expect(reminders.length).toBeGreaterThanOrEqual(2);
  expect(reminders.map((c) => c.delivery)).toEqual(reminders.map((_, i) => `${delivery}:remind:${i + 1}`));
  expect(reminders[0]!.json.text).toMatch(/reminder 1: billing is still DOWN/);
  expect(reminders[0]!.json.blocks[0]).toMatchObject({ type: 'section', text: { type: 'mrkdwn' } });
  const recovery = rest.filter((c) => !c.delivery.includes(':remind:'));
  expect(recovery.map((c) => c.delivery)).toEqual([`nag:billing:${up.epoch}:${up.seq}`]);
  expect(recovery[0]!.json.text).toMatch(/billing is UP \(was down\)/);
});
