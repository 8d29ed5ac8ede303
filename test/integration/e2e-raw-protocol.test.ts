// End to end with no Lookout code on the client side: the real `lookout node` process, and a
// client that speaks the NATS text protocol over a plain TCP socket. Put a spec, get the ack,
// receive results and the first status.
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { RawNatsClient } from '../helpers/raw-nats';
import { runLookout, type LookoutProcess } from '../helpers/processes';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

let server: NatsServer;
let node: LookoutProcess;
let target: HttpTarget;
let raw: RawNatsClient;

beforeAll(async () => {
  server = await startNatsServer();
  target = await startHttpTarget();
  node = runLookout(['node'], { NATS_URL: server.url, LOOKOUT_NODE_ID: 'e2e-node', LOOKOUT_LOG_LEVEL: 'info', LOOKOUT_HTTP_PORT: '0' });
  await waitFor('node serving the spec API', () => node.logs().some((l) => l.event === 'spec_api_serving'), { timeoutMs: 20_000 });
  raw = await RawNatsClient.connect(server.port);
});

afterAll(async () => {
  raw?.close();
  node?.signal('SIGTERM');
  await node?.exited;
  await target?.close();
  await server?.cleanup();
});

test('raw NATS protocol: put a spec with a reply inbox, receive the ack, results and status', async () => {
  raw.subscribe('_INBOX.raw.1');
  raw.subscribe('lookout.result.raw-e2e');
  raw.subscribe('lookout.status.raw-e2e');
  await raw.flush();
  const spec = JSON.stringify({ kind: 'http', target: `${target.url}/raw`, intervalMs: 1000, timeoutMs: 500 });
  raw.publish('lookout.spec.put.raw-e2e', spec, '_INBOX.raw.1');
  const ack = await waitFor('ack', () => raw.messages.find((m) => m.subject === '_INBOX.raw.1'));
  expect(JSON.parse(ack.payload)).toEqual({ ok: true, id: 'raw-e2e', revision: expect.any(Number) });
  const results = await waitFor('2 results', () => {
    const r = raw.messages.filter((m) => m.subject === 'lookout.result.raw-e2e');
    return r.length >= 2 && r.map((m) => JSON.parse(m.payload));
  });
  expect(results[0]).toMatchObject({ checkId: 'raw-e2e', ok: true, status: 'up', node: 'e2e-node', seq: 1, epoch: expect.any(Number), reason: null });
  expect(results[1].seq).toBe(2);
  const status = raw.messages.find((m) => m.subject === 'lookout.status.raw-e2e');
  expect(JSON.parse(status!.payload)).toMatchObject({ checkId: 'raw-e2e', from: 'unknown', to: 'up', seq: 1 });
  expect(target.hits('/raw')).toBeGreaterThanOrEqual(2);
});

test('SIGTERM: the node stops scheduling, drains and exits 0', async () => {
  node.signal('SIGTERM');
  expect(await node.exited).toBe(0);
  const events = node.logs().map((l) => l.event);
  expect(events).toEqual(expect.arrayContaining(['shutdown_started', 'node_stopping', 'node_stopped', 'shutdown_complete']));
});
