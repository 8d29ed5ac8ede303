// One fixture per cluster scenario: its own nats-server(s), HTTP target and `lookout node`
// processes, built by startScenario and torn down after the test — scenarios share this setup
// code, never a cluster, so they run in any order and one failure does not cascade.
//
// scenarioTest(name, options, body) is the rule for failures: when the body (or the setup)
// throws, the error message gets the node logs' path (LookoutCluster.dumpLogs: every node's log
// and every collected message) and the last results of the offending checks — those a slot
// report flagged or a wait gave up on (`suspects`). A test stopped by Jest's timeout gets the
// same report from the afterEach this module registers in every file that imports it.

import { phaseOf } from '../../protocol/hash';
import { LookoutCluster, putChecks } from './cluster';
import { jetStreamReady, startNatsCluster, startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from './poll';
import type { SpawnOptions } from './processes';
import { clockTime, lastEvents, slotReportFromResults, type SlotReport, type SlotReportOptions, type SlotWindow } from './slot-report';
import { startHttpTarget, type HttpTarget } from './targets';

export interface ScenarioOptions {
  /** Nodes started together, then awaited until cluster.status shows them all alive and assigned. */
  nodes: string[];
  /** HTTP checks `<prefix>-<i>` put once the nodes have settled (default 0). */
  checks?: number;
  prefix?: string;
  /** Check interval (default 1000 ms). */
  intervalMs?: number;
  /** Environment for every node (on top of the cluster helper's test settings). */
  env?: Record<string, string>;
  /** A routed cluster of this many nats-servers (default 1: a single server). */
  natsServers?: number;
  /** How to spawn particular nodes, by id (e.g. `{ c: { faketime: '-30s' } }`). */
  spawn?: Record<string, SpawnOptions>;
}

export class Scenario {
  readonly servers: NatsServer[] = [];
  target!: HttpTarget;
  cluster!: LookoutCluster;
  ids: string[] = [];
  /** Slot from which every check put so far has a result (see addChecks). */
  runningFrom = 0;
  readonly intervalMs: number;
  /** Checks to show in a failure report (flagged by a slot report, or a wait that gave up). */
  readonly suspects = new Set<string>();
  passed = false;
  reported = false;
  private readonly cleanups: (() => unknown)[] = [];

  constructor(readonly opts: ScenarioOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
  }

  get server(): NatsServer {
    return this.servers[0]!;
  }

  get events() {
    return this.cluster.events;
  }

  /** Sum of a counter's samples on node `id`'s /metrics (0 when the node does not export it). */
  async counter(id: string, name: string): Promise<number> {
    const port = this.cluster.logs(id).find((l) => l.event === 'http_listening')?.port;
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    let n = 0;
    for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) n += Number(line.slice(line.lastIndexOf(' ') + 1));
    return n;
  }

  /** Run `fn` when the scenario is torn down (before the cluster stops). */
  onCleanup(fn: () => unknown): void {
    this.cleanups.push(fn);
  }

  /**
   * Put `n` checks and wait until each has published a result; returns their ids. `runningFrom`
   * becomes the latest first slot among them: slot windows must not open before it.
   */
  async addChecks(prefix: string, n: number, extra: object = {}): Promise<string[]> {
    const ids = await putChecks(this.cluster.nc, this.target, prefix, n, this.intervalMs, extra);
    await this.awaitResults('a first result of every check', ids, () => true);
    this.runningFrom = Math.max(this.runningFrom, ...ids.map((id) => this.events.results(id)[0].slot));
    return ids;
  }


  /**
   * Wait until every check has published a result that `pred` accepts. On timeout the error
   * lists the checks still waiting with their last result, and they become suspects.
   */
  async awaitResults(what: string, ids: readonly string[], pred: (r: any) => boolean, timeoutMs = 60_000): Promise<void> {
    let lacking: string[] = [];
    try {
      await waitFor(
        what,
        () => {
          lacking = ids.filter((id) => !this.events.results(id).some(pred));
          if (lacking.length === 0) return true;
          const last = (id: string) => {
            const r = this.events.results(id).at(-1);
            return r ? `${id} (last: ${r.node} slot ${clockTime(r.slot)} e${r.epoch}:${r.seq})` : `${id} (no result)`;
          };
          throw new Error(`${lacking.length} of ${ids.length} check(s) not yet: ${lacking.slice(0, 4).map(last).join(', ')}`);
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (err) {
      for (const id of lacking.slice(0, 3)) this.suspects.add(id);
      throw err;
    }
  }

  /**
   * Wait until every check (and each of its `vantages`) has published a result for a slot at or
   * after `slot` + one interval, so every result of the slots before `slot` is in, even one
   * published late by a previous owner.
   */
  async awaitSlot(ids: readonly string[], slot: number, vantages = 1, timeoutMs = 60_000): Promise<void> {
    const after = slot + this.intervalMs;
    await this.awaitResults(`results for slots from ${clockTime(after)} on`, ids, (r) => r.slot >= after && (vantages === 1 || this.hasAllVantages(r.checkId, after, vantages)), timeoutMs);
  }

  private hasAllVantages(id: string, after: number, vantages: number): boolean {
    const seen = new Set(this.events.results(id).filter((r) => r.slot >= after).map((r) => r.vantage));
    return seen.size >= vantages;
  }

  /** The slot report of `ids` over `window` (see slot-report.ts); offenders become suspects. */
  slots(ids: readonly string[], window: SlotWindow = {}, opts: SlotReportOptions = {}): SlotReport {
    const report = slotReportFromResults(this.events, ids, this.intervalMs, window, { phaseOf, declaredLost: this.cluster?.declaredLosses() ?? [], ...opts });
    for (const id of report.offenders.slice(0, 3)) this.suspects.add(id);
    return report;
  }

  /** From now on for `intervals` intervals: every slot of `ids` once, seq by one (waits for the results). */
  async expectCleanFromNow(ids: readonly string[], intervals = 3): Promise<void> {
    const from = Date.now();
    const to = from + intervals * this.intervalMs;
    await this.awaitSlot(ids, to);
    const r = this.slots(ids, { from, to });
    expect({ duplicates: r.duplicates, gaps: r.gaps, seqBreaks: r.seqBreaks }).toEqual({ duplicates: [], gaps: [], seqBreaks: [] });
  }

  /** What a failure message should carry: where the logs are, and the suspects' last results. */
  failureReport(): string {
    const lines = [`node logs and collected messages: ${this.cluster ? this.cluster.dumpLogs() : '(cluster not started)'}`];
    if (this.cluster?.events && this.suspects.size) lines.push(lastEvents(this.events, [...this.suspects]));
    if (this.cluster?.events) lines.push(`last cluster events: ${this.events.of('lookout.cluster.').slice(-6).map((e) => JSON.stringify(e)).join('\n  ')}`);
    return lines.join('\n');
  }

  async stop(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) await Promise.resolve(fn()).catch(() => {});
    await this.cluster?.stopAll().catch(() => {});
    await this.target?.close().catch(() => {});
    for (const s of this.servers) await s.cleanup().catch(() => {});
  }
}

const live: Scenario[] = [];

/** Start a scenario's own NATS, target and nodes; with `checks`, put them and await a result of each. */
export async function startScenario(opts: ScenarioOptions): Promise<Scenario> {
  const s = new Scenario(opts);
  live.push(s);
  const n = opts.natsServers ?? 1;
  s.servers.push(...(n === 1 ? [await startNatsServer()] : await startNatsCluster(n)));
  if (n > 1) await jetStreamReady(s.server, n);
  s.target = await startHttpTarget();
  s.cluster = new LookoutCluster(s.servers, { LOOKOUT_TIMING: 'test', ...(opts.env ?? {}) });
  await s.cluster.connect();
  for (const id of opts.nodes) s.cluster.start(id, {}, opts.spawn?.[id]);
  await s.cluster.settled(opts.nodes);
  if (opts.checks) s.ids = await s.addChecks(opts.prefix ?? 'chk', opts.checks);
  return s;
}

/**
 * A test with its own scenario. A hang guard of 4 minutes by default: a scenario takes 10–40 s
 * on a quiet 2-core machine and several times that when the machine is loaded.
 */
export function scenarioTest(name: string, opts: ScenarioOptions, body: (s: Scenario) => Promise<void>, timeoutMs = 240_000): void {
  test(
    name,
    async () => {
      let s: Scenario | undefined;
      try {
        s = await startScenario(opts);
        await body(s);
        s.passed = true;
      } catch (err) {
        s ??= live.at(-1);
        if (s && !s.reported) {
          s.reported = true;
          const e = err instanceof Error ? err : new Error(String(err));
          e.message = `${e.message}\n\n${s.failureReport()}`;
          throw e;
        }
        throw err;
      }
    },
    timeoutMs,
  );
}

afterEach(async () => {
  for (const s of live.splice(0)) {
    if (!s.passed && !s.reported) {
      s.reported = true;
      console.error(`scenario did not finish (hang guard?):\n${s.failureReport()}`);
    }
    await s.stop();
  }
});
