// The chaos harness: one scenario's own world of real processes — nats-server(s) (one, or a routed
// cluster of three), `lookout node` processes (node.ts: optionally with a skewed wall clock, or
// behind a TCP proxy that can freeze or cut its NATS link), the hit-logging target (target.ts) and
// a subscriber recording every result and status message — plus the faults a scenario injects
// (faults.ts) and, at the end, the input of the invariant checker (invariants.ts). Waiting is
// polling with a deadline; the only fixed waits are the fault durations and observation periods a
// scenario asks for.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TIMING_PROFILES } from '../../runtime/config';
import { jetStreamReady, startNatsCluster, startNatsServer, type NatsServer } from '../nats-server';
import { startTcpProxy, type TcpProxy } from '../tcp-proxy';
import { sleep, waitFor } from '../wait';
import { checkInvariants, crashGapBound, type ChaosRow, type LogEvent, type ResultRecord, type StatusRecord } from './invariants';
import { startNodeProcess, type NodeLife } from './node';
import { startHitTarget, type HitTarget } from './target';

export type TimingProfile = keyof typeof TIMING_PROFILES;

export interface HarnessOptions {
  scenario: string;
  timing: TimingProfile;
  natsServers: 1 | 3;
  checks: number;
  intervalMs: number;
  /** 'crash': gaps up to interval + 5 s; 'planned': one interval (+ jitter bound). */
  move: 'crash' | 'planned';
  /** Extra environment for every node. */
  env?: Record<string, string>;
  /** Timers that differ from the profile's (every node gets them as LOOKOUT_* settings; the harness's waits use them too). */
  timers?: Partial<Timers>;
}

/** A profile's timers, in ms. */
export type Timers = { [K in keyof (typeof TIMING_PROFILES)[TimingProfile]]: number };

