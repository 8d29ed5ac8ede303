// Benchmark 3 — failover under a timing profile (BENCH_PROFILE: production, the default, or
// nats-cluster, whose 15 s lease rides out JetStream's own re-election): 3 `lookout node` processes, 1,000
// HTTP checks at a 2 s interval against a local counting target. Each round SIGKILLs one node —
// first a follower, then (after a replacement node has joined and the cluster has settled) the
// leader — and measures from the results on NATS:
//   - per-check gap: time between the probe starts of consecutive results across the kill, for
//     the checks the killed node owned (and the largest gap of any check in the window);
//   - settle time: kill → every survivor applied a new assignment epoch and every check of the
//     killed node produced a result again;
//   - for the leader kill: kill → `elected` event with a higher term on lookout.cluster.leader.
// Goals: max gap ≤ interval + 5 s, leader or not, under both profiles (a dead node's checks are
// taken over by the next owners by rank without waiting for a leader: protocol/takeover.ts);
// new leader ≤ lease + 1 s.
//
//   npm run build && npm run bench:failover
//   knobs: BENCH_CHECKS (1000), BENCH_INTERVAL_MS (2000), BENCH_ROUNDS (3), BENCH_PROFILE (production)

import { connect } from '@nats-io/transport-node';
import { TIMING_PROFILES } from '../runtime/config';
import { clusterState, waitSettled } from './lib/cluster';
import { nodeEnv, spawnNode, type NodeProc } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { ResultLog } from './lib/results';
import { httpCheckSpecs, putSpecs } from './lib/specs';
import { dist, median } from './lib/stats';
import { startCountingTarget } from './lib/targets';
import { envInt, note, runBench, sleep, waitFor } from './lib/util';

const CHECKS = envInt('BENCH_CHECKS', 1000);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 2000);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const PROFILE = (process.env.BENCH_PROFILE ?? 'production') as keyof typeof TIMING_PROFILES;
if (!(PROFILE in TIMING_PROFILES)) throw new Error(`BENCH_PROFILE: one of ${Object.keys(TIMING_PROFILES).join(', ')}`);
const LEASE_MS = TIMING_PROFILES[PROFILE].leaseMs;

interface LeaderEvent {
  event: string;
  node: string;
  term: number;
  at: string;
  recv: number;
}

interface KillResult {
  kind: 'follower' | 'leader';
  victim: string;
  ownedChecks: number;
  gapMs: ReturnType<typeof dist>;
  maxGapAnyCheckMs: number;
  settleMs: number;
  epochAppliedMs: number;
  allProbingMs: number;
  newLeaderMs?: number;
  /** Timeline from the survivors' logs (ms after the kill). */
  suspectMs: number | null;
  deadMs: number | null;
  writtenMs: number | null;
  /** Re-probes of the killed node's checks: catch-up probes (off the slot grid) vs at the next grid slot. */
  catchUps: number;
  gridResumes: number;
  /** Catch-up probe start after its node applied the new epoch: the resume lookup's latency. */
  catchUpAfterAppliedMs: ReturnType<typeof dist>;
}

