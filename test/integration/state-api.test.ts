// The state API (runtime/state-api.ts) and `lookout status` / `lookout history`, against a spawned
// nats-server, an in-process node and a real HTTP target whose answers the test changes. What a
// client that was not listening can ask: a check's verdict and since when (the status message the
// transition stream kept), its last result and last failure, many checks by id prefix or label
// (paged), and its uptime and verdict changes. Every answer is compared with what the cluster
// published on lookout.status.> and lookout.result.> — not with times. Needs
// `npx tsc -p tsconfig.json` first (the CLI runs from dist/).
import { spawnSync } from 'node:child_process';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { NodeHandle } from '../../app/start-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, request, startTestNode } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { runLookout } from '../helpers/processes';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';

let server: NatsServer;
let node: NodeHandle;
let nc: NatsConnection;
let target: HttpTarget;
let events: Collector;

const spec = (path: string, labels: Record<string, string> = {}) => ({ kind: 'http', target: `${target.url}${path}`, intervalMs: 1000, timeoutMs: 500, policy: { type: 'consecutive', rise: 1, fall: 1 }, labels });
const IDS = ['st-up', 'st-down', 'st-pay-2', 'other-1'];

beforeAll(async () => {
  server = await startNatsServer();
  // Rollups every second (an hour by default), so a test sees several periods end.
  node = await startTestNode(server, { LOOKOUT_CHECK_METRICS: 'on', LOOKOUT_ROLLUP_PERIOD_MS: '1000' });
  nc = await client(server);
  events = new Collector(nc, 'lookout.>');
  target = await startHttpTarget({ routes: { '/up': { status: 200 }, '/down': { status: 503, body: 'maintenance' } } });
  const puts: [string, object][] = [
    ['st-up', spec('/up', { team: 'web' })],
    ['st-down', spec('/down', { team: 'pay', tier: '1' })],
    ['st-pay-2', spec('/up', { team: 'pay' })],
    ['other-1', spec('/up')],
  ];
  for (const [id, body] of puts) expect(await request(nc, `lookout.spec.put.${id}`, body)).toMatchObject({ ok: true });
  await waitFor('a verdict for every check', () => IDS.filter((id) => events.statuses(id).length === 0), { timeoutMs: 30_000, until: (missing) => missing.length === 0 });
}, 60_000);

afterAll(async () => {
  events?.stop();
  await nc?.close();
  await node?.stop();
  await server?.cleanup();
  await target?.close();
});

test('state.get: verdict and since from the status message, the last result and the last failure with reason and message', async () => {
  const published = events.statuses('st-down').at(-1);
  expect(published).toMatchObject({ from: 'unknown', to: 'down' });
  const r = await request(nc, 'lookout.state.get.st-down');
  expect(r).toMatchObject({ ok: true, state: { checkId: 'st-down', verdict: 'down', since: published.at } });
  // The last result is one the cluster published (same seq and epoch), and it failed with the target's answer.
  const last = r.state.lastResult;
  expect(events.results('st-down').some((m) => m.seq === last.seq && m.epoch === last.epoch && m.at === last.at)).toBe(true);
  expect(r.state.lastFailure).toMatchObject({ reason: 'status', message: expect.stringContaining('503') });

  const up = await request(nc, 'lookout.state.get.st-up');
  expect(up).toMatchObject({ ok: true, state: { verdict: 'up', since: events.statuses('st-up').at(-1).at, lastFailure: null } });
});

test('state.list: by id prefix, by labels, paged with a cursor; every state as state.get gives it', async () => {
  const ids = (r: any) => r.states.map((s: any) => s.checkId).sort();
  expect(ids(await request(nc, 'lookout.state.list', { prefix: 'st-' }))).toEqual(['st-down', 'st-pay-2', 'st-up']);
  expect(ids(await request(nc, 'lookout.state.list', { labels: { team: 'pay' } }))).toEqual(['st-down', 'st-pay-2']);
  expect(ids(await request(nc, 'lookout.state.list', { labels: { team: 'pay', tier: '1' } }))).toEqual(['st-down']);
  expect(await request(nc, 'lookout.state.list', { prefix: 'nothing-' })).toMatchObject({ ok: true, states: [], next: null });
  // By verdict: each candidate's state is read, only those with that verdict are answered.
  expect(ids(await request(nc, 'lookout.state.list', { verdict: 'down' }))).toEqual(['st-down']);
  expect(ids(await request(nc, 'lookout.state.list', { verdict: 'up', prefix: 'st-' }))).toEqual(['st-pay-2', 'st-up']);
  expect(ids(await request(nc, 'lookout.state.list', { verdict: 'flapping' }))).toEqual([]);
  // A verdict filter pages with the same cursor.
  const first: any = await request(nc, 'lookout.state.list', { verdict: 'up', limit: 1 });
  expect(first.states).toHaveLength(1);
  const rest: any = await request(nc, 'lookout.state.list', { verdict: 'up', after: first.next });
  expect([...first.states, ...rest.states].map((s: any) => s.checkId).sort()).toEqual(['other-1', 'st-pay-2', 'st-up']);

  const pages: string[] = [];
  let after: string | null = null;
  for (let i = 0; i < 10; i++) {
    const r: any = await request(nc, 'lookout.state.list', { limit: 1, ...(after ? { after } : {}) });
    expect(r.states.length).toBeLessThanOrEqual(1);
    pages.push(...r.states.map((s: any) => s.checkId));
    if (r.next === null) break;
    after = r.next;
  }
  expect(pages.sort()).toEqual([...IDS].sort());
});

