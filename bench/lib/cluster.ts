// Start N lookout node processes against one nats-server and wait until the cluster has settled:
// every node sees N alive members, all follow the same assignment epoch, and together they own
// every check exactly once (sum of lookout_checks_owned).

import { spawnNode, nodeEnv, type NodeProc } from './lookout';
import { sum, type Samples } from './prom';
import { waitFor } from './util';

export interface ClusterState {
  epochs: number[];
  alive: number[];
  owned: number[];
  leaders: number;
}

export async function clusterState(nodes: readonly NodeProc[]): Promise<ClusterState> {
  const m: Samples[] = await Promise.all(nodes.map((n) => n.metrics()));
  return {
    epochs: m.map((s) => sum(s, 'lookout_assignment_epoch')),
    alive: m.map((s) => sum(s, 'lookout_members', 'state="alive"')),
    owned: m.map((s) => sum(s, 'lookout_checks_owned')),
    leaders: m.reduce((a, s) => a + sum(s, 'lookout_leader'), 0),
  };
}

/** Resolves with the settled state; throws after `timeoutMs` with the last state seen. */
export async function waitSettled(nodes: readonly NodeProc[], checks: number, timeoutMs = 60_000): Promise<ClusterState> {
  let last: ClusterState | null = null;
  return waitFor(
    `cluster of ${nodes.length} settled with ${checks} checks`,
    async () => {
      const s = await clusterState(nodes);
      last = s;
      const settled =
        s.epochs.every((e) => e > 0 && e === s.epochs[0]) &&
        s.alive.every((a) => a === nodes.length) &&
        s.owned.reduce((a, b) => a + b, 0) === checks &&
        s.leaders === 1;
      if (!settled) throw new Error(JSON.stringify(last));
      return s;
    },
    timeoutMs,
    200,
  );
}

export function startNodes(n: number, natsUrl: string, env: Record<string, string> = {}, tag = 'n'): NodeProc[] {
  const out: NodeProc[] = [];
  for (let i = 1; i <= n; i++) out.push(spawnNode({ id: `bench-${tag}${i}`, natsUrl, env: nodeEnv(env), echo: true }));
  return out;
}