runBench('failover', async (cleanup) => {
  const nats = await startNats();
  cleanup(() => nats.stop());
  const target = await startCountingTarget();
  cleanup(() => target.close());
  const nc = await connect({ servers: nats.url, name: 'bench-failover' });
  cleanup(() => nc.close());
  await putSpecs(nc, httpCheckSpecs(target.port, CHECKS, INTERVAL));

  const results = new ResultLog(nc);
  const leaderEvents: LeaderEvent[] = [];
  nc.subscribe('lookout.cluster.leader', {
    callback: (err, m) => {
      if (!err) leaderEvents.push({ ...m.json<Omit<LeaderEvent, 'recv'>>(), recv: Date.now() });
    },
  });

  let seq = 0;
  const spawn = () => spawnNode({ id: `bench-f${++seq}`, natsUrl: nats.url, env: nodeEnv({ LOOKOUT_TIMING: PROFILE }), echo: false });
  let nodes: NodeProc[] = [spawn(), spawn(), spawn()];
  const all: NodeProc[] = [...nodes];
  cleanup(() => Promise.all(all.map((n) => n.kill('SIGKILL'))));
  await waitSettled(nodes, CHECKS, 60_000);
  note('cluster settled');

  const leaderOf = async (): Promise<NodeProc> => {
    const ms = await Promise.all(nodes.map((n) => n.metrics()));
    const i = ms.findIndex((m) => m.get('lookout_leader') === 1);
    if (i < 0) throw new Error('no leader');
    return nodes[i]!;
  };

  const killOne = async (kind: 'follower' | 'leader'): Promise<KillResult> => {
    // Steady state: two full intervals under the current map.
    await sleep(2 * INTERVAL + 500);
    const leader = await leaderOf();
    const victim = kind === 'leader' ? leader : nodes.find((n) => n !== leader)!;
    const before = await clusterState(nodes);
    const epochBefore = Math.max(...before.epochs);
    const termBefore = Math.max(0, ...leaderEvents.filter((e) => e.event === 'elected').map((e) => e.term));
    const survivors = nodes.filter((n) => n !== victim);
    const logMark = survivors.map((n) => n.logs.length);
    const tk = Date.now();
    victim.proc.kill('SIGKILL');
    await victim.exited;
    nodes = survivors;
    const owned = results.ownedBy(victim.id, tk);
    // Settled: every survivor applied a newer epoch, every check of the victim probed again.
    const appliedAt = new Map<string, number>();
    const epochApplied = await waitFor(
      'survivors applied a new epoch',
      () => {
        const times = survivors.map((n, i) => {
          const j = n.logs.findIndex((l, k) => k >= logMark[i]! && l.msg === 'assignment applied' && Number(l.epoch) > epochBefore);
          if (j < 0) return null;
          appliedAt.set(n.id, Date.parse(String(n.logs[j]!.time)));
          return appliedAt.get(n.id)!;
        });
        return times.every((t) => t !== null) ? Math.max(...(times as number[])) : null;
      },
      30_000,
      50,
    );
    const allProbing = await waitFor(
      "every check of the killed node probed again",
      () => {
        let latest = 0;
        for (const id of owned) {
          const g = results.gapAcross(id, tk);
          if (!g || g.after.node === victim.id) return null;
          latest = Math.max(latest, g.after.recv);
        }
        return latest || tk;
      },
      30_000,
      50,
    );
    let newLeaderMs: number | undefined;
    if (kind === 'leader') {
      const e = await waitFor('a new leader term', () => leaderEvents.find((x) => x.event === 'elected' && x.term > termBefore), 30_000, 50);
      newLeaderMs = Date.parse(e.at) - tk;
    }
    const gaps = owned.map((id) => results.gapAcross(id, tk)!.gap);
    const catchUpDelays: number[] = [];
    let gridResumes = 0;
    for (const id of owned) {
      const g = results.gapAcross(id, tk)!;
      if ((g.after.slot - g.before.slot) % INTERVAL === 0) gridResumes++;
      else catchUpDelays.push(g.after.slot - (appliedAt.get(g.after.node) ?? NaN));
    }
    const firstLog = (pred: (l: { msg?: string; [k: string]: unknown }) => boolean): number | null => {
      let best: number | null = null;
      survivors.forEach((n, i) => {
        for (let k = logMark[i]!; k < n.logs.length; k++) {
          const l = n.logs[k]!;
          if (pred(l)) {
            const t = Date.parse(String(l.time)) - tk;
            best = best === null ? t : Math.min(best, t);
            break;
          }
        }
      });
      return best;
    };
    await sleep(INTERVAL + 500);
    const anyGaps = results.gapsIn(tk - INTERVAL, Date.now() - INTERVAL);
    const r: KillResult = {
      kind,
      victim: victim.id,
      ownedChecks: owned.length,
      gapMs: dist(gaps, 0),
      maxGapAnyCheckMs: Math.max(...anyGaps),
      epochAppliedMs: epochApplied - tk,
      allProbingMs: allProbing - tk,
      settleMs: Math.max(epochApplied, allProbing) - tk,
      ...(newLeaderMs !== undefined ? { newLeaderMs } : {}),
      suspectMs: firstLog((l) => l.msg === 'member suspect' && l.member === victim.id),
      deadMs: firstLog((l) => l.msg === 'member dead' && l.member === victim.id),
      writtenMs: firstLog((l) => l.msg === 'assignment written' && Number(l.epoch) > epochBefore),
      catchUps: catchUpDelays.length,
      gridResumes,
      catchUpAfterAppliedMs: dist(catchUpDelays, 0),
    };
    note(`${kind} kill:`, r);
    if (process.env.BENCH_DEBUG) {
      const worst = owned.map((id) => ({ id, g: results.gapAcross(id, tk)! })).sort((a, b) => b.g.gap - a.g.gap);
      for (const w of [...worst.slice(0, 6), ...worst.slice(-3)]) {
        note(`  gap ${w.id} ${w.g.gap}ms before at=+${w.g.before.at - tk} slot=+${w.g.before.slot - tk}; after at=+${w.g.after.at - tk} slot=+${w.g.after.slot - tk} recv=+${w.g.after.recv - tk} ${w.g.after.node}`);
      }
      survivors.forEach((n, i) => {
        for (let k = logMark[i]!; k < n.logs.length; k++) {
          const l = n.logs[k]!;
          note(`  ${n.id} +${Date.parse(String(l.time)) - tk}ms ${l.actor ?? ''} ${l.msg} ${JSON.stringify({ ...l, time: undefined, msg: undefined, node: undefined, level: undefined, actor: undefined }).slice(0, 200)}`);
        }
      });
    }
    // Bring the cluster back to 3 nodes for the next kill.
    const fresh = spawn();
    all.push(fresh);
    nodes = [...nodes, fresh];
    await waitSettled(nodes, CHECKS, 60_000);
    return r;
  };

  const runs: KillResult[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    runs.push(await killOne('follower'));
    runs.push(await killOne('leader'));
  }
  results.stop();

  const agg = (kind: 'follower' | 'leader') => {
    const rs = runs.filter((r) => r.kind === kind);
    return {
      runs: rs.length,
      gapP50Ms: median(rs.map((r) => r.gapMs.p50)),
      gapP99Ms: median(rs.map((r) => r.gapMs.p99)),
      gapMaxMs: Math.max(...rs.map((r) => r.gapMs.max)),
      maxGapAnyCheckMs: Math.max(...rs.map((r) => r.maxGapAnyCheckMs)),
      settleMsMedian: median(rs.map((r) => r.settleMs)),
      settleMsMax: Math.max(...rs.map((r) => r.settleMs)),
      deadMsMedian: median(rs.map((r) => r.deadMs ?? NaN)),
      writtenMsMedian: median(rs.map((r) => r.writtenMs ?? NaN)),
      catchUpAfterAppliedMsMax: Math.max(...rs.map((r) => r.catchUpAfterAppliedMs.max)),
      ...(kind === 'leader'
        ? { newLeaderMsMedian: median(rs.map((r) => r.newLeaderMs!)), newLeaderMsMax: Math.max(...rs.map((r) => r.newLeaderMs!)) }
        : {}),
    };
  };
  const follower = agg('follower');
  const leader = agg('leader');
  return {
    checks: CHECKS,
    intervalMs: INTERVAL,
    profile: PROFILE,
    leaseMs: LEASE_MS,
    follower,
    leader,
    goals: { maxGapMs: INTERVAL + 5000, newLeaderMs: LEASE_MS + 1000 },
    met: {
      gap: Math.max(follower.gapMaxMs, leader.gapMaxMs, follower.maxGapAnyCheckMs, leader.maxGapAnyCheckMs) <= INTERVAL + 5000,
      leader: (leader.newLeaderMsMax ?? Infinity) <= LEASE_MS + 1000,
    },
    runs: runs.map((r) => ({ kind: r.kind, owned: r.ownedChecks, gapP50: r.gapMs.p50, gapP99: r.gapMs.p99, gapMax: r.gapMs.max, settleMs: r.settleMs, newLeaderMs: r.newLeaderMs, deadMs: r.deadMs, writtenMs: r.writtenMs, appliedMs: r.epochAppliedMs, catchUps: r.catchUps, catchUpAfterAppliedMaxMs: r.catchUpAfterAppliedMs.max })),
  };
});
