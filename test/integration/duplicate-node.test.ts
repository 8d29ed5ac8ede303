// Two `lookout node` processes with one LOOKOUT_NODE_ID, as separate OS processes against a real
// nats-server: the second refuses to start with one clear line; when both got running anyway (the
// first was paused while the second claimed the id), exactly one stops, without a leave, and the
// cluster never shows the node as left.
import { client, request } from '../helpers/lookout';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { runLookout, type LookoutProcess } from '../helpers/processes';

jest.setTimeout(90_000);

let server: NatsServer;
const procs: LookoutProcess[] = [];

beforeEach(async () => {
  server = await startNatsServer();
});

afterEach(async () => {
  for (const p of procs) p.signal('SIGCONT');
  for (const p of procs) p.signal('SIGKILL');
  await Promise.all(procs.map((p) => p.exited));
  procs.length = 0;
  await server.cleanup();
});

function start(id: string): LookoutProcess {
  const p = runLookout(['node'], { NATS_URL: server.url, LOOKOUT_NODE_ID: id, LOOKOUT_TIMING: 'test', LOOKOUT_HTTP_PORT: '0', LOOKOUT_LOG_LEVEL: 'info' });
  procs.push(p);
  return p;
}

/** Every state cluster.status reported for `node`, over several requests (each may be answered by another node). */
async function statesOf(nc: Awaited<ReturnType<typeof client>>, node: string, times: number): Promise<string[]> {
  const seen: string[] = [];
  for (let i = 0; i < times; i++) {
    // A node just woken from SIGSTOP on a loaded host may take seconds to answer: the states count, not how fast.
    const st = await request(nc, 'lookout.cluster.status', '', 15_000);
    seen.push(st.members.find((m: any) => m.node === node)?.state ?? 'absent');
  }
  return seen;
}

const running = (p: LookoutProcess) => p.logs().some((l) => l.event === 'membership_started');

test('a second process with a running node id refuses to start, naming the id; the first keeps the id', async () => {
  const nc = await client(server);
  try {
    const first = start('dup');
    const other = start('other');
    await waitFor('both nodes alive in cluster.status', async () => (await statesOf(nc, 'dup', 1))[0] === 'alive' && (await statesOf(nc, 'other', 1))[0] === 'alive', { timeoutMs: 30_000 });
    const second = start('dup');
    expect(await second.exited).toBe(1);
    const lines = second.output().split('\n').filter((l) => l.startsWith('lookout:'));
    expect(lines).toEqual([expect.stringContaining('node id "dup" is already used by another running process')]);
    expect(running(second)).toBe(false);
    expect(first.proc.exitCode).toBeNull();
    // The first logs the claim it answered; its log line may reach us after the second's exit.
    await waitFor('the first to log the claim it answered', () => first.logs().filter((l) => l.event === 'node_id_claimed').length, { timeoutMs: 15_000, until: (n) => n >= 1 });
    expect(first.logs().filter((l) => l.event === 'node_id_claimed')).toHaveLength(1);
    expect(await statesOf(nc, 'dup', 6)).toEqual(Array(6).fill('alive'));
    void other;
  } finally {
    await nc.close();
  }
});

test('both running anyway (the claim went unanswered): exactly one stops, exit 1, no leave; the node stays alive', async () => {
  const nc = await client(server);
  try {
    const a = start('dup');
    start('watcher');
    await waitFor('dup alive', async () => (await statesOf(nc, 'dup', 1))[0] === 'alive', { timeoutMs: 30_000 });
    // Pause the holder, so the newcomer's claim goes unanswered and it starts; then wake the holder.
    a.signal('SIGSTOP');
    const b = start('dup');
    await waitFor('the second process running', () => running(b) || b.proc.exitCode !== null, { timeoutMs: 30_000 });
    a.signal('SIGCONT');
    const [loser, winner] = await waitFor('one of the two stops', () => {
      if (a.proc.exitCode !== null) return [a, b] as const;
      if (b.proc.exitCode !== null) return [b, a] as const;
      return null;
    }, { timeoutMs: 30_000 });
    expect(await loser.exited).toBe(1);
    expect(loser.output()).toContain('another process runs with node id "dup"');
    expect(loser.logs().filter((l) => l.event === 'member_leave_announced')).toEqual([]);
    expect(loser.logs().filter((l) => l.event === 'duplicate_node_id' && l.level === 'fatal')).toHaveLength(1);
    expect(winner.proc.exitCode).toBeNull();
    expect(await statesOf(nc, 'dup', 6)).toEqual(Array(6).fill('alive'));
    // The winner may be the newcomer, which learns of the watcher from its next heartbeat: poll
    // until whoever answers knows both, and never see dup as anything but alive meanwhile.
    const dupSeen = new Set<string>();
    await waitFor('cluster.status shows dup and watcher alive', async () => {
      const members = (await request(nc, 'lookout.cluster.status', '', 2000)).members.map((m: any) => `${m.node}:${m.state}`).sort();
      for (const m of members) if (m.startsWith('dup:')) dupSeen.add(m);
      return members;
    }, { until: (m) => m.join() === 'dup:alive,watcher:alive' });
    expect([...dupSeen]).toEqual(['dup:alive']);
  } finally {
    await nc.close();
  }
});