test('a deleted check takes its verdict changes and rollups with it: everything stored before the delete is gone', async () => {
  await waitFor('a rollup of other-1', () => events.of('lookout._rollup.other-1').length, { timeoutMs: 10_000, until: (n) => n > 0 });
  const jsm = await jetstreamManager(nc);
  const stored = [
    ['lookout_transitions', 'lookout.status.other-1'],
    ['lookout_rollups', 'lookout._rollup.other-1'],
  ] as const;
  const lastSeq = await Promise.all(stored.map(async ([stream, subj]) => (await jsm.direct.getMessage(stream, { last_by_subj: subj }))!.seq));
  expect(await request(nc, 'lookout.spec.delete.other-1')).toMatchObject({ ok: true, existed: true });
  // The oldest record left (if any: the owner may publish its period in progress after the delete) is newer than the delete.
  const oldestLeft = () => Promise.all(stored.map(async ([stream, subj]) => (await jsm.direct.getMessage(stream, { next_by_subj: subj, seq: 1 }))?.seq ?? null));
  await waitFor('other-1\'s records purged', oldestLeft, { timeoutMs: 10_000, until: (seqs) => seqs.every((seq, i) => seq === null || seq > lastSeq[i]!) });
  expect(await request(nc, 'lookout.state.get.other-1')).toMatchObject({ ok: false, error: { code: 'not_found' } });
  IDS.splice(IDS.indexOf('other-1'), 1);
});

test('hostile or wrong requests get a clear error (code, path), nothing else', async () => {
  expect(await request(nc, 'lookout.state.get.no-such-check')).toMatchObject({ ok: false, error: { code: 'not_found', path: 'id' } });
  expect(await request(nc, 'lookout.state.get.a*b')).toMatchObject({ ok: false, error: { code: 'invalid_id' } });
  expect(await request(nc, 'lookout.state.list', '{')).toMatchObject({ ok: false, error: { code: 'invalid_json' } });
  expect(await request(nc, 'lookout.state.list', { limit: 100_000 })).toMatchObject({ ok: false, error: { code: 'range', path: 'limit' } });
  expect(await request(nc, 'lookout.state.list', { verdict: 'sideways' })).toMatchObject({ ok: false, error: { code: 'enum', path: 'verdict' } });
  expect(await request(nc, 'lookout.state.history.st-down', { from: 'last week' })).toMatchObject({ ok: false, error: { code: 'format', path: 'from' } });
});

