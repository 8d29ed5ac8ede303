// Lookups answered from one listing of the result stream's subjects, against a real nats-server
// (runtime/result-presence.ts through runtime/result-history.ts): the checks with results are read
// by their direct gets and the others answered "none" without one; past the subject bound every
// lookup takes its direct get, with the same answers.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { loadConfig } from '../../runtime/config';
import { jsmLastMessages, type LastMessages } from '../../runtime/direct-get';
import { streamResultHistory } from '../../runtime/result-history';
import { openStores } from '../../runtime/store';
import { subjects } from '../../runtime/subjects';
import type { ResumeState } from '../../protocol/records';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client } from '../helpers/lookout';

const s = subjects('lookout');
const cfg = loadConfig({});

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await client(server);
  ({ jsm } = await openStores(nc, s, cfg));
  js = jetstream(nc);
  for (const [id, seq] of [['has-1', 7], ['has-2', 9]] as const) {
    await js.publish(s.result(id), JSON.stringify({ checkId: id, vantage: 0, node: 'n1', epoch: 1, seq, slot: 1_700_000_000_000, status: 'up', history: '1' }));
  }
});

afterAll(async () => {
  await nc?.close();
  await server?.cleanup();
});

/** Direct gets, counted. */
function countingGets(): LastMessages & { n: number } {
  const inner = jsmLastMessages(jsm);
  const g = { n: 0, last: (stream: string, subject: string) => (g.n++, inner.last(stream, subject)) };
  return g;
}

/** Asks every id at once (all queued before the first runs) and collects the answers. */
async function lookUp(maxSubjects: number, ids: string[]) {
  const gets = countingGets();
  const history = streamResultHistory(jsm, s, null, undefined, 4, gets, { minPending: 10, maxSubjects });
  const answers = await Promise.all(
    ids.map((id) => new Promise<ResumeState | null>((resolve, reject) => history.last(id, 0, false, (_id, err, st) => (err ? reject(err) : resolve(st))))),
  );
  return { answers: Object.fromEntries(ids.map((id, i) => [id, answers[i]?.seq ?? null])), directGets: gets.n, listings: history.presence.listings };
}

const ids = ['has-1', ...Array.from({ length: 18 }, (_, i) => `never-${i}`), 'has-2'];
const want = Object.fromEntries(ids.map((id) => [id, id === 'has-1' ? 7 : id === 'has-2' ? 9 : null]));

test('20 lookups at once, 2 subjects in the stream: one listing, a direct get only for the 2 with results', async () => {
  const got = await lookUp(100, ids);
  expect(got.answers).toEqual(want);
  expect(got.directGets).toBe(2);
  expect(got.listings).toBe(1);
});

test('more subjects than the bound: the same answers, every lookup by its direct get', async () => {
  const got = await lookUp(1, ids);
  expect(got.answers).toEqual(want);
  expect(got.directGets).toBe(ids.length);
});

test('fewer lookups than the listing wants: every one by its direct get', async () => {
  const got = await lookUp(100, ids.slice(0, 5));
  expect(got.answers).toEqual(Object.fromEntries(ids.slice(0, 5).map((id) => [id, want[id]])));
  expect(got.directGets).toBe(5);
  expect(got.listings).toBe(0);
});
