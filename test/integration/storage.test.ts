// Storage that fills without losing the cluster, against a real nats-server with a small
// JetStream store (max_file_store): a store too small for Lookout's streams is named at startup
// with the setting to change; a full spec bucket refuses puts with storage_full while deletes
// still work and free space; the leader keeps its lease and a new map is still written.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeHandle } from '../../app/start-node';
import { client, Collector, request, startTestNode, testEnv } from '../helpers/lookout';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { runLookout } from '../helpers/processes';

jest.setTimeout(90_000);

/** A nats-server whose JetStream file store holds at most `maxFileStore`. */
function smallServer(maxFileStore: string): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-small-store-'));
  const file = join(dir, 'server.conf');
  writeFileSync(file, `jetstream {\n  store_dir: "replaced-by-the-helper"\n  max_file_store: ${maxFileStore}\n}\n`);
  return startNatsServer({ configFile: file });
}

let server: NatsServer | null = null;
const nodes: NodeHandle[] = [];

afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes.length = 0;
  await server?.cleanup();
  server = null;
});

test('a store too small for the streams is named at startup, with the stream and the setting to change', async () => {
  server = await smallServer('32MB');
  const base = testEnv(server, { LOOKOUT_LOG_LEVEL: 'info' });
  const specsTooBig = runLookout(['node'], { ...base, LOOKOUT_SPECS_MAX_BYTES: String(64 * 1024 * 1024) });
  expect(await specsTooBig.exited).toBe(1);
  expect(specsTooBig.output()).toMatch(/lookout: cannot create KV_lookout_specs with a limit of 64 MiB: .*lower LOOKOUT_SPECS_MAX_BYTES/);
  const resultsTooBig = runLookout(['node'], { ...base, LOOKOUT_SPECS_MAX_BYTES: String(1024 * 1024) }); // results: 256 MiB by default
  expect(await resultsTooBig.exited).toBe(1);
  expect(resultsTooBig.output()).toMatch(/lookout: cannot create lookout_results with a limit of 256 MiB: .*lower LOOKOUT_RESULTS_MAX_BYTES/);
  const resumeTooBig = runLookout(['node'], { ...base, LOOKOUT_SPECS_MAX_BYTES: String(1024 * 1024), LOOKOUT_RESULTS_MAX_BYTES: String(1024 * 1024) }); // resume: 64 MiB by default
  expect(await resumeTooBig.exited).toBe(1);
  expect(resumeTooBig.output()).toMatch(/lookout: cannot create lookout_resume with a limit of 64 MiB: .*lower LOOKOUT_RESUME_MAX_BYTES/);
  const small = { LOOKOUT_SPECS_MAX_BYTES: String(1024 * 1024), LOOKOUT_RESULTS_MAX_BYTES: String(1024 * 1024), LOOKOUT_RESUME_MAX_BYTES: String(64 * 1024) };
  const transitionsTooBig = runLookout(['node'], { ...base, ...small }); // transitions: 64 MiB by default
  expect(await transitionsTooBig.exited).toBe(1);
  expect(transitionsTooBig.output()).toMatch(/lookout: cannot create lookout_transitions with a limit of 64 MiB: .*lower LOOKOUT_TRANSITIONS_MAX_BYTES/);
  const rollupsTooBig = runLookout(['node'], { ...base, ...small, LOOKOUT_TRANSITIONS_MAX_BYTES: String(64 * 1024) }); // rollups: 256 MiB by default
  expect(await rollupsTooBig.exited).toBe(1);
  expect(rollupsTooBig.output()).toMatch(/lookout: cannot create lookout_rollups with a limit of 256 MiB: .*lower LOOKOUT_ROLLUPS_MAX_BYTES/);
  const fineTooBig = runLookout(['node'], { ...base, ...small, LOOKOUT_TRANSITIONS_MAX_BYTES: String(64 * 1024), LOOKOUT_ROLLUPS_MAX_BYTES: String(64 * 1024) }); // fine rollups: 256 MiB by default
  expect(await fineTooBig.exited).toBe(1);
  expect(fineTooBig.output()).toMatch(/lookout: cannot create lookout_rollups_fine with a limit of 256 MiB: .*lower LOOKOUT_ROLLUPS_FINE_MAX_BYTES/);
  const jobsTooBig = runLookout(['node'], { ...base, ...small, LOOKOUT_TRANSITIONS_MAX_BYTES: String(64 * 1024), LOOKOUT_ROLLUPS_MAX_BYTES: String(64 * 1024), LOOKOUT_ROLLUPS_FINE_MAX_BYTES: String(64 * 1024) }); // notification jobs: 64 MiB by default
  expect(await jobsTooBig.exited).toBe(1);
  expect(jobsTooBig.output()).toMatch(/lookout: cannot create lookout_notify_jobs with a limit of 64 MiB: .*lower LOOKOUT_NOTIFY_JOBS_MAX_BYTES/);
});

