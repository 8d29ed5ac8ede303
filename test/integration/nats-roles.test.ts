// The NATS roles shipped in examples/nats/ (node, admin, reader), on a real nats-server started
// from examples/nats/server.conf: a Lookout cluster runs with nothing but the node role — leader
// election, assignment, probes, results, resume after a failover, graceful leave — without a
// single permission violation; the server refuses a reader's put and delete; an admin's put
// works and the reader sees its results; a reader listening on _INBOX.> overhears none of the
// nodes' own traffic; notifications (the notifier API, routing, retries, delivery) work under the
// same roles. A control shows the violation check is not vacuous: the permissions README
// listed before (lookout.>, _INBOX.>, $JS.API.>) break a node at once.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createUser } from '@nats-io/nkeys';
import { connect, nkeyAuthenticator, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { nodeInboxPrefix } from '../../runtime/nats';
import { Collector, request } from '../helpers/lookout';
import { natsServerBinary, startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { runLookout, type LookoutProcess } from '../helpers/processes';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';
import { startWebhookReceiver } from '../helpers/webhook-receiver';

jest.setTimeout(120_000);

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'nats');
const PASSWORDS = { LOOKOUT_NODE_PASSWORD: 'node-secret', LOOKOUT_ADMIN_PASSWORD: 'admin-secret', LOOKOUT_READER_PASSWORD: 'reader-secret' };
const USERS = {
  node: { user: 'lookout-node', pass: PASSWORDS.LOOKOUT_NODE_PASSWORD },
  admin: { user: 'lookout-admin', pass: PASSWORDS.LOOKOUT_ADMIN_PASSWORD },
  reader: { user: 'lookout-reader', pass: PASSWORDS.LOOKOUT_READER_PASSWORD },
} as const;
type Role = keyof typeof USERS;

/** Violations the server logged ("Publish Violation - User ..., Subject ..." / "Subscription Violation ..."). */
const violations = (s: NatsServer) => s.log().split('\n').filter((l) => / Violation - /.test(l));

function startNode(server: NatsServer, id: string, auth: { user: string; pass: string } | { nkeyFile: string }): LookoutProcess {
  return runLookout(['node'], {
    NATS_URL: server.url,
    ...('nkeyFile' in auth ? { NATS_NKEY: auth.nkeyFile } : { NATS_USER: auth.user, NATS_PASSWORD: auth.pass }),
    LOOKOUT_NODE_ID: id,
    LOOKOUT_TIMING: 'test',
    LOOKOUT_JITTER_MS: '0',
    LOOKOUT_HTTP_PORT: '0',
    LOOKOUT_SHUTDOWN_GRACE_MS: '1000',
    LOOKOUT_LOG_LEVEL: 'info',
  });
}

async function stopNodes(nodes: Map<string, LookoutProcess>): Promise<void> {
  for (const p of nodes.values()) p.signal('SIGKILL');
  await Promise.all([...nodes.values()].map((p) => p.exited));
}

/** A fresh nkey pair per role: public keys for the server config, seeds for the clients. */
function nkeys(): Record<Role, { pub: string; seed: Uint8Array }> {
  const one = () => {
    const kp = createUser();
    return { pub: kp.getPublicKey(), seed: kp.getSeed() };
  };
  return { node: one(), admin: one(), reader: one() };
}

test.each<[string, () => Record<string, string>, string]>([
  ['server.conf', () => PASSWORDS, 'LOOKOUT_NODE_PASSWORD'],
  ['accounts.conf', () => {
    const k = nkeys();
    return { LOOKOUT_NODE_NKEY: k.node.pub, LOOKOUT_ADMIN_NKEY: k.admin.pub, LOOKOUT_READER_NKEY: k.reader.pub };
  }, 'LOOKOUT_NODE_NKEY'],
])('examples/nats/%s is valid for nats-server with its variables in the environment, and refused without them', async (name, vars, first) => {
  const run = promisify(execFile);
  const conf = join(EXAMPLES, name);
  const ok = await run(natsServerBinary(), ['-c', conf, '-t'], { env: { ...process.env, ...vars() } });
  expect(`${ok.stdout}${ok.stderr}`).toMatch(/is valid/);
  const missing = await run(natsServerBinary(), ['-c', conf, '-t'], { env: { PATH: process.env.PATH ?? '' } }).then(
    () => 'started',
    (err: { stderr?: string }) => err.stderr ?? '',
  );
  expect(missing).toMatch(new RegExp(first));
});

describe('a Lookout cluster on the shipped roles', () => {
  let server: NatsServer;
  let target: HttpTarget;
  const conns = {} as Record<Role, NatsConnection>;
  let seen: { results: Collector; statuses: Collector; cluster: Collector; inboxes: Subscription };
  /** Everything the reader heard on `_INBOX.>` (it may subscribe there for its own replies). */
  const overheard: string[] = [];
  const nodes = new Map<string, LookoutProcess>();
  /** Every node started, including those already stopped (for their logs). */
  const all: LookoutProcess[] = [];

  beforeAll(async () => {
    server = await startNatsServer({ configFile: join(EXAMPLES, 'server.conf'), vars: PASSWORDS, logFile: true });
    target = await startHttpTarget();
    for (const role of Object.keys(USERS) as Role[]) {
      // A client with the node role uses the nodes' inbox prefix, as `lookout node` does.
      const inbox = role === 'node' ? { inboxPrefix: nodeInboxPrefix('lookout') } : {};
      conns[role] = await connect({ servers: server.url, name: `test-${role}`, ...USERS[role], ...inbox });
    }
    // The reader watches everything it may from the start (events included).
    seen = {
      results: new Collector(conns.reader, 'lookout.result.>'),
      statuses: new Collector(conns.reader, 'lookout.status.>'),
      cluster: new Collector(conns.reader, 'lookout.cluster.>'),
      inboxes: conns.reader.subscribe('_INBOX.>', { callback: (_err, m) => void overheard.push(`${m.subject} ${m.string()}`) }),
    };
    await conns.reader.flush();
    for (const id of ['role-a', 'role-b', 'role-c']) {
      nodes.set(id, startNode(server, id, USERS.node));
      all.push(nodes.get(id)!);
    }
  });

  afterAll(async () => {
    await stopNodes(nodes);
    for (const c of Object.values(conns)) await c?.close();
    await target?.close();
    if (server) await server.cleanup();
  });

  const status = () => request(conns.admin, 'lookout.cluster.status', '', 2000);
  const put = (id: string, extra: object = {}) => request(conns.admin, `lookout.spec.put.${id}`, { kind: 'http', target: `${target.url}/c/${id}`, intervalMs: 1000, timeoutMs: 500, ...extra });
  const resultsOf = (id: string) => seen.results.results(id);
  const lastSeq = (id: string, node?: string) => Math.max(0, ...resultsOf(id).filter((r) => node === undefined || r.node === node).map((r) => r.seq as number));

  test('nodes with only the node role elect, assign, probe, publish, resume after a failover and leave — with no permission violation', async () => {
    const settled = await waitFor(
      'three members, a leader and an assignment over all three',
      async () => {
        const st = await status();
        const alive = st.members.filter((m: any) => m.state === 'alive').map((m: any) => m.node).sort().join(',');
        if (alive !== 'role-a,role-b,role-c' || st.assignment?.members?.length !== 3 || !st.leader) throw new Error(JSON.stringify(st).slice(0, 300));
        return st;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const leader = settled.leader.node as string;

    // The spec API through the admin role: put, get, list, delete. Two vantages each: their nodes
    // keep a resume record per vantage (lookout._resume.>), read it back after the failover below,
    // and the delete purges the deleted check's records.
    for (const id of ['gone', 'kept']) expect(await put(id, { replicas: 2 })).toMatchObject({ ok: true, id });
    expect(await request(conns.admin, 'lookout.spec.get.kept', '')).toMatchObject({ ok: true, id: 'kept' });
    expect((await request(conns.admin, 'lookout.spec.list', '')).ids).toEqual(expect.arrayContaining(['gone', 'kept']));
    expect(await request(conns.admin, 'lookout.spec.delete.gone', '')).toMatchObject({ ok: true, id: 'gone' });

    // Put checks until the leader owns one, so killing the leader also moves a check (resume).
    let puts = 0;
    const owned = await waitFor(
      `a check owned by the leader ${leader}`,
      async () => {
        const mine = seen.results.messages.find((m) => m.msg.node === leader && m.msg.checkId.startsWith('r-'));
        if (mine) return mine.msg.checkId as string;
        if (puts < 40) expect(await put(`r-${puts++}`)).toMatchObject({ ok: true });
        throw new Error(`${puts} checks put, none probed by ${leader} yet`);
      },
      { timeoutMs: 30_000, intervalMs: 300 },
    );
    await waitFor('two results of that check', () => resultsOf(owned).length >= 2);
    expect(seen.cluster.of('lookout.cluster.leader').some((e) => e.event === 'elected' && e.node === leader)).toBe(true);
    expect(seen.cluster.of('lookout.cluster.assignment').length).toBeGreaterThan(0);

    // Failover: the leader dies; another node takes the lease (compare-and-set on the KV) and the
    // check, which it resumes from the result stream (its seq continues).
    const before = lastSeq(owned, leader);
    nodes.get(leader)!.signal('SIGKILL');
    await nodes.get(leader)!.exited;
    nodes.delete(leader);
    const after = await waitFor(
      'a new leader with a higher term and an assignment without the dead node',
      async () => {
        const st = await status();
        if (!st.leader || st.leader.node === leader || st.term <= settled.term || st.assignment.members.includes(leader)) throw new Error(JSON.stringify(st).slice(0, 300));
        return st;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const taken = await waitFor('the check probed by a survivor', () => resultsOf(owned).find((r) => r.node !== leader), { timeoutMs: 20_000 });
    expect(taken.seq).toBeGreaterThan(before);

    // Graceful leave of the new leader: it releases the lease (a KV delete) and exits 0.
    const second = after.leader.node as string;
    nodes.get(second)!.signal('SIGTERM');
    expect(await nodes.get(second)!.exited).toBe(0);
    nodes.delete(second);
    const last = [...nodes.keys()][0]!;
    await waitFor(
      `${last} leads`,
      async () => {
        const st = await status();
        if (st.leader?.node !== last) throw new Error(`leader ${JSON.stringify(st.leader)}`);
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    // The nodes' own replies (KV watch deliveries, JetStream API answers: every spec, the lease,
    // the map) go to their own inbox prefix, out of reach of a reader's `_INBOX.>`.
    expect(overheard.length).toBeGreaterThan(0); // the reader did hear replies to admin's requests
    const nodesOwn = overheard.filter((m) => m.startsWith('$KV.') || m.includes('/c/r-') || m.includes('"holder"') || m.includes('"shards":[['));
    expect([nodesOwn.length, nodesOwn.slice(0, 3).map((m) => m.slice(0, 160))]).toEqual([0, []]);

    const nodeOutput = all.map((p) => p.output()).join('\n');
    expect(nodeOutput).not.toMatch(/Permissions Violation/);
    expect(violations(server).filter((l) => l.includes('"lookout-node"'))).toEqual([]);
    // Each leader looked for legacy spec keys on the node's bulk link (runtime/bulk-link.ts), where
    // its shard loads go too, under the node role: every look succeeded.
    expect(nodeOutput).not.toMatch(/legacy_specs_migration_failed/);
  });

  test.each<[Role, string, 'refused' | 'allowed']>([
    ['reader', 'lookout.spec.put.by-reader', 'refused'],
    ['reader', 'lookout.spec.delete.kept', 'refused'],
    ['reader', 'lookout.spec.get.kept', 'refused'],
    ['reader', 'lookout.spec.list', 'refused'],
    ['reader', '$KV.lookout_specs.by-reader', 'refused'],
    ['reader', '$JS.API.STREAM.PURGE.lookout_results', 'refused'],
    ['reader', 'lookout.cluster.status', 'allowed'],
    ['reader', 'lookout.spec.schema', 'allowed'],
    ['reader', 'lookout.notify.put.by-reader', 'refused'],
    ['reader', 'lookout.notify.get.ops', 'refused'],
    ['reader', 'lookout.notify.list', 'allowed'],
    ['admin', '$KV.lookout_notifiers.by-admin', 'refused'],
    ['admin', 'lookout._notify.job.ops.kept', 'refused'],
    ['admin', '$KV.lookout_specs.by-admin', 'refused'],
    ['admin', '$JS.API.STREAM.DELETE.KV_lookout_specs', 'refused'],
    ['admin', 'lookout._node.heartbeat', 'refused'],
    ['admin', 'lookout._resume.kept.0', 'refused'],
    ['reader', 'lookout._resume.kept.0', 'refused'],
    ['admin', '$JS.API.STREAM.PURGE.lookout_resume', 'refused'],
    ['admin', 'lookout.cluster.status', 'allowed'],
    ['node', '$JS.API.STREAM.DELETE.KV_lookout_specs', 'refused'],
    ['node', '$JS.API.STREAM.CREATE.someone_elses', 'refused'],
  ])('%s publishing to %s: %s by the server', async (role, subject, expected) => {
    const attempt = conns[role].request(subject, '{"kind":"tcp","target":"127.0.0.1:1","intervalMs":1000,"timeoutMs":500}', { timeout: 3000 }).then(
      (m) => ({ replied: m.string() }),
      (err: Error) => ({ error: err.message }),
    );
    const outcome = await attempt;
    const logged = () => violations(server).some((l) => l.includes(`Publish Violation - User "${USERS[role].user}", Subject "${subject}"`));
    if (expected === 'refused') {
      expect(outcome).toEqual({ error: `Permissions Violation for Publish to "${subject}"` });
      await waitFor('the server logs the violation', () => logged());
    } else {
      expect(outcome).toHaveProperty('replied');
      expect(logged()).toBe(false);
    }
  });

  test("a reader's put stores nothing (request or plain publish); an admin's put works and the reader sees its results", async () => {
    conns.reader.publish('lookout.spec.put.plain-by-reader', JSON.stringify({ kind: 'http', target: `${target.url}/x`, intervalMs: 1000, timeoutMs: 500 }));
    await waitFor('the server refuses the plain publish', () => violations(server).some((l) => l.includes('Subject "lookout.spec.put.plain-by-reader"')));
    for (const id of ['by-reader', 'plain-by-reader']) {
      expect(await request(conns.admin, `lookout.spec.get.${id}`, '')).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    expect(await request(conns.admin, 'lookout.spec.get.kept', '')).toMatchObject({ ok: true });

    expect(await put('by-admin')).toMatchObject({ ok: true, id: 'by-admin' });
    const r = await waitFor('the reader sees a result of the admin\'s check', () => resultsOf('by-admin')[0], { timeoutMs: 20_000 });
    expect(r).toMatchObject({ checkId: 'by-admin', ok: true, status: 'up' });
    expect(await request(conns.reader, 'lookout.cluster.status', '')).toMatchObject({ ok: true });
    expect(await request(conns.reader, 'lookout.spec.schema', '')).toMatchObject({ ok: true, schema: { $id: 'urn:lookout:check-spec:v1' } });
  });

  test('notifications under the roles: an admin puts a notifier, nodes with only the node role route the change, retry and deliver, and the admin hears nothing dead — with no permission violation', async () => {
    const receiver = await startWebhookReceiver();
    try {
      receiver.answer((c) => (c.n === 1 ? 503 : 200));
      const dead = conns.admin.subscribe('lookout.notify.dead.>');
      expect(await request(conns.admin, 'lookout.notify.put.ops', { match: { ids: ['notified'] }, webhook: { url: receiver.url }, retry: { backoffMs: 100 } })).toMatchObject({ ok: true });
      expect(await put('notified', { policy: { type: 'consecutive', rise: 1, fall: 1 }, confirm: false })).toMatchObject({ ok: true });
      await waitFor('notified up', () => seen.statuses.statuses('notified').find((m) => m.to === 'up'), { timeoutMs: 30_000 });
      target.set('/c/notified', { status: 503 });
      await waitFor('the down delivered on the second attempt', () => receiver.calls.find((c) => c.attempt === 2 && c.json?.to === 'down'), { timeoutMs: 30_000, intervalMs: 50 });
      expect(await request(conns.reader, 'lookout.notify.list', '')).toMatchObject({ ok: true, total: 1, notifiers: [{ id: 'ops' }] });
      expect(dead.getProcessed()).toBe(0);
      dead.unsubscribe();
      expect(all.map((p) => p.output()).join('\n')).not.toMatch(/Permissions Violation/);
      // (The table above provokes refusals on a test client with the node role: not the nodes'.)
      expect(violations(server).filter((l) => l.includes('"lookout-node"') && !l.includes(':test-node"'))).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  test('a push check under the roles: a report to a node\'s HTTP endpoint is published by that node and heard by the owner — with no permission violation', async () => {
    expect(await request(conns.admin, 'lookout.spec.put.pushed', { kind: 'push', intervalMs: 1000 })).toMatchObject({ ok: true });
    const running = [...nodes.values()][0]!;
    const port = await waitFor('a node\'s HTTP port', () => running.logs().find((l) => l.event === 'http_listening')?.port as number | undefined);
    // Reports until the check is up (each node publishes what reaches it; the owner may be another node).
    const job = setInterval(() => void fetch(`http://127.0.0.1:${port}/push/pushed`, { method: 'POST' }).catch(() => {}), 200);
    try {
      await waitFor('pushed up', () => seen.statuses.statuses('pushed').find((m) => m.to === 'up'), { timeoutMs: 30_000 });
    } finally {
      clearInterval(job);
    }
    expect(resultsOf('pushed').find((r) => r.ok)).toMatchObject({ kind: 'push', push: { signal: 'ok' } });
    expect(all.map((p) => p.output()).join('\n')).not.toMatch(/Permissions Violation/);
    expect(violations(server).filter((l) => l.includes('"lookout-node"') && !l.includes(':test-node"'))).toEqual([]);
  });

  test.each<[Role, string]>([
    ['reader', 'lookout.spec.put.>'],
    ['reader', 'lookout.cluster.status'],
    ['admin', 'lookout.cluster.status'],
    ['admin', 'lookout._node.>'],
  ])('%s may not subscribe to %s (to read or answer requests meant for the nodes)', async (role, subject) => {
    const sub: Subscription = conns[role].subscribe(subject);
    const closedWith = await sub.closed;
    expect(String(closedWith)).toMatch(/Permissions Violation for Subscription to/);
  });
});

describe('examples/nats/accounts.conf: nkey users in an account of their own', () => {
  let server: NatsServer;
  let dir: string;
  const keys = nkeys();
  const conns = {} as Record<Role, NatsConnection>;
  const nodes = new Map<string, LookoutProcess>();
  let target: HttpTarget;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lookout-nkeys-'));
    writeFileSync(join(dir, 'node.nk'), keys.node.seed);
    server = await startNatsServer({
      configFile: join(EXAMPLES, 'accounts.conf'),
      vars: { LOOKOUT_NODE_NKEY: keys.node.pub, LOOKOUT_ADMIN_NKEY: keys.admin.pub, LOOKOUT_READER_NKEY: keys.reader.pub },
      logFile: true,
    });
    target = await startHttpTarget();
    for (const role of ['admin', 'reader'] as const) conns[role] = await connect({ servers: server.url, name: `test-${role}`, authenticator: nkeyAuthenticator(keys[role].seed) });
  });

  afterAll(async () => {
    await stopNodes(nodes);
    for (const c of Object.values(conns)) await c?.close();
    await target?.close();
    await server?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('two nodes with the node nkey form a cluster; the admin puts a check, the reader sees it probed; no violation', async () => {
    const results = new Collector(conns.reader, 'lookout.result.>');
    await conns.reader.flush();
    for (const id of ['nk-a', 'nk-b']) nodes.set(id, startNode(server, id, { nkeyFile: join(dir, 'node.nk') }));
    await waitFor(
      'two members and an assignment',
      async () => {
        const st = await request(conns.admin, 'lookout.cluster.status', '', 2000);
        if (st.assignment?.members?.length !== 2 || !st.leader) throw new Error(JSON.stringify(st).slice(0, 300));
        return st;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    expect(await request(conns.admin, 'lookout.spec.put.nk-check', { kind: 'http', target: `${target.url}/nk`, intervalMs: 1000, timeoutMs: 500 })).toMatchObject({ ok: true });
    await waitFor('a result the reader sees', () => results.results('nk-check').length > 0, { timeoutMs: 20_000 });
    await expect(conns.reader.request('lookout.spec.put.nk-reader', '{}', { timeout: 2000 })).rejects.toThrow(/Permissions Violation for Publish/);
    expect(violations(server).filter((l) => !l.includes('nk-reader'))).toEqual([]);
    expect([...nodes.values()].map((p) => p.output()).join('\n')).not.toMatch(/Permissions Violation/);
  });
});

describe('control: the permissions README listed before', () => {
  let server: NatsServer;
  let node: LookoutProcess | undefined;

  beforeAll(async () => {
    const perms = '["lookout.>", "_INBOX.>", "$JS.API.>"]';
    server = await startNatsServer({ logFile: true, config: `authorization { users: [ { user: old-node, password: old, permissions: { publish: ${perms}, subscribe: ${perms} } } ] }` });
  });

  afterAll(async () => {
    if (node) await stopNodes(new Map([['old', node]]));
    await server?.cleanup();
  });

  test('a node given only lookout.>, _INBOX.> and $JS.API.> is refused at once — the check above would see it', async () => {
    node = startNode(server, 'old-perms', { user: 'old-node', pass: 'old' });
    await waitFor('a violation in the server log', () => violations(server).some((l) => l.includes('User "old-node"')), { timeoutMs: 20_000 });
    await waitFor(
      'the node logs it',
      () => {
        if (!/Permissions Violation/.test(node!.output())) throw new Error(node!.output().slice(-1500));
        return true;
      },
      { timeoutMs: 20_000 },
    );
  });
});
