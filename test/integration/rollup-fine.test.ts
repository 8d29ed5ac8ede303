// The fine grain of the rollups (LOOKOUT_ROLLUP_FINE_PERIOD_MS) against a spawned nats-server and an
// in-process node, with a fine period of a second (the least allowed) beside a 3-second rollup
// period: fine records go to lookout._rollup_fine.<id> and the stream lookout_rollups_fine keeps them
// within bounds of its own (as the server's stream info says, and as its message count shows), a
// history request with grain "fine" (or "auto" over a short range) answers the fine series, and the
// default request still answers the coarse one. Every answer is compared with the records the node
// published — not with times. Needs `npx tsc -p tsconfig.json` first (the CLI runs from dist/).
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { runLookout } from '../helpers/processes';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

const FINE_PER_CHECK = 6;
const FINE_MAX_AGE_MS = 120_000;
const FINE_MAX_BYTES = 1024 * 1024;

let server: NatsServer;
let node: NodeHandle;
let nc: NatsConnection;
let jsm: JetStreamManager;
let target: HttpTarget;
let events: Collector;

beforeAll(async () => {
  server = await startNatsServer();
  node = await startTestNode(server, {
    LOOKOUT_ROLLUP_PERIOD_MS: '6000',
    LOOKOUT_ROLLUP_FINE_PERIOD_MS: '2000',
    LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS: String(FINE_MAX_AGE_MS),
    LOOKOUT_ROLLUPS_FINE_PER_CHECK: String(FINE_PER_CHECK),
    LOOKOUT_ROLLUPS_FINE_MAX_BYTES: String(FINE_MAX_BYTES),
  });
  nc = await client(server);
  jsm = await jetstreamManager(nc);
  events = new Collector(nc, 'lookout.>');
  target = await startHttpTarget({ routes: { '/up': { status: 200 } } });
  expect(await request(nc, 'lookout.spec.put.fine-1', { kind: 'http', target: `${target.url}/up`, intervalMs: 1000, timeoutMs: 500 })).toMatchObject({ ok: true });
  // Probed once a fine period: its fine records would each hold one probe, so it has none.
  expect(await request(nc, 'lookout.spec.put.fine-slow', { kind: 'http', target: `${target.url}/up`, intervalMs: 2000, timeoutMs: 500 })).toMatchObject({ ok: true });
}, 60_000);

afterAll(async () => {
  events?.stop();
  await nc?.close();
  await node?.stop();
  await server?.cleanup();
  await target?.close();
});

const fineRecords = () => events.of('lookout._rollup_fine.fine-1');
const coarseRecords = () => events.of('lookout._rollup.fine-1');

test('fine records every 2 s on lookout._rollup_fine.<id>, coarse ones every 6 s on lookout._rollup.<id>; the fine stream keeps its own bounds; a check probed once a fine period has coarse records only', async () => {
  // More fine records than the stream keeps per check, and two coarse ones.
  await waitFor('fine and coarse records', () => ({ fine: fineRecords().length, coarse: coarseRecords().length }), { timeoutMs: 60_000, until: (n) => n.fine > FINE_PER_CHECK + 2 && n.coarse >= 2 });
  expect(fineRecords().every((r) => r.periodMs === 2000 && r.checkId === 'fine-1' && r.period % 2000 === 0)).toBe(true);
  expect(coarseRecords().every((r) => r.periodMs === 6000 && r.period % 6000 === 0)).toBe(true);
  expect(events.of('lookout._rollup.fine-slow').length).toBeGreaterThanOrEqual(1);
  expect(events.of('lookout._rollup_fine.fine-slow')).toEqual([]);

  const fine = await jsm.streams.info('lookout_rollups_fine');
  expect(fine.config).toMatchObject({ subjects: ['lookout._rollup_fine.>'], max_msgs_per_subject: FINE_PER_CHECK, max_age: FINE_MAX_AGE_MS * 1_000_000, max_bytes: FINE_MAX_BYTES, discard: 'old', allow_direct: true });
  // Enforced: one check's fine records, however many were published, are at most FINE_PER_CHECK.
  const published = fineRecords().length;
  expect(published).toBeGreaterThan(FINE_PER_CHECK);
  expect(fine.state.messages).toBeLessThanOrEqual(FINE_PER_CHECK);
  // The hourly stream is apart, with its own (default) bounds, and holds no fine record.
  const coarse = await jsm.streams.info('lookout_rollups');
  expect(coarse.config).toMatchObject({ subjects: ['lookout._rollup.>'], max_msgs_per_subject: 800, max_age: 31 * 86_400_000 * 1_000_000 });
  expect(coarse.state.messages).toBeGreaterThanOrEqual(2);
  expect(coarse.state.messages).toBeLessThan(published);
}, 90_000);

