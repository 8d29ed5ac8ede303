// The NATS connection: built from config (URL, credentials, TLS the way the `nats` CLI takes
// them), retries forever (first connect included), and logs every connection state change and
// why each failing server fails (a wrong CA, refused credentials, nothing listening), rate-limited.

import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { connect, credsAuthenticator, nkeyAuthenticator, type NatsConnection, type NodeConnectionOptions } from '@nats-io/transport-node';
import type { Config } from './config';
import type { Logger } from './logger';
import { watchNatsLink } from './link-watch';
import { describeNatsFailure, FailureLog, NATS_FAILURE_LOG_EVERY_MS, type NatsFailure } from './nats-failure';

/** Connection state as an operator reads it (also exported as a metric). */
export const ConnState = { connected: 'connected', disconnected: 'disconnected', reconnecting: 'reconnecting', closed: 'closed' } as const;
export type ConnState = (typeof ConnState)[keyof typeof ConnState];

/**
 * Milliseconds between connection attempts (first connect and reconnects alike). Half a second: a
 * restarted server or a cluster failover is found about as fast as the failure detector notices
 * silence (production heartbeat 500 ms), while a node that cannot connect costs each server two
 * attempts a second; what the node logs about it is rate-limited apart (nats-failure.ts).
 */
export const NATS_RETRY_MS = 500;

/**
 * How often a client command pings its server (a node pings every LOOKOUT_NATS_PING_MS, faster).
 * NATS_MAX_PING_OUT pings without an answer mark the connection stale and it reconnects: a dead TCP
 * connection that reports no error is found within ~(NATS_MAX_PING_OUT + 1) pings.
 */
export const NATS_PING_MS = 10_000;

/** Pings without an answer before the connection counts as dead (nats.js maxPingOut). */
export const NATS_MAX_PING_OUT = 2;

/**
 * The bulk link's PING interval (bulkConnection; NATS_MAX_PING_OUT unanswered make it stale): a
 * PING waits behind the link's queued requests, and the node's NATS_PING_MS would drop a link that
 * is only busy (8 queued creates at 2–4 s) and fail every load on it.
 */
export const BULK_PING_MS = 60_000;

/**
 * A node's link is watched every LOOKOUT_NATS_PING_MS by runtime/link-watch.ts (anything heard from
 * the server counts as life, judged after the node read its socket); nats.js's own pinging stays
 * on as a backstop this many times slower, for a server that delivers but no longer answers PINGs.
 */
export const NATS_BACKSTOP_PING_FACTOR = 10;

/** nats.js's own ping period on a node's connection whose link is watched every `pingMs`. */
export function backstopPingMs(pingMs: number): number {
  return Math.max(NATS_PING_MS, pingMs * NATS_BACKSTOP_PING_FACTOR);
}

/** The longest a connection that stopped answering goes unnoticed, pinging every `pingMs`. */
export function staleDetectMs(pingMs: number): number {
  return pingMs * (NATS_MAX_PING_OUT + 1);
}

export type NatsAuthConfig = Pick<Config, 'natsUrl' | 'natsCreds' | 'natsUser' | 'natsPassword' | 'natsToken' | 'natsNkey' | 'natsCa' | 'natsCert' | 'natsKey'>;

export function connectionOptions(cfg: NatsAuthConfig, name: string): NodeConnectionOptions {
  const opts: NodeConnectionOptions = {
    servers: cfg.natsUrl.split(','),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: NATS_RETRY_MS,
    waitOnFirstConnect: true,
    pingInterval: NATS_PING_MS,
    maxPingOut: NATS_MAX_PING_OUT,
    // nats.js builds an Error (a stack captured) at every request and every request timer, to name
    // the caller if it fails; a node starting 100k checks makes ~86k resume lookups (direct gets),
    // and those Errors were ~23% of the start's long tasks (BENCHMARKS.md §2). Our own errors say
    // what failed.
    noAsyncTraces: true,
  };
  if (cfg.natsCreds) opts.authenticator = credsAuthenticator(readFileSync(cfg.natsCreds));
  else if (cfg.natsNkey) opts.authenticator = nkeyAuthenticator(new TextEncoder().encode(readFileSync(cfg.natsNkey, 'utf8').trim()));
  if (cfg.natsUser) {
    opts.user = cfg.natsUser;
    opts.pass = cfg.natsPassword;
  }
  if (cfg.natsToken) opts.token = cfg.natsToken;
  if (cfg.natsCa || cfg.natsCert || cfg.natsKey) {
    opts.tls = {
      ...(cfg.natsCa ? { caFile: cfg.natsCa } : {}),
      ...(cfg.natsCert ? { certFile: cfg.natsCert } : {}),
      ...(cfg.natsKey ? { keyFile: cfg.natsKey } : {}),
    };
  }
  return opts;
}

