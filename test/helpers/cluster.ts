// A Lookout cluster made of real OS processes (the `lookout node` entry point) against spawned
// nats-servers, plus the analysis cluster tests need: which slots each check was probed in,
// duplicates and gaps, and the cluster's own view (cluster.status, cluster.* events).

import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { phaseOf } from '../../runtime/hash';
import { client, Collector, request } from './lookout';
import type { NatsServer } from './nats-server';
import { waitFor } from './poll';
import { runLookout, type LookoutProcess } from './processes';
import type { HttpTarget } from './targets';

export interface ClusterNode {
  id: string;
  proc: LookoutProcess;
}

export class LookoutCluster {
  readonly nodes = new Map<string, ClusterNode>();
  nc!: NatsConnection;
  events!: Collector;

  constructor(
    private readonly servers: NatsServer[],
    private readonly env: Record<string, string> = {},
  ) {}

  async connect(): Promise<void> {
    this.nc = await client(this.servers[0]!);
    this.events = new Collector(this.nc, 'lookout.>');
  }

  start(id: string, extraEnv: Record<string, string> = {}): ClusterNode {
    const proc = runLookout(['node'], {
      NATS_URL: this.servers.map((s) => s.url).join(','),
      LOOKOUT_NODE_ID: id,
      LOOKOUT_TIMING: 'test',
      LOOKOUT_JITTER_MS: '0',
      LOOKOUT_SHUTDOWN_GRACE_MS: '1000',
      LOOKOUT_LOG_LEVEL: 'info',
      LOOKOUT_HTTP_PORT: '0',
      ...this.env,
      ...extraEnv,
    });
    const node = { id, proc };
    this.nodes.set(id, node);
    this.allProcs.push(node);
    return node;
  }

  async status(): Promise<any> {
    return request(this.nc, 'lookout.cluster.status', '', 2000);
  }

  /** Wait until cluster.status shows exactly `ids` as alive members and an assignment over them. */
  async settled(ids: string[], timeoutMs = 20_000): Promise<any> {
    const want = [...ids].sort().join(',');
    return waitFor(
      `cluster settled on ${want}`,
      async () => {
        const st = await this.status();
        const alive = st.members.filter((m: any) => m.state === 'alive').map((m: any) => m.node).sort().join(',');
        const assigned = [...(st.assignment?.members ?? [])].sort().join(',');
        if (alive !== want || assigned !== want) throw new Error(`alive=[${alive}] assigned=[${assigned}] epoch=${st.epoch}`);
        return st;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  leaderEvents(): any[] {
    return this.events.of('lookout.cluster.leader');
  }

  assignmentEvents(): any[] {
    return this.events.of('lookout.cluster.assignment');
  }

  /** Logs of a node, parsed. */
  logs(id: string): any[] {
    return this.nodes.get(id)!.proc.logs();
  }

  signal(id: string, sig: NodeJS.Signals): void {
    this.nodes.get(id)!.proc.signal(sig);
  }

  async kill(id: string): Promise<void> {
    const n = this.nodes.get(id)!;
    n.proc.signal('SIGKILL');
    await n.proc.exited;
    this.nodes.delete(id);
  }

  async stopAll(): Promise<void> {
    for (const n of this.nodes.values()) n.proc.signal('SIGCONT');
    for (const n of this.nodes.values()) n.proc.signal('SIGKILL');
    await Promise.all([...this.nodes.values()].map((n) => n.proc.exited));
    this.nodes.clear();
    this.events?.stop();
    await this.nc?.close();
  }

  /** Every node's full log, including nodes already gone. */
  private readonly allProcs: ClusterNode[] = [];

  /** On failure: write every node's log to a temp dir and return its path. */
  dumpLogs(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-cluster-logs-'));
    for (const n of this.allProcs) appendFileSync(join(dir, `${n.id}.log`), n.proc.output());
    return dir;
  }
}

/** Put `n` http checks `<prefix>-<i>` probing `<target>/c/<id>` every `intervalMs`. */
export async function putChecks(nc: NatsConnection, target: HttpTarget, prefix: string, n: number, intervalMs: number, extra: object = {}): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await Promise.all(
    ids.map(async (id) => {
      const r = await request(nc, `lookout.spec.put.${id}`, { kind: 'http', target: `${target.url}/c/${id}`, intervalMs, timeoutMs: Math.min(500, intervalMs - 1), ...extra });
      if (!r.ok) throw new Error(`put ${id}: ${JSON.stringify(r)}`);
    }),
  );
  return ids;
}

/** Arrival times of the probes of each check (from the target's own log). */
export function hitTimes(target: HttpTarget, ids: string[]): Map<string, number[]> {
  const out = new Map(ids.map((id) => [id, [] as number[]]));
  for (const r of target.requests) {
    const m = /^\/c\/([^/?]+)/.exec(r.url);
    if (m) out.get(m[1]!)?.push(r.at);
  }
  return out;
}

export interface SlotReport {
  /** (check, slot) pairs probed more than once. */
  duplicates: string[];
  /** (check, slot) pairs in the window not probed at all. */
  gaps: string[];
  slots: number;
}

/**
 * Check each check's probes against its slots in [from, to): every slot exactly once. A probe
 * arriving at t belongs to the slot at or before t (probes arrive within a few ms of their slot;
 * with LOOKOUT_JITTER_MS=0 there is no jitter).
 */
export function slotReport(target: HttpTarget, ids: string[], intervalMs: number, from: number, to: number): SlotReport {
  const hits = hitTimes(target, ids);
  const duplicates: string[] = [];
  const gaps: string[] = [];
  let slots = 0;
  for (const id of ids) {
    const phase = phaseOf(id, intervalMs);
    const count = new Map<number, number>();
    for (const t of hits.get(id)!) {
      const slot = t - ((((t - phase) % intervalMs) + intervalMs) % intervalMs);
      count.set(slot, (count.get(slot) ?? 0) + 1);
    }
    const first = from + ((((phase - from) % intervalMs) + intervalMs) % intervalMs);
    for (let slot = first; slot + intervalMs <= to; slot += intervalMs) {
      slots++;
      const c = count.get(slot) ?? 0;
      if (c === 0) gaps.push(`${id}@${slot}`);
      if (c > 1) duplicates.push(`${id}@${slot}×${c}`);
    }
  }
  return { duplicates, gaps, slots };
}

/** Longest time between consecutive probes of each check within [from, to]. */
export function maxGaps(target: HttpTarget, ids: string[], from: number, to: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [id, times] of hitTimes(target, ids)) {
    const inWindow = times.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
    let max = 0;
    for (let i = 1; i < inWindow.length; i++) max = Math.max(max, inWindow[i]! - inWindow[i - 1]!);
    out.set(id, max);
  }
  return out;
}

/** Which node's results a check's latest result came from. */
export function ownerOf(events: Collector, id: string): string | undefined {
  const r = events.results(id);
  return r[r.length - 1]?.node;
}
