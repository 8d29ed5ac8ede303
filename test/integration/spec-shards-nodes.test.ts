// Specs per shard, on `lookout node` processes (issue 12 §4): with one vantage point, three nodes
// and 300 checks, each node holds the specs of the shards it serves only — lookout_specs_held is
// exactly the checks of the shards the map gives it, far from all 300 — while the API gets and
// lists every id from whichever node answers. SIGKILL the leader: the survivors take its shards,
// hold their specs (the held counts add up to 300 again) and probe its checks; and the new leader
// moves a spec stored under a bare id (as an older version wrote it) to its sharded key, after
// which it is probed too.
import { Kvm } from '@nats-io/kv';
import { shardOf } from '../../protocol/hash';
import { SETTINGS } from '../../runtime/config';
import { request } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';

const N = 300;
const I = 1000;
const NODES = ['n1', 'n2', 'n3'];
const SHARDS = SETTINGS.shards.default;

/** lookout_specs_held of one node, read from its /metrics (the port it logged). */
async function specsHeld(s: Scenario, node: string): Promise<number> {
  const port = s.cluster.logs(node).find((l) => l.event === 'http_listening')?.port as number | undefined;
  if (!port) throw new Error(`${node} has not logged its http port`);
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('lookout_specs_held '));
  if (!line) throw new Error(`${node}: no lookout_specs_held`);
  return Number(line.split(' ')[1]);
}

/** The map as stored (`lookout_assignment`, key "map"): its epoch and who holds each (shard, rank). */
async function storedMap(s: Scenario): Promise<{ epoch: number; shards: string[][] }> {
  const e = await (await new Kvm(s.cluster.nc).open('lookout_assignment')).get('map');
  if (!e || e.operation !== 'PUT') throw new Error('no map stored');
  return e.json();
}

/** Per node, the checks of the shards the current map gives it at rank 0 (the only rank here). */
async function expectedShares(s: Scenario, nodes: readonly string[], extra: readonly string[] = []): Promise<Record<string, number>> {
  const { shards } = await storedMap(s);
  const share: Record<string, number> = Object.fromEntries(nodes.map((n) => [n, 0]));
  for (const id of [...s.ids, ...extra]) {
    const owner = shards[shardOf(id, SHARDS)]![0]!;
    share[owner] = (share[owner] ?? 0) + 1;
  }
  return share;
}

/** Waits until every node's held count equals its share of the current map; returns the counts. */
async function heldMatchesMap(s: Scenario, nodes: readonly string[], what: string, extra: readonly string[] = []): Promise<Record<string, number>> {
  return waitFor(what, async () => {
    const want = await expectedShares(s, nodes, extra);
    const held: Record<string, number> = {};
    for (const n of nodes) held[n] = await specsHeld(s, n);
    if (JSON.stringify(held) !== JSON.stringify(want)) throw new Error(`held ${JSON.stringify(held)}, map gives ${JSON.stringify(want)}`);
    return held;
  }, { timeoutMs: 60_000 });
}

scenarioTest(
  'a node holds only the specs of its shards; the API answers any id from any node; a killed node\'s shards are held and probed by the survivors',
  { nodes: NODES, checks: N, intervalMs: I, env: { LOOKOUT_VANTAGE_POINTS: '1' } },
  async (s) => {
    const held = await heldMatchesMap(s, NODES, 'each node holds the specs of its own shards');
    expect(Object.values(held).reduce((a, b) => a + b, 0)).toBe(N);
    for (const n of NODES) {
      expect(held[n]).toBeGreaterThan(0);
      expect(held[n]).toBeLessThan(N / 2); // about a third each, never the whole bucket
    }

    // Every id, got and listed, whichever node's spec API answers (a queue group: each request
    // goes to one of them, none of which holds more than half the specs).
    for (const id of s.ids) expect(await request(s.cluster.nc, `lookout.spec.get.${id}`, '', 5000)).toMatchObject({ ok: true, id });
    const listed: string[] = [];
    let after: string | null = null;
    do {
      const page: any = await request(s.cluster.nc, 'lookout.spec.list', after === null ? { limit: 70 } : { after, limit: 70 }, 5000);
      expect(page.ok).toBe(true);
      listed.push(...page.ids);
      after = page.next;
    } while (after !== null);
    expect(listed.sort()).toEqual([...s.ids].sort());
    await waitFor('the list total counts every spec (the members\' heartbeats)', async () => {
      const r = await request(s.cluster.nc, 'lookout.spec.list', { limit: 1 }, 5000);
      if (r.total !== N) throw new Error(`total ${r.total}`);
      return true;
    });

    // A spec under a bare id, as an older version stored it: readable, not probed until migrated.
    const kv = await new Kvm(s.cluster.nc).open('lookout_specs');
    const got: any = await request(s.cluster.nc, `lookout.spec.get.${s.ids[0]}`, '', 5000);
    await kv.put('legacy-1', JSON.stringify(got.spec));
    expect(await request(s.cluster.nc, 'lookout.spec.get.legacy-1', '', 5000)).toMatchObject({ ok: true, id: 'legacy-1' });

    // Kill the leader: its shards go to the survivors, who load their specs and probe them.
    const victim = (await s.cluster.status()).leader.node as string;
    const survivors = NODES.filter((n) => n !== victim);
    const map = await storedMap(s);
    const theirs = s.ids.filter((id) => map.shards[shardOf(id, SHARDS)]![0] === victim);
    expect(theirs.length).toBe(held[victim]);
    await s.cluster.kill(victim);
    const killedAt = Date.now();
    await s.cluster.settled(survivors, { epochAbove: map.epoch });
    await s.awaitResults('the killed node\'s checks probed by a survivor', theirs, (r) => r.slot > killedAt && survivors.includes(r.node));
    await s.awaitResults('the legacy spec, moved by the new leader, probed', ['legacy-1'], (r) => survivors.includes(r.node));
    const after2 = await heldMatchesMap(s, survivors, 'the survivors hold every spec between them', ['legacy-1']);
    expect(after2[survivors[0]!]! + after2[survivors[1]!]!).toBe(N + 1);
    expect((await kv.get('legacy-1'))?.operation).toBe('PURGE');
    expect((await kv.get(`${shardOf('legacy-1', SHARDS)}.legacy-1`))?.operation).toBe('PUT');
    expect(survivors.some((n) => s.cluster.logs(n).some((l) => l.event === 'legacy_specs_migrated' && l.moved === 1))).toBe(true);
  },
);