/**
 * While connecting fails and nats.js cannot say why (a reconnect, or several servers), each
 * server is tried once on its own at most this often to learn the reason: one extra connection
 * attempt per server every 5 s, against one attempt every NATS_RETRY_MS by nats.js itself.
 */
export const NATS_DIAGNOSE_EVERY_MS = 5_000;

/** The two log lines that say why servers fail: the first connect, and reconnects. */
type FailureLine = { event: string; msg: string };
const CONNECT_FAILED: FailureLine = { event: 'nats_connect_failed', msg: 'NATS connect failed' };
const RECONNECT_FAILING: FailureLine = { event: 'nats_reconnect_failing', msg: 'NATS reconnect failing' };

/**
 * Logs why servers fail, at most once per NATS_FAILURE_LOG_EVERY_MS per server and reason (a
 * new reason at once). With one server the failed attempt's own error says why; with several,
 * nats.js reports only the last one tried, and on reconnects nothing, so each server is tried
 * once on its own (a throwaway connection, closed at once if it succeeds), at most every
 * NATS_DIAGNOSE_EVERY_MS.
 */
class FailureReporter {
  private readonly failures = new FailureLog(NATS_FAILURE_LOG_EVERY_MS);
  private lastDiagnosis = Number.NEGATIVE_INFINITY;
  private diagnosing = false;

  constructor(
    private readonly cfg: NatsAuthConfig,
    private readonly opts: NodeConnectionOptions,
    private readonly log: Logger,
  ) {}

  get servers(): string[] {
    return this.opts.servers as string[];
  }

  /** A first-connect attempt over all servers failed with `err`. */
  connectFailed(err: unknown): void {
    if (this.servers.length === 1) this.report('error', CONNECT_FAILED, this.servers[0]!, describeNatsFailure(err, this.cfg));
    else this.diagnose('error', CONNECT_FAILED);
  }

  /** A reconnect attempt failed (nats.js does not say why: ask each server). */
  reconnectFailing(): void {
    this.diagnose('warn', RECONNECT_FAILING);
  }

  connected(): void {
    this.failures.clear();
    this.lastDiagnosis = Number.NEGATIVE_INFINITY;
  }

  private report(level: 'error' | 'warn', line: FailureLine, server: string, f: NatsFailure): void {
    const d = this.failures.record(`${server} ${f.reason}`, Date.now());
    if (!d.log) return;
    this.log[level]({ event: line.event, server, reason: f.reason, code: f.code, error: f.error, hint: f.hint, failures: d.failures, retryMs: NATS_RETRY_MS }, line.msg);
  }

  private diagnose(level: 'error' | 'warn', line: FailureLine): void {
    const now = Date.now();
    if (this.diagnosing || now - this.lastDiagnosis < NATS_DIAGNOSE_EVERY_MS) return;
    this.diagnosing = true;
    this.lastDiagnosis = now;
    void Promise.all(
      this.servers.map(async (server) => {
        const f = await probeServer(this.opts, server, this.cfg);
        if (f) this.report(level, line, server, f);
      }),
    ).finally(() => (this.diagnosing = false));
  }
}

/** Try one server once, without retries; null if it accepted the connection. */
export async function probeServer(opts: NodeConnectionOptions, server: string, tls: NatsAuthConfig): Promise<NatsFailure | null> {
  try {
    const nc = await connect({ ...opts, servers: [server], name: `${opts.name ?? 'lookout'}-probe`, reconnect: false, waitOnFirstConnect: false, maxReconnectAttempts: 0 });
    await nc.close();
    return null;
  } catch (err) {
    return describeNatsFailure(err, tls);
  }
}

/**
 * A node's inbox prefix (replies to its JetStream requests, its KV watch deliveries: every spec,
 * the lease, the map): `_INBOX_<prefix with . and - as _>`, e.g. `_INBOX_lookout`. Kept out of
 * `_INBOX.>`, which admins and readers subscribe to for their own replies, so they cannot overhear
 * a node's (examples/nats/: the node role subscribes to `_INBOX_lookout.>` only).
 */
export function nodeInboxPrefix(prefix: string): string {
  return `_INBOX_${prefix.replace(/[.-]/g, '_')}`;
}

/**
 * The node's bulk link (runtime/bulk-link.ts): a second connection for the JetStream requests the
 * server needs long for. nats-server 2.9 works through one client's messages in order, and a
 * JetStream request it needs long for holds everything that client sent after it: a look for
 * legacy spec keys (a consumer on a filter over a 1M-key bucket's subjects) held the same
 * connection's other requests 497–923 ms on a quiet server, and 4–5 ms when it went out on a
 * connection of its own (bench/legacy-check.ts); a shard's load held the loading connection's PING
 * 634 ms and another connection's 11 ms (bench/gained-shard.ts, BENCHMARKS.md §16). It reconnects
 * as the node's own does, but its first connect is tried once (a load that finds no link fails and
 * is retried), and it pings every BULK_PING_MS (its PINGs wait behind its queued requests). Same
 * credentials and inbox prefix as the node's own connection (the node role's permissions allow both).
 */