test('a full spec bucket: puts fail with storage_full, deletes work and free space, the lease and the assignment carry on', async () => {
  // Room for every stream's limit (1 MiB results + 64 KiB each for resume, specs, transitions,
  // both rollup streams and the three of notifications + 1 MiB lease + 16 MiB assignment), little else.
  server = await smallServer('20MB');
  const env = {
    LOOKOUT_SPECS_MAX_BYTES: String(64 * 1024),
    LOOKOUT_RESULTS_MAX_BYTES: String(1024 * 1024),
    LOOKOUT_RESUME_MAX_BYTES: String(64 * 1024),
    LOOKOUT_TRANSITIONS_MAX_BYTES: String(64 * 1024),
    LOOKOUT_ROLLUPS_MAX_BYTES: String(64 * 1024),
    LOOKOUT_ROLLUPS_FINE_MAX_BYTES: String(64 * 1024),
    LOOKOUT_NOTIFY_JOBS_MAX_BYTES: String(64 * 1024),
    LOOKOUT_NOTIFY_DEAD_MAX_BYTES: String(64 * 1024),
    LOOKOUT_NOTIFIERS_MAX_BYTES: String(64 * 1024),
  };
  const nc = await client(server);
  const events = new Collector(nc, 'lookout.cluster.>');
  try {
    nodes.push(await startTestNode(server, env));
    const st = await waitFor('a leader and a map', async () => {
      const s = await request(nc, 'lookout.cluster.status', '', 2000);
      return s.leader && s.epoch ? s : null;
    }, { timeoutMs: 30_000 });
    const term = st.leader.term;
    // 12 KiB specs (a request body): a handful fill 64 KiB.
    const spec = (i: number) => ({ kind: 'http', target: `http://127.0.0.1:1/${i}`, intervalMs: 60_000, timeoutMs: 1000, http: { method: 'POST', body: 'x'.repeat(12 * 1024) } });
    const stored: string[] = [];
    let full: any = null;
    for (let i = 0; i < 40 && !full; i++) {
      const r = await request(nc, `lookout.spec.put.s${i}`, spec(i), 5000);
      if (r.ok) stored.push(`s${i}`);
      else full = r;
    }
    expect(stored.length).toBeGreaterThan(0);
    expect(full).toMatchObject({ ok: false, error: { code: 'storage_full' } });
    expect(full.error.message).toMatch(/LOOKOUT_SPECS_MAX_BYTES/);
    // Deleting frees space: after deleting two, a put fits again.
    for (const id of stored.slice(0, 2)) expect(await request(nc, `lookout.spec.delete.${id}`, '', 5000)).toMatchObject({ ok: true, existed: true });
    expect(await request(nc, 'lookout.spec.put.again', spec(99), 5000)).toMatchObject({ ok: true });
    expect(await request(nc, `lookout.spec.get.${stored[0]}`, '', 5000)).toMatchObject({ ok: false, error: { code: 'not_found' } });
    // Fill it again, then show the cluster's coordination still works: a second node joins, a new
    // map is written, and the leader never lost its lease.
    for (let i = 100; i < 140; i++) if (!(await request(nc, `lookout.spec.put.s${i}`, spec(i), 5000)).ok) break;
    nodes.push(await startTestNode(server, env));
    const after = await waitFor('a map with both nodes', async () => {
      const s = await request(nc, 'lookout.cluster.status', '', 2000);
      // Either node may answer: the new one knows the leader only once it has read the lease.
      if (s.assignment?.members?.length !== 2 || !s.leader) throw new Error(`members ${JSON.stringify(s.assignment?.members)} epoch ${s.epoch} leader ${JSON.stringify(s.leader)}`);
      return s;
    }, { timeoutMs: 30_000 });
    expect(after.epoch).toBeGreaterThan(st.epoch);
    expect(after.leader.term).toBe(term);
    expect(events.of('lookout.cluster.leader').filter((e) => e.event === 'stepped_down')).toEqual([]);
  } finally {
    events.stop();
    await nc.close();
  }
});
