// Pull workers on a shared durable consumer, against a real nats-server (runtime/pull-workers.ts):
// every message handled exactly once and acked; a batch pull takes many messages per request (the
// route stage: one pull per message was a subscription, a request and an unsubscription each);
// batch 1 holds no message it is not working on; a stop hands the unhandled ones back.
import type { NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, type Consumer, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { systemClock } from '../../runtime/clock';
import { startPullWorkers } from '../../runtime/pull-workers';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { silentLog } from '../helpers/actor-host';
import { client } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';

let server: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await client(server);
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await server?.cleanup();
});

/** A fresh stream with `n` messages and a durable explicit-ack consumer on it. */
async function fixture(name: string, n: number): Promise<void> {
  await jsm.streams.add({ name, subjects: [`${name}.>`] });
  const js = jetstream(nc);
  for (let i = 0; i < n; i++) await js.publish(`${name}.m`, JSON.stringify({ i }));
  await jsm.consumers.add(name, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
}

/** The consumer, with its pull requests counted (every `fetch`; nats.js `next` is a fetch of one). */
async function counted(name: string): Promise<{ consumer: () => Promise<Consumer>; pulls: () => number }> {
  let pulls = 0;
  const c = await jetstream(nc).consumers.get(name, 'c');
  const fetch = c.fetch.bind(c);
  c.fetch = (opts) => {
    pulls++;
    return fetch(opts);
  };
  return { consumer: async () => c, pulls: () => pulls };
}

/** The consumer's counts once nothing is pending or unacked (else throws them, for the timeout message). */
const drained = async (name: string, handled: number) => {
  const ci = await jsm.consumers.info(name, 'c');
  if (ci.num_pending > 0 || ci.num_ack_pending > 0) throw new Error(`pending ${ci.num_pending}, unacked ${ci.num_ack_pending}, handled ${handled}`);
  return ci;
};

test('a batch pull handles every message once, acked, with one request per batch', async () => {
  await fixture('batch', 200);
  const { consumer, pulls } = await counted('batch');
  const handled: number[] = [];
  const w = startPullWorkers({ name: 'route', workers: 2, batch: 32, consumer, clock: systemClock, log: silentLog, handle: async (m: JsMsg) => {
    handled.push((m.json() as { i: number }).i);
    m.ack();
  } });
  await waitFor('every message handled and acked', () => drained('batch', handled.length));
  await w.stop();
  expect(handled.length).toBe(200);
  expect(new Set(handled).size).toBe(200);
  // 200 messages in pulls of 32 by 2 workers: 7 full pulls, and the ones still waiting at the end.
  expect(pulls()).toBeLessThan(20);
});

test('batch 1 pulls one message per request and holds none it is not working on', async () => {
  await fixture('single', 30);
  const { consumer, pulls } = await counted('single');
  let handled = 0;
  let maxHeld = 0;
  const w = startPullWorkers({ name: 'deliver', workers: 1, consumer, clock: systemClock, log: silentLog, handle: async (m: JsMsg) => {
    maxHeld = Math.max(maxHeld, (await jsm.consumers.info('single', 'c')).num_ack_pending);
    handled++;
    m.ack();
  } });
  await waitFor('every message handled and acked', () => drained('single', handled));
  await w.stop();
  expect(maxHeld).toBe(1);
  expect(pulls()).toBeGreaterThanOrEqual(30);
});

test('a stop hands the messages of a batch not yet handled back to the consumer at once', async () => {
  await fixture('stop', 20);
  const { consumer } = await counted('stop');
  let release!: () => void;
  const blocked = new Promise<void>((r) => (release = r));
  const handled: number[] = [];
  const w = startPullWorkers({ name: 'route', workers: 1, batch: 20, consumer, clock: systemClock, log: silentLog, handle: async (m: JsMsg) => {
    handled.push((m.json() as { i: number }).i);
    if (handled.length === 1) await blocked;
    m.ack();
  } });
  await waitFor('the first message taken', () => handled.length === 1);
  const stopped = w.stop();
  release();
  await stopped;
  // Only the first was handled; the rest are nak'd (redelivered now, not after the ack wait) or never delivered.
  expect(handled).toEqual([0]);
  const got: number[] = [];
  const c = await jetstream(nc).consumers.get('stop', 'c');
  const batch = await c.fetch({ max_messages: 19, expires: 5_000 });
  for await (const m of batch) {
    got.push((m.json() as { i: number }).i);
    m.ack();
  }
  expect(got.sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
});
