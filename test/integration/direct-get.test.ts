// DirectGets (runtime/direct-get.ts) beside nats.js's jsm.direct.getMessage on a real nats-server:
// the same message (sequence, time stored, body) or the same null for every subject, answers that
// reach the right lookup when many are out at once (also with two connections on one inbox prefix), a stream nobody serves, an error status, no
// answer at all, and closing with lookups out.
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Empty, headers, type NatsConnection } from '@nats-io/transport-node';
import { DirectGetError, DirectGets, jsmLastMessages, type LastMessages, type StoredMessage } from '../../runtime/direct-get';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let lean: DirectGets;
let viaJsm: LastMessages;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await client(server);
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'dg', subjects: ['dg.>'], allow_direct: true, max_msgs_per_subject: 3 });
  const js = jsm.jetstream();
  for (let i = 0; i < 5; i++) await js.publish('dg.many', JSON.stringify({ i }));
  await js.publish('dg.one', JSON.stringify({ only: true }));
  for (let i = 0; i < 200; i++) await js.publish(`dg.n.${i}`, JSON.stringify({ n: i }));
  lean = new DirectGets(nc, '_INBOX_dgtest');
  viaJsm = jsmLastMessages(jsm);
});

afterAll(async () => {
  lean?.close();
  await nc?.close();
  await server?.cleanup();
});

const seen = (m: StoredMessage | null) => m && { seq: m.seq, storedAt: m.storedAt, body: m.json<unknown>(), bytes: m.data.length };

test.each([
  ['the last of several messages', 'dg.many'],
  ['a subject with one message', 'dg.one'],
  ['a subject never written', 'dg.none'],
])('%s: the same answer as jsm.direct.getMessage', async (_what, subject) => {
  const [a, b] = [seen(await lean.last('dg', subject)), seen(await viaJsm.last('dg', subject))];
  expect(a).toEqual(b);
  if (subject === 'dg.many') expect(a).toMatchObject({ body: { i: 4 } });
  if (subject === 'dg.none') expect(a).toBeNull();
  else expect(Number.isFinite(a!.storedAt) && a!.seq > 0).toBe(true);
});

test('200 lookups out at once each get their own subject', async () => {
  const got = await Promise.all(Array.from({ length: 200 }, (_, i) => lean.last('dg', `dg.n.${i}`)));
  expect(got.map((m) => m?.json<{ n: number }>().n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
});

test('two connections with the same inbox prefix (two nodes of a cluster) each get their own answer', async () => {
  // Every node's inbox prefix is the same (runtime/nats.ts nodeInboxPrefix) and each counts its
  // lookups from 1. A responder holds both lookups and answers the second asker first: that answer
  // must not reach the first asker.
  const other = await client(server);
  const held: { reply: string; asker: string }[] = [];
  const responder = nc.subscribe('$JS.API.DIRECT.GET.pair.>', { callback: (_e, m) => void held.push({ reply: m.reply!, asker: m.subject.split('.').pop()! }) });
  const [a, b] = [new DirectGets(nc, '_INBOX_dgshared'), new DirectGets(other, '_INBOX_dgshared')];
  await Promise.all([nc.flush(), other.flush()]);
  try {
    const fromA = a.last('pair', 'a');
    const fromB = b.last('pair', 'b');
    await waitFor('both lookups held', () => held.length === 2 || null, { timeoutMs: 10_000, intervalMs: 10 });
    for (const h of [...held].sort((x, y) => (x.asker === 'b' ? -1 : y.asker === 'b' ? 1 : 0))) {
      const hdrs = headers();
      hdrs.set('Nats-Sequence', h.asker === 'a' ? '1' : '2');
      hdrs.set('Nats-Time-Stamp', new Date(0).toISOString());
      nc.publish(h.reply, JSON.stringify({ for: h.asker }), { headers: hdrs });
      await nc.flush();
    }
    expect({ a: (await fromA)?.json(), b: (await fromB)?.json() }).toEqual({ a: { for: 'a' }, b: { for: 'b' } });
  } finally {
    responder.unsubscribe();
    a.close();
    b.close();
    await other.close();
  }
});

test('a stream nobody serves: no answer, rejected as a timeout (as through jsm)', async () => {
  const gets = new DirectGets(nc, '_INBOX_dgnone', 300);
  try {
    await expect(gets.last('nostream', 'x')).rejects.toMatchObject({ code: 'timeout' });
    await expect(jsmLastMessages(await jetstreamManager(nc, { timeout: 300 })).last('nostream', 'x')).rejects.toThrow();
  } finally {
    gets.close();
  }
});

test('an answer with a status other than 404: rejected with it', async () => {
  const responder = nc.subscribe('$JS.API.DIRECT.GET.odd.>', { callback: (_e, m) => void m.respond(Empty, { headers: headers(408, 'Request Timeout') }) });
  await nc.flush();
  try {
    const err = await lean.last('odd', 'x').then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(DirectGetError);
    expect(err).toMatchObject({ code: 'status', status: 408, message: 'direct get answered 408 Request Timeout' });
  } finally {
    responder.unsubscribe();
  }
});

test('no answer within the deadline: rejected as a timeout, and a later answer is ignored', async () => {
  // Something listens on the API subject (so no 503 comes) and answers only when told to.
  const held: string[] = [];
  const sink = nc.subscribe('$JS.API.DIRECT.GET.silent.>', { callback: (_e, m) => void held.push(m.reply!) });
  await nc.flush();
  const gets = new DirectGets(nc, '_INBOX_dgslow', 200);
  try {
    const err = await gets.last('silent', 'x').then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout' });
    expect(held).toHaveLength(1);
    nc.publish(held[0]!, 'late'); // its lookup is gone: nothing to resolve, nothing thrown
    await nc.flush();
    const err2 = await gets.last('silent', 'y').then(() => null, (e: unknown) => e);
    expect(err2).toMatchObject({ code: 'timeout' });
  } finally {
    gets.close();
    sink.unsubscribe();
  }
});

test('closing rejects the lookups still out and every later one', async () => {
  const sink = nc.subscribe('$JS.API.DIRECT.GET.held.>', { callback: () => {} });
  await nc.flush();
  const gets = new DirectGets(nc, '_INBOX_dgclose');
  const out = gets.last('held', 'x').then(() => null, (e: unknown) => e);
  gets.close();
  expect(await out).toMatchObject({ code: 'closed' });
  await expect(gets.last('dg', 'dg.one')).rejects.toMatchObject({ code: 'closed' });
  sink.unsubscribe();
});
