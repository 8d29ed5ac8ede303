// What keeps notifications from going out, each with its own servers and node process:
//   - a silence (maintenance window, croner with a time zone) suppresses: no call, the node logs it,
//     and the status page's /api/notifiers shows the window open now (with when it ends);
//   - the node's address policy (LOOKOUT_TARGET_DENY) refuses a webhook: a literal address at put
//     time (code denied, path webhook.url, nothing stored), a host name at call time (a dead letter
//     naming the rule after one attempt, nothing reaches the receiver);
//   - bad documents: refused with code, message and path, and nothing stored.
import { request } from '../helpers/lookout';
import { deadLetters, notifyIdle, publishChange, putNotifier } from '../helpers/notify';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';
import { startWebhookReceiver } from '../helpers/webhook-receiver';

const env = { LOOKOUT_NOTIFY_ACK_WAIT_MS: '2000' };

scenarioTest('a silence suppresses: no call, logged, and shown open on the status page; a notifier whose window is closed delivers', { nodes: ['n1'], env }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  // Opens every minute for two minutes: always open. The other opens once a year, for a second.
  const always = { cron: '* * * * *', durationMs: 120_000, timezone: 'Europe/Berlin', comment: 'maintenance' };
  await putNotifier(s.cluster.nc, 'quiet', { webhook: { url: `${receiver.url}/quiet` }, silences: [always] });
  await putNotifier(s.cluster.nc, 'loud', { webhook: { url: `${receiver.url}/loud` }, silences: [{ cron: '0 0 1 1 *', durationMs: 1000, timezone: 'Pacific/Auckland' }] });
  const t = publishChange(s.cluster.nc, 'web', 'up', 'down');
  await waitFor('the suppression logged', () => s.cluster.logs('n1').find((l) => l.event === 'notify_suppressed' && l.notifier === 'quiet'), { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  expect(receiver.calls.map((c) => [c.path, c.delivery])).toEqual([['/loud', `loud:web:${t.epoch}:${t.seq}`]]);
  expect(s.cluster.logs('n1').find((l) => l.event === 'notify_suppressed')).toMatchObject({ notifier: 'quiet', check: 'web', silence: 0, comment: 'maintenance' });

  const port = s.cluster.logs('n1').find((l) => l.event === 'http_listening').port;
  const page = (await (await fetch(`http://127.0.0.1:${port}/api/notifiers`)).json()) as any;
  expect(page.total).toBe(2);
  const quiet = page.notifiers.find((n: any) => n.id === 'quiet');
  expect(quiet.silencedNow).toMatchObject({ index: 0, silence: always });
  expect(Date.parse(quiet.silencedNow.endsAt)).toBeGreaterThan(Date.now());
  expect(quiet.silences[0]).toMatchObject({ cron: '* * * * *', timezone: 'Europe/Berlin', comment: 'maintenance' });
  expect(page.notifiers.find((n: any) => n.id === 'loud').silencedNow).toBeNull();
  // The page never shows where a notifier sends (a Slack URL is a secret).
  expect(JSON.stringify(page)).not.toContain(receiver.url);
});

scenarioTest('a webhook the address policy denies: refused at put time for a literal address, a dead letter naming the rule for a host name', { nodes: ['n1'], env: { ...env, LOOKOUT_TARGET_DENY: '127.0.0.0/8,::1/128' } }, async (s) => {
  const receiver = await startWebhookReceiver();
  s.onCleanup(() => receiver.close());
  const dead = deadLetters(s.cluster.nc);
  s.onCleanup(() => dead.stop());
  const port = new URL(receiver.url).port;

  const refused = await putNotifier(s.cluster.nc, 'inside', { webhook: { url: `http://127.0.0.1:${port}/hook` } });
  expect(refused).toEqual({ ok: false, error: { code: 'denied', message: expect.stringMatching(/127\.0\.0\.1:\d+ is denied by this node's address policy: LOOKOUT_TARGET_DENY: 127\.0\.0\.0\/8/), path: 'webhook.url' } });
  expect(await request(s.cluster.nc, 'lookout.notify.get.inside', '')).toMatchObject({ ok: false, error: { code: 'not_found' } });

  // A name is judged where it is dialled: on every call, on what it resolves to.
  expect(await putNotifier(s.cluster.nc, 'byname', { webhook: { url: `http://localhost:${port}/hook` }, retry: { attempts: 4 } })).toMatchObject({ ok: true });
  publishChange(s.cluster.nc, 'intranet', 'up', 'down');
  const letter = await waitFor('the dead letter', () => dead.letters[0], { timeoutMs: 60_000, intervalMs: 50 });
  await notifyIdle(s.cluster.nc);
  expect(letter).toMatchObject({ notifier: 'byname', check: 'intranet', attempts: 1, httpStatus: null });
  expect(letter.error).toMatch(/refused by this node's address policy: localhost → (127\.0\.0\.1|::1):\d+ is denied: LOOKOUT_TARGET_DENY: (127\.0\.0\.0\/8|::1\/128) \(not retried\)/);
  expect(receiver.calls).toEqual([]);
});

const CASES: [string, string, unknown, string, string][] = [
  ['not JSON', 'bad', '{"webhook":', 'invalid_json', ''],
  ['an unknown field', 'bad', { webhook: { url: 'http://127.0.0.1:9/' }, mach: {} }, 'unknown_field', 'mach'],
  ['no webhook', 'bad', { on: ['down'] }, 'required', 'webhook'],
  ['an ftp URL', 'bad', { webhook: { url: 'ftp://127.0.0.1/x' } }, 'format', 'webhook.url'],
  ['credentials in the URL', 'bad', { webhook: { url: 'http://u:p@127.0.0.1:9/' } }, 'format', 'webhook.url'],
  ['a template that is not JSON once rendered', 'bad', { webhook: { url: 'http://127.0.0.1:9/', template: '{"text": {{check}}}' } }, 'format', 'webhook.template'],
  ['a template with the slack format', 'bad', { webhook: { url: 'http://127.0.0.1:9/', format: 'slack', template: '{}' } }, 'conflict', 'webhook.template'],
  ['a header Lookout sets', 'bad', { webhook: { url: 'http://127.0.0.1:9/', headers: { 'Content-Type': 'text/plain' } } }, 'conflict', 'webhook.headers.Content-Type'],
  ['zero attempts', 'bad', { webhook: { url: 'http://127.0.0.1:9/' }, retry: { attempts: 0 } }, 'range', 'retry.attempts'],
  ['a cron croner cannot read', 'bad', { webhook: { url: 'http://127.0.0.1:9/' }, silences: [{ cron: '61 * * * *', durationMs: 60_000 }] }, 'format', 'silences[0].cron'],
  ['an unknown time zone', 'bad', { webhook: { url: 'http://127.0.0.1:9/' }, silences: [{ cron: '0 2 * * *', durationMs: 60_000, timezone: 'Mars/Olympus' }] }, 'format', 'silences[0].timezone'],
  ['an id that is not the subject\'s', 'bad', { id: 'other', webhook: { url: 'http://127.0.0.1:9/' } }, 'id_mismatch', 'id'],
  ['an id that is no subject token', 'bad!', { webhook: { url: 'http://127.0.0.1:9/' } }, 'invalid_id', 'id'],
];

scenarioTest('bad notifier documents are refused with code, message and path, and nothing is stored', { nodes: ['n1'], env }, async (s) => {
  for (const [what, id, doc, code, path] of CASES) {
    const r = await putNotifier(s.cluster.nc, id, typeof doc === 'string' ? (doc as any) : doc);
    expect({ what, r }).toEqual({ what, r: { ok: false, error: { code, path, message: expect.any(String) } } });
  }
  const big = await putNotifier(s.cluster.nc, 'big', { webhook: { url: 'http://127.0.0.1:9/', template: `{"x":"${'y'.repeat(70_000)}"}` } });
  expect(big.error).toMatchObject({ code: 'too_large', path: '' });
  expect(await request(s.cluster.nc, 'lookout.notify.list', '')).toEqual({ ok: true, notifiers: [], next: null, total: 0 });
  expect(await request(s.cluster.nc, 'lookout.notify.get.bad', '')).toMatchObject({ ok: false, error: { code: 'not_found', path: 'id' } });
});