test('history: grain fine answers the fine series (as published), the default still the coarse one, auto picks by range', async () => {
  const byPeriod = (records: any[]) => new Map(records.map((r) => [new Date(r.period).toISOString(), r.probes]));

  const f = await request(nc, 'lookout.state.history.fine-1', { grain: 'fine' });
  expect(f).toMatchObject({ ok: true, grain: 'fine' });
  expect(f.series.length).toBeGreaterThan(0);
  expect(f.series.length).toBeLessThanOrEqual(FINE_PER_CHECK + 1); // the stream's bound (+1 published while the answer was read)
  const fineSeen = byPeriod(fineRecords());
  // Each point is a fine record the node published (one node: one record per period), oldest first.
  for (const p of f.series) {
    expect(p.periodMs).toBe(2000);
    if (fineSeen.has(p.period)) expect(p.probes).toBe(fineSeen.get(p.period));
  }
  expect(f.series.filter((p: any) => fineSeen.has(p.period)).length).toBeGreaterThanOrEqual(f.series.length - 1);
  expect(f.series.map((p: any) => p.period)).toEqual([...f.series.map((p: any) => p.period)].sort());

  const c = await request(nc, 'lookout.state.history.fine-1');
  expect(c).toMatchObject({ ok: true, grain: 'coarse' });
  expect(c.series.length).toBeGreaterThanOrEqual(2);
  expect(c.series.every((p: any) => p.periodMs === 6000)).toBe(true);
  const coarseSeen = byPeriod(coarseRecords());
  for (const p of c.series) if (coarseSeen.has(p.period)) expect(p.probes).toBe(coarseSeen.get(p.period));
  expect(c.series.reduce((a: number, p: any) => a + p.probes, 0)).toBe(c.range.probes.probes);

  // auto: fine for a range the fine records cover (the last 8 s: they keep the last 6 here, 12 s);
  // coarse for one reaching further back than LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS (2 min here; the
  // default range: 24 h), or than the fine records kept (the last minute: whole 6-second periods
  // ended before the oldest fine record).
  const now = Date.now();
  const shortRange = await request(nc, 'lookout.state.history.fine-1', { grain: 'auto', from: new Date(now - 8000).toISOString() });
  expect(shortRange).toMatchObject({ ok: true, grain: 'fine' });
  expect(shortRange.series.length).toBeGreaterThan(0);
  expect(shortRange.series.every((p: any) => p.periodMs === 2000)).toBe(true);
  expect(await request(nc, 'lookout.state.history.fine-1', { grain: 'auto', from: new Date(now - 60_000).toISOString() })).toMatchObject({ ok: true, grain: 'coarse' });
  expect(await request(nc, 'lookout.state.history.fine-1', { grain: 'auto' })).toMatchObject({ ok: true, grain: 'coarse' });

  expect(await request(nc, 'lookout.state.history.fine-1', { grain: 'minute' })).toMatchObject({ ok: false, error: { code: 'enum', path: 'grain' } });
}, 30_000);

test('lookout history <id> --grain fine --last 1h: the fine periods as a table; a bad grain is a usage error', async () => {
  const run = async (args: string[]) => {
    const p = runLookout(args, { NATS_URL: server.url });
    const code = await p.exited;
    return { code, out: p.output() };
  };
  const r = await run(['history', 'fine-1', '--grain', 'fine', '--last', '1h']);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/\nfine periods of 2s from .* UTC: \d+\nPERIOD\s+PROBES\s+FAILED\s+\?\?\s+MEAN\s+P50\s+P90\s+MAX\n\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+\s+0\s+0\s+/);
  const bad = await run(['history', 'fine-1', '--grain', 'minute']);
  expect(bad.code).toBe(2);
  expect(bad.out).toMatch(/--grain: expected one of coarse, fine, auto/);
}, 30_000);

test('a deleted check takes its fine records with it', async () => {
  const last = (await jsm.direct.getMessage('lookout_rollups_fine', { last_by_subj: 'lookout._rollup_fine.fine-1' }))!.seq;
  expect(await request(nc, 'lookout.spec.delete.fine-1')).toMatchObject({ ok: true, existed: true });
  const oldestLeft = async () => (await jsm.direct.getMessage('lookout_rollups_fine', { next_by_subj: 'lookout._rollup_fine.fine-1', seq: 1 }))?.seq ?? null;
  await waitFor('fine-1\'s fine records purged', oldestLeft, { timeoutMs: 10_000, until: (seq) => seq === null || seq > last });
}, 30_000);
