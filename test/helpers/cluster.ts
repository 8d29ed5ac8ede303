// A Lookout cluster made of real OS processes (the `lookout node` entry point) against spawned
// nats-servers, and what cluster tests read from it: the cluster's own view (cluster.status,
// cluster.* events), the results it published (slots, seq: see slot-report.ts) and the target's
// per-check probe counts. Scenarios build one of these each through scenario.ts.

import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { phaseOf } from '../../protocol/hash';
import { slotAtOrAfter } from '../../protocol/slots';
import { client, Collector, OVERLOAD_OUT_OF_THE_WAY, request } from './lookout';
import type { NatsServer } from '../../testkit/nats-server';
import { GiveUp, waitFor } from './poll';
import { runLookout, type LookoutProcess, type SpawnOptions } from './processes';
import type { DeclaredLoss } from './slot-report';
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

  /** Start node `id`; `spawn.faketime` runs it with a shifted wall clock (processes.ts). */
  start(id: string, extraEnv: Record<string, string> = {}, spawn: SpawnOptions = {}): ClusterNode {
    const proc = runLookout(['node'], {
      NATS_URL: this.servers.map((s) => s.url).join(','),
      LOOKOUT_NODE_ID: id,
      LOOKOUT_TIMING: 'test',
      LOOKOUT_JITTER_MS: '0',
      LOOKOUT_SHUTDOWN_GRACE_MS: '1000',
      LOOKOUT_LOG_LEVEL: 'info',
      LOOKOUT_HTTP_PORT: '0',
      ...OVERLOAD_OUT_OF_THE_WAY,
      ...this.env,
      ...extraEnv,
    }, spawn);
    const node = { id, proc };
    this.nodes.set(id, node);
    this.allProcs.push(node);
    return node;
  }

  async status(): Promise<any> {
    return request(this.nc, 'lookout.cluster.status', '', 2000);
  }

  /** Wait until cluster.status shows exactly `ids` as alive members and an assignment over them. */
  /**
   * Wait until cluster.status shows exactly `ids` alive and an assignment over them — with an epoch
   * above `epochAbove` when given (a node that was cut off may answer with its stale map).
   */
  async settled(ids: string[], opts: { timeoutMs?: number; epochAbove?: number } = {}): Promise<any> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const want = [...ids].sort().join(',');
    return waitFor(
      `cluster settled on ${want}`,
      async () => {
        for (const id of ids) {
          const p = this.nodes.get(id)?.proc.proc;
          if (p && (p.exitCode !== null || p.signalCode !== null)) {
            throw new GiveUp(`${id} exited (${p.exitCode ?? p.signalCode}) while waiting for the cluster to settle; its last output: ${this.nodes.get(id)!.proc.output().slice(-600)}`);
          }
        }
        const st = await this.status();
        const alive = st.members.filter((m: any) => m.state === 'alive').map((m: any) => m.node).sort().join(',');
        const assigned = [...(st.assignment?.members ?? [])].sort().join(',');
        if (alive !== want || assigned !== want || (opts.epochAbove !== undefined && !(st.epoch > opts.epochAbove))) {
          throw new Error(`alive=[${alive}] assigned=[${assigned}] epoch=${st.epoch} (answered by ${st.answeredBy})`);
        }
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

  /** Results the nodes said they dropped (`publishes_dropped`: probes that spanned a pause) or may have lost with a dropped NATS link (`publishes_unconfirmed`), every life of every node. */
  droppedResults(): number {
    return this.declaredLosses().reduce((n, d) => n + d.results, 0);
  }

  /** Each `publishes_dropped` / `publishes_unconfirmed` line of every life of every node, for the slot report (slot-report.ts). */
  declaredLosses(): DeclaredLoss[] {
    const out: DeclaredLoss[] = [];
    for (const node of this.allProcs)
      for (const l of node.proc.logs())
        if ((l.event === 'publishes_dropped' || l.event === 'publishes_unconfirmed') && typeof l.results === 'number' && l.results > 0) out.push({ node: String(l.node), at: Date.parse(l.time), results: l.results });
    return out;
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

  /** On failure: write every node's log, and every message collected on lookout.>, to a temp dir; return its path. */
  dumpLogs(): string {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-cluster-logs-'));
    for (const n of this.allProcs) appendFileSync(join(dir, `${n.id}.log`), n.proc.output());
    if (this.events) appendFileSync(join(dir, 'events.jsonl'), this.events.messages.map((m) => JSON.stringify(m)).join('\n') + '\n');
    return dir;
  }
}

/**
 * Put `n` http checks `<prefix>-<i>` probing `<target>/c/<id>` every `intervalMs`. An `unavailable`
 * answer (the API's backlog, or the store timing out while a cluster forms on a loaded machine)
 * says nothing was changed: it is put again, as a client should, until accepted or refused otherwise.
 */
export async function putChecks(nc: NatsConnection, target: HttpTarget, prefix: string, n: number, intervalMs: number, extra: object = {}): Promise<string[]> {
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  await Promise.all(
    ids.map(async (id) => {
      const spec = { kind: 'http', target: `${target.url}/c/${id}`, intervalMs, timeoutMs: Math.min(500, intervalMs - 1), ...extra };
      const r = await waitFor(`put ${id} answered other than unavailable`, () => request(nc, `lookout.spec.put.${id}`, spec, 10_000), {
        timeoutMs: 90_000,
        intervalMs: 250,
        until: (a: any) => a.ok || a.error?.code !== 'unavailable',
      });
      if (!r.ok) throw new Error(`put ${id}: ${JSON.stringify(r)}`);
    }),
  );
  return ids;
}

/** Probes the target received for each check (its own log; only counted, never timed). */
export function hitCounts(target: HttpTarget, ids: readonly string[]): Map<string, number> {
  const out = new Map(ids.map((id) => [id, 0]));
  for (const r of target.requests) {
    const m = /^\/c\/([^/?]+)/.exec(r.url);
    const n = m ? out.get(m[1]!) : undefined;
    if (n !== undefined) out.set(m![1]!, n + 1);
  }
  return out;
}

/**
 * Slots no probe reached the target in, from the target's own log: for each check, every slot of
 * its grid (phaseOf, interval) that starts in [from, to − interval] and has no request in
 * [slot, slot + interval). Returns "<check>@<slot>" for each (wall-clock ms; one machine's clock).
 */
export function hitGaps(target: HttpTarget, ids: readonly string[], intervalMs: number, from: number, to: number): string[] {
  const hits = new Map(ids.map((id) => [id, [] as number[]]));
  for (const r of target.requests) {
    const m = /^\/c\/([^/?]+)/.exec(r.url);
    hits.get(m?.[1] ?? '')?.push(r.at);
  }
  const gaps: string[] = [];
  for (const id of ids) {
    const at = hits.get(id)!;
    for (let slot = slotAtOrAfter(from, phaseOf(id, intervalMs), intervalMs); slot + intervalMs <= to; slot += intervalMs) {
      if (!at.some((t) => t >= slot && t < slot + intervalMs)) gaps.push(`${id}@${slot}`);
    }
  }
  return gaps;
}

/**
 * Each check's probe count at the target against its published results: a probe in flight has
 * hit the target but not published yet, so the two are compared until each check has been seen
 * equal (or within `allowance(id)` more hits, e.g. 1 for a probe cut short by a SIGKILL) once.
 * A probe that ran without publishing, or a result without a probe, never gets there. A failure
 * confirmed from elsewhere (protocol/confirm.ts) cost another node's probe too: one more hit when it
 * disagreed (it saw the target healthy), perhaps one when it agreed or gave no view. `dropped`: the
 * results the nodes said they dropped (`publishes_dropped`: probes that spanned a pause) or may
 * have lost with a dropped link (`publishes_unconfirmed`) — as many extra hits, over all checks,
 * are explained.
 */
export async function awaitHitsMatchResults(target: HttpTarget, events: Collector, ids: readonly string[], allowance: (id: string) => number = () => 0, dropped: () => number = () => 0, timeoutMs = 60_000): Promise<void> {
  const matched = new Set<string>();
  await waitFor(
    'every check\'s probes at the target to match its published results',
    () => {
      const hits = hitCounts(target, ids);
      // An inconclusive result (the node's own stall ate the probe's time) may have reached the target or not.
      const results = new Map(ids.map((id) => [id, 0]));
      const maybe = new Map(ids.map((id) => [id, 0]));
      for (const r of events.results()) {
        if (!results.has(r.checkId)) continue;
        const into = r.reason === 'inconclusive' ? maybe : results;
        into.set(r.checkId, into.get(r.checkId)! + 1);
        if (r.confirmation?.by) {
          const byOther = r.confirmation.outcome === 'disagreed' ? results : maybe;
          byOther.set(r.checkId, byOther.get(r.checkId)! + 1);
        }
      }
      const off: string[] = [];
      // Hits beyond what each check explains, by check: the nodes' dropped results may explain them.
      const over: { id: string; by: number }[] = [];
      for (const id of ids) {
        if (matched.has(id)) continue;
        const extra = hits.get(id)! - results.get(id)!;
        const explained = maybe.get(id)! + allowance(id);
        if (extra >= 0 && extra <= explained) matched.add(id);
        else {
          if (extra > explained) over.push({ id, by: extra - explained });
          off.push(`${id}: ${hits.get(id)} probes, ${results.get(id)} results (+ ${maybe.get(id)} inconclusive)`);
        }
      }
      const budget = dropped();
      if (off.length && over.length === off.length && over.reduce((n, o) => n + o.by, 0) <= budget) {
        for (const o of over) matched.add(o.id);
        return true;
      }
      if (off.length) throw new Error(`${off.length} check(s) differ: ${off.slice(0, 5).join('; ')}${budget ? ` (the nodes dropped ${budget} result(s) in all)` : ''}`);
      return true;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/** Which node's results a check's latest result came from. */
export function ownerOf(events: Collector, id: string): string | undefined {
  const r = events.results(id);
  return r[r.length - 1]?.node;
}

export { slotReportFromResults, type SlotReport } from './slot-report';