/** `leaseMs` → `LOOKOUT_LEASE_MS`: a timer's setting name (runtime/config.ts). */
const timerEnv = (name: string) => `LOOKOUT_${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;

export interface StartOptions {
  /** Wall-clock offset under libfaketime, e.g. "-30s". */
  skew?: string;
  /** Connect through a TCP proxy of its own (single NATS server only) that faults can freeze or cut. */
  viaProxy?: boolean;
}

/** Jitter at its maximum: LOOKOUT_JITTER_MS far above the cap, so every start gets up to 1% of the interval. */
const MAX_JITTER_MS = 10_000;
const PREFIX = 'lookout';

/** How long the end of a scenario waits for the spec list (JetStream back after a server's loss). */
const SPEC_LIST_WAIT_MS = 45_000;

export class ChaosHarness {
  readonly runDir: string;
  readonly servers: NatsServer[] = [];
  target!: HitTarget;
  nc!: NatsConnection;
  readonly lives: NodeLife[] = [];
  readonly proxies = new Map<string, TcpProxy>();
  readonly results: ResultRecord[] = [];
  readonly statuses: StatusRecord[] = [];
  readonly events: LogEvent[] = [];
  readonly notes: string[] = [];
  ids: string[] = [];
  windowFrom = 0;
  readonly timers: Timers;

  constructor(readonly opts: HarnessOptions) {
    this.runDir = mkdtempSync(join(tmpdir(), `lookout-chaos-${opts.scenario}-`));
    this.timers = { ...TIMING_PROFILES[opts.timing], ...opts.timers };
  }

  /** Start NATS, the target and the subscriber. */
  async open(): Promise<void> {
    const n = this.opts.natsServers;
    this.servers.push(...(n === 1 ? [await startNatsServer()] : await startNatsCluster(n)));
    if (n > 1) await jetStreamReady(this.servers[0]!, n);
    this.target = await startHitTarget();
    this.nc = await connect({ servers: this.servers.map((s) => s.url), name: 'chaos-recorder', maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    this.record(`${PREFIX}.result.>`, this.results);
    this.record(`${PREFIX}.status.>`, this.statuses);
  }

  /** Keep every JSON message on `subject`, stamped with its receipt on this process's monotonic clock. */
  private record<T>(subject: string, into: T[]): void {
    this.nc.subscribe(subject, {
      callback: (err, m) => {
        if (err) return;
        try {
          into.push({ ...(m.json() as T), t: performance.now() });
        } catch {
          // not JSON: not a message of the contract
        }
      },
    });
  }

  get natsUrl(): string {
    return this.servers.map((s) => s.url).join(',');
  }

  /** Start (or restart) node `id`. */
  async start(id: string, o: StartOptions = {}): Promise<NodeLife> {
    let url = this.natsUrl;
    if (o.viaProxy) {
      if (this.servers.length !== 1) throw new Error('a proxied link needs a single NATS server (a cluster would tell the node the other servers)');
      let proxy = this.proxies.get(id);
      if (!proxy) this.proxies.set(id, (proxy = await startTcpProxy(this.servers[0]!.port)));
      url = proxy.url;
    }
    const life = this.lives.filter((l) => l.id === id).length + 1;
    const node = startNodeProcess({
      id,
      life,
      natsUrl: url,
      logFile: join(this.runDir, `${id}.${life}.log`),
      onEvent: (e) => this.events.push(e),
      ...(o.skew ? { skew: o.skew } : {}),
      env: {
        LOOKOUT_TIMING: this.opts.timing,
        LOOKOUT_JITTER_MS: String(MAX_JITTER_MS),
        LOOKOUT_SHUTDOWN_GRACE_MS: '1000',
        ...(this.opts.natsServers > 1 ? { LOOKOUT_KV_REPLICAS: String(this.opts.natsServers) } : {}),
        ...Object.fromEntries(Object.entries(this.opts.timers ?? {}).map(([k, v]) => [timerEnv(k), String(v)])),
        ...this.opts.env,
      },
    });
    this.lives.push(node);
    return node;
  }

  /** The running life of `id`. */
  node(id: string): NodeLife {
    const l = this.lives.filter((x) => x.id === id && x.alive()).at(-1);
    if (!l) throw new Error(`node ${id} is not running`);
    return l;
  }

  liveIds(): string[] {
    return [...new Set(this.lives.filter((l) => l.alive()).map((l) => l.id))];
  }

  async status(): Promise<any> {
    const m = await this.nc.request(`${PREFIX}.cluster.status`, '', { timeout: 2000 });
    return m.json();
  }

  /** The leader's node id, as the cluster reports it. */
  async leader(): Promise<string> {
    return waitFor('a leader', async () => (await this.status()).leader?.node as string | undefined, 30_000, 100);
  }

  /** Wait until cluster.status shows exactly `ids` alive and assigned. A cluster that does not settle is noted, not thrown. */
  async settled(ids: string[], timeoutMs = this.settleTimeoutMs()): Promise<boolean> {
    const want = [...ids].sort().join(',');
    try {
      await waitFor(
        `cluster settled on ${want}`,
        async () => {
          const st = await this.status();
          const alive = st.members.filter((m: any) => m.state === 'alive').map((m: any) => m.node).sort().join(',');
          const assigned = [...(st.assignment?.members ?? [])].sort().join(',');
          if (alive !== want || assigned !== want) throw new Error(`alive=[${alive}] assigned=[${assigned}] epoch=${st.epoch} (answered by ${st.answeredBy})`);
          return true;
        },
        timeoutMs,
        100,
      );
      return true;
    } catch (err) {
      this.note(`not settled: ${(err as Error).message}`);
      return false;
    }
  }

  settleTimeoutMs(): number {
    return Math.max(30_000, 4 * (this.timers.leaseMs + this.timers.deadAfterMs));
  }

  /** Put the checks (every put acknowledged) and wait until each is probed steadily. */
  async putChecks(): Promise<void> {
    const { checks, intervalMs } = this.opts;
    this.ids = Array.from({ length: checks }, (_, i) => `chaos-${i}`);
    for (let i = 0; i < this.ids.length; i += 50) {
      await Promise.all(
        this.ids.slice(i, i + 50).map(async (id) => {
          const spec = { kind: 'http', target: `${this.target.url}/c/${id}`, intervalMs, timeoutMs: Math.min(1000, intervalMs / 2) };
          // `unavailable` says nothing was changed (a store timeout while the cluster forms on a loaded machine): put again.
          const put = async () => (await this.nc.request(`${PREFIX}.spec.put.${id}`, JSON.stringify(spec), { timeout: 10_000 })).json<any>();
          const r = await waitFor(`put ${id} answered other than unavailable`, put, 90_000, 250, (a: any) => a.ok || a.error?.code !== 'unavailable');
          if (!r.ok) throw new Error(`put ${id}: ${JSON.stringify(r)}`);
        }),
      );
    }
    await this.awaitSteady();
  }

  /** Put the checks, wait until each is probed, then two intervals more: the window opens on a steady cluster. */
  async putChecksAndSettle(): Promise<void> {
    await this.putChecks();
    await this.observe(2 * this.opts.intervalMs);
  }

  /** Wait until every check was hit within the last interval and a half. */
  async awaitSteady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      'every check probed within the last interval',
      () => {
        const seen = this.target.hitSince(performance.now() - 1.5 * this.opts.intervalMs);
        const missing = this.ids.filter((id) => !seen.has(id));
        if (missing.length) throw new Error(`${missing.length} check(s) not probed lately, e.g. ${missing.slice(0, 3).join(', ')}`);
        return true;
      },
      timeoutMs,
      100,
    );
  }

  /** Open the measured window now (a gap open at this instant is measured from the hit before it). */
  openWindow(): void {
    this.windowFrom = performance.now();
  }

  /** Let the cluster run for `ms` (an observation period or a fault's duration: time is the point). */
  observe(ms: number): Promise<void> {
    return sleep(ms);
  }

  /** Observe long enough after the last fault that a check left unprobed beyond the bound shows. */
  async tail(): Promise<void> {
    await this.observe((this.opts.move === 'crash' ? crashGapBound(this.opts.intervalMs) : this.opts.intervalMs) + 2 * this.opts.intervalMs);
  }

  note(text: string): void {
    this.notes.push(`${this.opts.scenario}: ${text}`);
  }

  /** Every id the cluster lists (paged); null when listing fails. */
  async listSpecs(): Promise<string[] | null> {
    try {
      const ids: string[] = [];
      let after: string | null = null;
      do {
        const m = await this.nc.request(`${PREFIX}.spec.list`, JSON.stringify(after ? { after, limit: 1000 } : { limit: 1000 }), { timeout: 5000 });
        const r = m.json<any>();
        if (!r.ok) throw new Error(JSON.stringify(r));
        ids.push(...r.ids);
        after = r.next ?? null;
      } while (after);
      return ids;
    } catch (err) {
      this.note(`spec list failed: ${(err as Error).message}`);
      return null;
    }
  }

  /** Close the window, read the spec list, and decide the row. */
  async finish(): Promise<ChaosRow> {
    const to = performance.now();
    // After a NATS server's loss the spec bucket's stream may still be electing its leader: listing
    // its keys (an ordered consumer) timed out for over 15 s once in a CI run (2026-12-02) while
    // a new leader's own key listing timed out too. A spec is lost only if it cannot be listed
    // once JetStream is back, so wait that long (each failed attempt is noted in the row's notes).
    const specsAtEnd = await waitFor('the spec list', () => this.listSpecs(), SPEC_LIST_WAIT_MS, 500).catch(() => null);
    this.dump({ window: { from: this.windowFrom, to }, wallAtZero: performance.timeOrigin, ids: this.ids, specsAtEnd, notes: this.notes });
    return checkInvariants({
      scenario: this.opts.scenario,
      profile: this.opts.timing,
      intervalMs: this.opts.intervalMs,
      checks: this.ids,
      window: { from: this.windowFrom, to },
      wallAtZero: performance.timeOrigin,
      move: this.opts.move,
      gapBoundMs: crashGapBound(this.opts.intervalMs),
      hits: this.target.hits,
      results: this.results,
      statuses: this.statuses,
      events: this.events,
      specsAtEnd,
      duplicateRunsMetric: this.lives.reduce((n, l) => n + l.duplicateRuns, 0),
    });
  }

  /** Keep what the checker read next to the node logs: hits, results, statuses, events (JSON lines). */
  private dump(meta: object): void {
    const lines = (xs: readonly object[]) => xs.map((x) => JSON.stringify(x)).join('\n') + '\n';
    writeFileSync(join(this.runDir, 'meta.json'), JSON.stringify(meta, null, 1));
    writeFileSync(join(this.runDir, 'hits.jsonl'), lines(this.target.hits));
    writeFileSync(join(this.runDir, 'results.jsonl'), lines(this.results));
    writeFileSync(join(this.runDir, 'statuses.jsonl'), lines(this.statuses));
    writeFileSync(join(this.runDir, 'events.jsonl'), lines(this.events));
  }

  /** Stop every process (SIGCONT first: a paused one cannot die), the proxies, the target, NATS. */
  async close(): Promise<void> {
    for (const l of this.lives) {
      l.stopScraping();
      l.signal('SIGCONT');
      l.signal('SIGKILL');
    }
    await Promise.all(this.lives.map((l) => l.exited));
    for (const p of this.proxies.values()) await p.close().catch(() => {});
    await this.nc?.close().catch(() => {});
    await this.target?.close().catch(() => {});
    for (const s of this.servers) await s.cleanup().catch(() => {});
  }
}