test('history: after the target recovers, the changes unknown→down→up as published, and uptime from them', async () => {
  target.set('/down', { status: 200 });
  await waitFor('st-down back up', () => events.statuses('st-down').map((s) => s.to), { timeoutMs: 30_000, until: (tos) => tos.includes('up') });
  const published = events.statuses('st-down').map((s) => ({ from: s.from, to: s.to, at: s.at, node: s.node }));
  const h = await request(nc, 'lookout.state.history.st-down');
  expect(h).toMatchObject({ ok: true, checkId: 'st-down', verdict: 'up', since: published.at(-1)!.at });
  expect(h.changes.map((c: any) => ({ from: c.from, to: c.to, at: c.at, node: c.node }))).toEqual(published);
  // Down for a while, then up until now: strictly between 0 and 1, the same over every window (nothing older).
  const day = h.uptime['24h'];
  expect(day).toMatchObject({ changes: 2, retainedFully: true });
  expect(day.ratio).toBeGreaterThan(0);
  expect(day.ratio).toBeLessThan(1);
  expect(h.uptime['30d'].ratio).toBe(day.ratio);
  // Probes and latency: the sum of the rollup records the node published for the check (ended periods).
  const records = events.of('lookout._rollup.st-down');
  expect(records.length).toBeGreaterThan(0);
  const published24h = records.reduce((a, r) => ({ probes: a.probes + r.probes, failures: a.failures + r.failures }), { probes: 0, failures: 0 });
  // The answer may have read a record or two published after our subscriber saw them, never fewer.
  expect(h.probes['24h'].probes).toBeGreaterThanOrEqual(published24h.probes - records.at(-1).probes);
  expect(h.probes['24h'].failures).toBeGreaterThan(0);
  expect(h.probes['24h'].failures).toBeLessThanOrEqual(events.results('st-down').filter((r) => !r.ok).length);
  expect(h.probes['24h'].p50Ms).toEqual(expect.any(Number));
  // The same per period (the series the status page draws): oldest first, adding up to the range's probes.
  expect(h.series.length).toBeGreaterThan(0);
  expect(h.series.map((p: any) => p.period)).toEqual([...h.series.map((p: any) => p.period)].sort());
  expect(h.series.reduce((a: number, p: any) => a + p.probes, 0)).toBe(h.range.probes.probes);
  const before = await request(nc, 'lookout.state.history.st-down', { from: '2020-01-01T00:00:00Z', to: '2020-01-02T00:00:00Z' });
  expect(before).toMatchObject({ ok: true, series: [] });
  // A range before the check existed holds no change and no known time.
  expect(before).toMatchObject({ ok: true, changes: [], range: { changes: 0 } });
}, 60_000);

test('/metrics/checks (LOOKOUT_CHECK_METRICS=on): each check this node runs, its verdict as published, promtool-clean', async () => {
  const scrape = async () => {
    const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics/checks`)).text();
    return { text, up: Object.fromEntries([...text.matchAll(/^lookout_check_up\{check="([^"]+)",vantage="0"\} (\d)$/gm)].map((m) => [m[1], Number(m[2])])) };
  };
  const published = Object.fromEntries(IDS.map((id) => [id, events.statuses(id).at(-1).to === 'up' ? 1 : 0]));
  // A check deleted just before leaves the exposition once its runner has heard of the delete.
  const { text, up } = await waitFor('the running checks in the exposition', scrape, { timeoutMs: 10_000, until: (x) => Object.keys(x.up).sort().join() === Object.keys(published).sort().join() });
  expect(up).toEqual(published);
  expect(text).toMatch(/^lookout_check_probe_duration_seconds\{check="st-up",vantage="0"\} \d/m);
  const lastChange = Date.parse(events.statuses('st-down').at(-1).at) / 1000;
  expect(text).toContain(`lookout_check_last_transition_timestamp_seconds{check="st-down",vantage="0"} ${lastChange}`);
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  expect({ status: promtool.status, out: `${promtool.stdout}${promtool.stderr}`.trim() }).toEqual({ status: 0, out: '' });
});

describe('the CLI', () => {
  const run = async (args: string[]) => {
    const p = runLookout(args, { NATS_URL: server.url });
    const code = await p.exited;
    return { code, out: p.output() };
  };

  test('lookout status <id> --json: the state as the API gives it', async () => {
    const r = await run(['status', 'st-up', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ checkId: 'st-up', verdict: 'up' });
  });

  test('lookout status --label: a table of the matching checks; nothing matching is said on stderr', async () => {
    const r = await run(['status', '--label', 'team=pay']);
    expect(r.code).toBe(0);
    const rows = r.out.trim().split('\n');
    expect(rows[0]).toMatch(/^CHECK\s+VERDICT\s+SINCE\s+LAST RESULT\s+LAST FAILURE$/);
    expect(rows.slice(1).map((l) => l.split(/\s+/)[0]).sort()).toEqual(['st-down', 'st-pay-2']);
    const none = await run(['status', '--id-prefix', 'zz']);
    expect(none).toMatchObject({ code: 0, out: 'lookout: no check matches\n' });
    expect((await run(['status', '--label', 'team'])).code).toBe(2);
  });

  test('lookout history <id>: uptime per window and the changes', async () => {
    const r = await run(['history', 'st-down']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^check st-down: up since /);
    expect(r.out).toMatch(/\n24h\s+\d+\.\d{3}%\s+2\s+\d+\s+\d+\s+(≤\d+ms|-)/);
    expect(r.out).toContain('unknown→down');
    expect(r.out).toContain('down→up');
  });
});
