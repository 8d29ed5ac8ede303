// Benchmark 7 — the cluster tests' timing figures, with the tests' own settings: the `test`
// timing profile (protocol timers 10x faster than production), no jitter, 3 `lookout node`
// processes, 300 HTTP checks at a 1 s interval against a local counting target. The integration
// tests prove from the published slots and seq that no slot is missed or doubled; how long things
// take is measured here instead (on a loaded machine a test bound would be a coin toss). Each
// round, from the results on NATS (probe start `at`, slot) and lookout.cluster.leader:
//   - SIGTERM a follower: per handed-over check, time between the probe starts on either side of
//     the handover (old owner's last → new owner's first), and the new owner's start lateness
//     (`at` − slot) against the unmoved checks' in the same slots;
//   - SIGKILL a follower: kill → each of its checks' first probe start on a survivor;
//   - SIGKILL the leader: kill → `elected` with a higher term; kill → its checks probed again.
// A fresh node joins after each, and the cluster settles, before the next.
// Goals (the bounds the tests used to assert): handover gap < 1.5 × interval; re-probe after a
// kill ≤ interval + 5 s; new leader ≤ lease + 1 s (test profile: lease 1.2 s).
//
//   npm run build && npm run bench:cluster-timing
//   knobs: BENCH_CHECKS (300), BENCH_INTERVAL_MS (1000), BENCH_ROUNDS (3)

import { connect } from '@nats-io/transport-node';
import { TIMING_PROFILES } from '../runtime/config';
import { waitSettled } from './lib/cluster';
import { nodeEnv, spawnNode, type NodeProc } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { ResultLog, type SeenResult } from './lib/results';
import { httpCheckSpecs, putSpecs } from './lib/specs';
import { dist, median, pct, sorted } from './lib/stats';
import { startCountingTarget } from './lib/targets';
import { envInt, note, runBench, sleep, waitFor } from './lib/util';

const CHECKS = envInt('BENCH_CHECKS', 300);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 1000);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const LEASE_MS = TIMING_PROFILES.test.leaseMs;

/** The first result of `id` at or after `t` from a node other than `victim`, and the one before it. */
function takeover(results: ResultLog, id: string, victim: string, t: number): { before: SeenResult; after: SeenResult } | null {
  const list = [...(results.byCheck.get(id) ?? [])].sort((a, b) => a.at - b.at);
  const i = list.findIndex((r) => r.at >= t && r.node !== victim);
  return i > 0 ? { before: list[i - 1]!, after: list[i]! } : null;
}

