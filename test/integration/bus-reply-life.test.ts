// A reply to a request received before a reconnect is not sent (runtime/bus.ts): where roles are
// enforced the server allows a responder to answer a client's inbox per connection, so the late
// reply was a permission violation (nats-roles, loaded CI). A real nats-server, restarted.
import { connect } from '@nats-io/transport-node';
import { natsBus, type BusMsg } from '../../runtime/bus';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server.cleanup();
});

test('a request answered after the responder reconnected gets no reply; one answered on the same connection does', async () => {
  const opts = { servers: server.url, reconnectTimeWait: 100, maxReconnectAttempts: -1 };
  const responder = await connect(opts);
  const requester = await connect(opts);
  try {
    const held: BusMsg[] = [];
    natsBus(responder).subscribe('svc.echo', (m) => held.push(m));
    await responder.flush();
    const answered = requester.request('svc.echo', 'a', { timeout: 10_000 });
    await waitFor('the first request held', () => held.length === 1);
    held[0]!.respond({ ok: 'same life' });
    expect((await answered).json()).toEqual({ ok: 'same life' });

    const late = requester.request('svc.echo', 'b', { timeout: 4_000 }).then(
      (m) => ({ got: m.json() }),
      (err: Error) => ({ err: err.name }),
    );
    await waitFor('the second request held', () => held.length === 2);
    await server.restart();
    await waitFor('both reconnected', async () => {
      await responder.flush();
      await requester.flush();
      return true;
    }, { timeoutMs: 30_000 });
    held[1]!.respond({ ok: 'after a reconnect' });
    expect(await late).not.toHaveProperty('got');
  } finally {
    await responder.close();
    await requester.close();
  }
});