export async function bulkConnection(cfg: NatsAuthConfig, name: string, inboxPrefix: string): Promise<NatsConnection> {
  return connect({ ...connectionOptions(cfg, name), inboxPrefix, waitOnFirstConnect: false, pingInterval: BULK_PING_MS });
}

export interface ConnectOptions {
  /** Inbox prefix for replies to this connection's requests (default nats.js's `_INBOX`). */
  inboxPrefix?: string;
  /**
   * Watch the link every `pingMs` (runtime/link-watch.ts) and keep nats.js's own pinging as the
   * slower backstop (backstopPingMs); without it, nats.js pings every NATS_PING_MS alone.
   */
  pingMs?: number;
  /** Called when the link is found dead (by the watch or the backstop); a disconnect follows. */
  onStale?: () => void;
}

/**
 * Connect (retrying every NATS_RETRY_MS until a server accepts) and log connection state;
 * `onState` hears every change (for metrics / readiness). nats.js's own waitOnFirstConnect would
 * retry silently — a wrong CA looked like a hang — so each attempt here tries every server once
 * and a failure is logged with its reason ("NATS connect failed"). After the first connect,
 * nats.js reconnects by itself; while it fails, "NATS reconnect failing" says why.
 */
export async function connectNats(
  cfg: NatsAuthConfig,
  name: string,
  log: Logger,
  onState: (s: ConnState) => void = () => {},
  extra: ConnectOptions = {},
): Promise<NatsConnection> {
  const opts = { ...connectionOptions(cfg, name), ...(extra.inboxPrefix ? { inboxPrefix: extra.inboxPrefix } : {}), ...(extra.pingMs ? { pingInterval: backstopPingMs(extra.pingMs) } : {}) };
  const reporter = new FailureReporter(cfg, opts, log);
  log.info({ event: 'nats_connecting', servers: cfg.natsUrl }, 'connecting to NATS');
  let nc: NatsConnection;
  for (;;) {
    try {
      // A server that fails during a successful attempt drops out of nats.js's pool; a NATS
      // cluster gossips it back (INFO connect_urls) once it is up again.
      nc = await connect({ ...opts, waitOnFirstConnect: false });
      break;
    } catch (err) {
      reporter.connectFailed(err);
      await delay(NATS_RETRY_MS);
    }
  }
  reporter.connected();
  log.info({ event: 'nats_connected', server: nc.getServer() }, 'NATS connected');
  onState(ConnState.connected);
  let up = true;
  const watch = extra.pingMs ? watchNatsLink(nc, { pingMs: extra.pingMs, maxSilentTicks: NATS_MAX_PING_OUT }, () => up, log, () => extra.onStale?.()) : null;
  void (async () => {
    let attemptsSinceDisconnect = 0;
    for await (const s of nc.status()) {
      switch (s.type) {
        case 'disconnect':
          up = false;
          attemptsSinceDisconnect = 0;
          log.warn({ event: 'nats_disconnected', server: s.server }, 'NATS disconnected');
          onState(ConnState.disconnected);
          break;
        case 'reconnecting':
          // Sent before every attempt: from the second one on, the previous attempt failed.
          if (++attemptsSinceDisconnect > 1) reporter.reconnectFailing();
          onState(ConnState.reconnecting);
          break;
        case 'reconnect':
          up = true;
          reporter.connected();
          log.info({ event: 'nats_reconnected', server: s.server }, 'NATS reconnected');
          onState(ConnState.connected);
          break;
        case 'error':
          log.error({ event: 'nats_error', err: s.error }, 'NATS error');
          break;
        case 'ldm':
          log.warn({ event: 'nats_lame_duck', server: s.server }, 'NATS server entering lame duck mode');
          break;
        case 'staleConnection':
          log.warn({ event: 'nats_stale_connection', by: 'nats.js' }, 'NATS connection stale: pings unanswered');
          extra.onStale?.();
          break;
        case 'slowConsumer':
          log.warn({ event: 'nats_slow_consumer', subject: s.sub.getSubject(), pending: s.pending }, 'NATS slow consumer');
          break;
        default:
          break;
      }
    }
  })();
  void nc.closed().then((err) => {
    watch?.stop();
    if (err) log.error({ event: 'nats_closed', err }, 'NATS connection closed with error');
    else log.info({ event: 'nats_closed' }, 'NATS connection closed');
    onState(ConnState.closed);
  });
  return nc;
}
