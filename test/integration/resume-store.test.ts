// The resume stream against a real nats-server (runtime/resume-store.ts, runtime/store.ts): a
// vantage evicted from the result stream is found in its record; a stale or hostile record never
// wins over the stream; the server refuses records over the size bound; a spec delete purges that
// check's records and no other's; the stream's limits follow the settings on the next start.
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { loadConfig } from '../../runtime/config';
import { ensureResumeStream, streamResumeRecords, type ResumeRecords } from '../../runtime/resume-store';
import { ensureResultStream, kvSpecStore, openStores } from '../../runtime/store';
import { streamResultHistory, type ResultHistory } from '../../runtime/result-history';
import { subjects } from '../../runtime/subjects';
import type { ResumeState } from '../../protocol/records';
import { RESUME_RECORD_MAX_BYTES } from '../../protocol/resume-record';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client } from '../helpers/lookout';

const s = subjects('lookout');
const cfg = { ...loadConfig({ LOOKOUT_RESULTS_PER_CHECK: '3' }), resumeMaxBytes: 1024 * 1024 };

let server: NatsServer;
let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let kv: KV;
let records: ResumeRecords;
let history: ResultHistory;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await client(server);
  ({ kv, jsm } = await openStores(nc, s, cfg));
  js = jetstream(nc);
  records = streamResumeRecords(jsm, s);
  history = streamResultHistory(jsm, s, records);
});

afterAll(async () => {
  await nc?.close();
  await server?.cleanup();
});

const state = (seq: number, status: 'up' | 'down' = 'up'): ResumeState => ({ seq, slot: 1_700_000_000_000 + seq * 1000, status, history: status === 'up' ? '111' : '000' });
const result = (id: string, vantage: number, seq: number) => js.publish(s.result(id), JSON.stringify({ checkId: id, vantage, node: 'n1', epoch: 1, ...state(seq) }));
const record = (id: string, rank: number, st: ResumeState | string) => js.publish(s.resumeState(id, rank), typeof st === 'string' ? st : JSON.stringify(st));
const last = (id: string, rank: number, perVantage: boolean) =>
  new Promise<ResumeState | null>((resolve, reject) => history.last(id, rank, perVantage, (_id, err, st) => (err ? reject(err) : resolve(st))));

test('a vantage evicted from the result stream (3 kept per check) continues from its record; without the record it finds nothing', async () => {
  await result('a', 2, 5);
  await record('a', 2, state(5, 'down'));
  for (const seq of [11, 12, 13]) await result('a', 0, seq);
  expect(await last('a', 2, false)).toBeNull(); // the result stream alone: rank 2's result is gone
  expect(await last('a', 2, true)).toEqual(state(5, 'down'));
  expect(await last('a', 0, true)).toEqual(state(13)); // no record for rank 0: the stream's
});

test('the newer of the two wins: a stale record loses to the stream, a newer record wins over it', async () => {
  await record('b', 0, state(3, 'down'));
  await result('b', 0, 8);
  expect(await last('b', 0, true)).toEqual(state(8));
  await record('b', 0, state(9, 'down'));
  expect(await last('b', 0, true)).toEqual(state(9, 'down'));
});

test('a hostile record is ignored (the stream decides); one over the size bound is refused by the server', async () => {
  await result('c', 1, 4);
  await record('c', 1, '{"seq": 1e30, "status": "up", "history": "1", "slot": 1}');
  expect(await last('c', 1, true)).toEqual(state(4));
  await record('c', 1, 'not json');
  expect(await last('c', 1, true)).toEqual(state(4));
  await record('c', 1, state(6, 'down'));
  await expect(record('c', 1, JSON.stringify({ ...state(99), pad: 'x'.repeat(RESUME_RECORD_MAX_BYTES) }))).rejects.toThrow(/message size exceeds maximum/i);
  expect(await last('c', 1, true)).toEqual(state(6, 'down'));
});

test("a spec delete purges the check's records, every vantage's, and no other check's", async () => {
  const store = kvSpecStore(kv, jsm, s.bucket('specs'), (id) => records.purge(id));
  await store.put('d', { id: 'd', kind: 'tcp', target: '127.0.0.1:1', intervalMs: 1000, timeoutMs: 500, replicas: 2 });
  for (const rank of [0, 1]) await record('d', rank, state(7));
  await record('dd', 0, state(7));
  expect(await store.delete('d')).toBe(true);
  expect(await records.last('d', 0)).toBeNull();
  expect(await records.last('d', 1)).toBeNull();
  expect(await records.last('dd', 0)).toEqual(state(7));
});

test('the combined verdict (replicas > 1) is kept one deep on <id>.quorum, read back bounded, and purged with the check', async () => {
  expect(await records.lastQuorum('q')).toBeNull();
  await js.publish(s.quorumState('q'), JSON.stringify({ status: 'up', seq: 1, formed: true }));
  await js.publish(s.quorumState('q'), JSON.stringify({ status: 'down', seq: 2, formed: true }));
  expect(await records.lastQuorum('q')).toEqual({ status: 'down', seq: 2, formed: true });
  await js.publish(s.quorumState('q'), '{"status":"sideways","seq":3,"formed":true}');
  expect(await records.lastQuorum('q')).toBeNull(); // hostile: ignored
  await js.publish(s.quorumState('q'), JSON.stringify({ status: 'up', seq: 4, formed: false }));
  await record('q', 0, state(4));
  await records.purge('q');
  expect(await records.lastQuorum('q')).toBeNull();
  expect(await records.last('q', 0)).toBeNull();
});

test("the stream's limits follow the settings: one message per subject, results' max age, its byte limit", async () => {
  const info = await jsm.streams.info(s.resumeStream());
  expect(info.config).toMatchObject({ subjects: ['lookout._resume.>'], max_msgs_per_subject: 1, max_age: cfg.resultsMaxAgeMs * 1e6, max_bytes: 1024 * 1024, max_msg_size: RESUME_RECORD_MAX_BYTES });
  // A max age under the streams' 2-minute duplicate window: the window is shortened with it (the
  // server refuses the update otherwise), for the result stream too.
  await ensureResumeStream(jsm, s, { ...cfg, resumeMaxBytes: 2 * 1024 * 1024, resultsMaxAgeMs: 60_000 });
  expect((await jsm.streams.info(s.resumeStream())).config).toMatchObject({ max_bytes: 2 * 1024 * 1024, max_age: 60_000 * 1e6, duplicate_window: 60_000 * 1e6 });
  await ensureResultStream(jsm, s, { ...cfg, resultsMaxAgeMs: 60_000 });
  expect((await jsm.streams.info(s.resultStream())).config).toMatchObject({ max_age: 60_000 * 1e6, duplicate_window: 60_000 * 1e6 });
  for (let seq = 1; seq <= 5; seq++) await record('e', 0, state(seq));
  expect((await jsm.streams.info(s.resumeStream(), { subjects_filter: s.resumeStatesOf('e') })).state.subjects).toEqual({ 'lookout._resume.e.0': 1 });
});

test("lastSeen: a vantage's record with the server's time of storing it (how fresh another vantage's view is); none → null", async () => {
  const ack = await record('v', 1, state(4, 'down'));
  const seen = await records.lastSeen('v', 1);
  const stored = await jsm.streams.getMessage(s.resumeStream(), { seq: ack.seq });
  expect(seen).toEqual({ state: state(4, 'down'), storedAt: stored!.time.getTime() });
  expect(await records.lastSeen('v', 2)).toBeNull();
});