runBench('cluster-timing', async (cleanup) => {
  const nats = await startNats();
  cleanup(() => nats.stop());
  const target = await startCountingTarget();
  cleanup(() => target.close());
  const nc = await connect({ servers: nats.url, name: 'bench-cluster-timing' });
  cleanup(() => nc.close());
  await putSpecs(nc, httpCheckSpecs(target.port, CHECKS, INTERVAL));
  const results = new ResultLog(nc);
  cleanup(() => results.stop());
  const elected: { node: string; term: number; at: string }[] = [];
  nc.subscribe('lookout.cluster.leader', { callback: (err, m) => void (!err && m.json<{ event: string }>().event === 'elected' && elected.push(m.json())) });

  let seq = 0;
  const env = nodeEnv({ LOOKOUT_TIMING: 'test', LOOKOUT_JITTER_MS: '0' });
  const spawn = () => spawnNode({ id: `bench-t${++seq}`, natsUrl: nats.url, env, echo: false });
  let nodes: NodeProc[] = [spawn(), spawn(), spawn()];
  const all = [...nodes];
  cleanup(() => Promise.all(all.map((n) => n.kill('SIGKILL'))));
  await waitSettled(nodes, CHECKS, 60_000);

  const leader = async (): Promise<NodeProc> => {
    const ms = await Promise.all(nodes.map((n) => n.metrics()));
    const i = ms.findIndex((m) => m.get('lookout_leader') === 1);
    if (i < 0) throw new Error('no leader');
    return nodes[i]!;
  };
  const replace = async (victim: NodeProc) => {
    nodes = nodes.filter((n) => n !== victim);
    const fresh = spawn();
    all.push(fresh);
    nodes.push(fresh);
    await waitSettled(nodes, CHECKS, 60_000);
  };

  const handovers: number[] = [];
  const movedLateness: number[] = [];
  const unmovedLateness: number[] = [];
  const followerRecovery: number[] = [];
  const leaderRecovery: number[] = [];
  const newLeader: number[] = [];
  const perRound: Record<string, number>[] = [];

  for (let round = 0; round < ROUNDS; round++) {
    // SIGTERM a follower: a planned handover.
    await sleep(2 * INTERVAL + 500);
    let lead = await leader();
    let victim = nodes.find((n) => n !== lead)!;
    let t = Date.now();
    let owned = results.ownedBy(victim.id, t);
    await victim.kill('SIGTERM');
    await replace(victim);
    await sleep(2 * INTERVAL);
    const gaps = owned.map((id) => takeover(results, id, victim.id, t)).filter((g) => g !== null);
    handovers.push(...gaps.map((g) => g.after.at - g.before.at));
    movedLateness.push(...gaps.map((g) => g.after.at - g.after.slot));
    const from = Math.min(...gaps.map((g) => g.after.slot));
    const until = Math.max(...gaps.map((g) => g.after.slot)) + INTERVAL;
    for (const [id, list] of results.byCheck) if (!owned.includes(id)) for (const r of list) if (r.slot >= from && r.slot < until) unmovedLateness.push(r.at - r.slot);
    const sigterm = Math.max(...gaps.map((g) => g.after.at - g.before.at));

    // SIGKILL a follower.
    await sleep(2 * INTERVAL + 500);
    lead = await leader();
    victim = nodes.find((n) => n !== lead)!;
    t = Date.now();
    owned = results.ownedBy(victim.id, t);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const reprobed = await waitFor('the killed follower’s checks probed again', () => {
      const g = owned.map((id) => takeover(results, id, victim.id, t));
      return g.every((x) => x !== null) ? g.map((x) => x!.after.at - t) : null;
    }, 60_000);
    followerRecovery.push(Math.max(...reprobed));
    await replace(victim);

    // SIGKILL the leader.
    await sleep(2 * INTERVAL + 500);
    victim = await leader();
    const termBefore = Math.max(0, ...elected.map((e) => e.term));
    t = Date.now();
    owned = results.ownedBy(victim.id, t);
    victim.proc.kill('SIGKILL');
    await victim.exited;
    const e = await waitFor('a new leader term', () => elected.find((x) => x.term > termBefore), 60_000);
    newLeader.push(Date.parse(e.at) - t);
    const leaderChecks = await waitFor('the killed leader’s checks probed again', () => {
      const g = owned.map((id) => takeover(results, id, victim.id, t));
      return g.every((x) => x !== null) ? g.map((x) => x!.after.at - t) : null;
    }, 60_000);
    leaderRecovery.push(Math.max(...leaderChecks));
    await replace(victim);
    perRound.push({ sigtermMaxGapMs: sigterm, followerReprobeMaxMs: Math.max(...reprobed), newLeaderMs: Date.parse(e.at) - t, leaderReprobeMaxMs: Math.max(...leaderChecks) });
    note(`round ${round + 1}:`, perRound.at(-1));
  }

  const moved = sorted(movedLateness);
  const unmoved = sorted(unmovedLateness);
  return {
    checks: CHECKS,
    intervalMs: INTERVAL,
    profile: 'test',
    leaseMs: LEASE_MS,
    rounds: ROUNDS,
    sigtermHandoverGapMs: dist(handovers, 0),
    sigtermLatenessMs: { moved: { p50: pct(moved, 50), p99: pct(moved, 99), max: moved.at(-1) }, unmoved: { p50: pct(unmoved, 50), p99: pct(unmoved, 99), max: unmoved.at(-1) } },
    followerReprobeMs: { median: median(followerRecovery), max: Math.max(...followerRecovery) },
    newLeaderMs: { median: median(newLeader), max: Math.max(...newLeader) },
    leaderReprobeMs: { median: median(leaderRecovery), max: Math.max(...leaderRecovery) },
    goals: { handoverGapMs: 1.5 * INTERVAL, reprobeMs: INTERVAL + 5000, newLeaderMs: LEASE_MS + 1000 },
    met: {
      handover: Math.max(...handovers) < 1.5 * INTERVAL,
      reprobe: Math.max(...followerRecovery, ...leaderRecovery) <= INTERVAL + 5000,
      leader: Math.max(...newLeader) <= LEASE_MS + 1000,
    },
    perRound,
  };
});
