// The kept-alive connections of HTTP checks with `reuseConnection`: one undici Client per (check,
// origin, TLS profile), kept between probes. A node creates one pool (app/start-node.ts), hands it
// to every probe in its ProbeEnv, releases a check's clients when the check is deleted and closes
// the pool at shutdown. Probes without `reuseConnection` never come here: they open a fresh
// connection each time (checks/http-probe.ts clientFor).
import { Client } from 'undici';
import { undiciConnector, type ConnectContext, type TlsProfile } from './connector';
import type { NormalizedSpec } from './spec';

/** undici's own timers are off: the Deadline covers headers and body, and theirs have ~1 s resolution. */
export const UNDICI_TIMERS_OFF = { headersTimeout: 0, bodyTimeout: 0 } as const;

const noop = (): void => {};

interface PooledClient {
  checkId: string;
  client: Client;
  /** The running probe's context; a reconnect reports into it. */
  context: ConnectContext;
}

export class HttpClientPool {
  private readonly entries = new Map<string, PooledClient>();

  /**
   * The check's Client for `origin` with `profile`, made on first use (or when the last one was
   * destroyed or closed). `context` is the running probe's: the connector reports into it.
   */
  client(spec: NormalizedSpec, origin: string, profile: TlsProfile, context: ConnectContext): Client {
    const key = JSON.stringify([spec.id, origin, profile.verify, profile.servername ?? null, profile.ca ?? null]);
    let entry = this.entries.get(key);
    if (!entry || entry.client.destroyed || entry.client.closed) {
      // Idle sockets live at most two intervals (less if the server's keep-alive hint says so): the
      // longest the check runs at, intervalWhileDownMs when that is longer (protocol/state-interval.ts).
      const keepAlive = 2 * Math.max(spec.intervalMs, spec.intervalWhileDownMs ?? 0);
      const created: PooledClient = { checkId: spec.id, context, client: null as unknown as Client };
      created.client = new Client(origin, {
        ...UNDICI_TIMERS_OFF,
        keepAliveTimeout: keepAlive,
        keepAliveMaxTimeout: keepAlive,
        connect: undiciConnector(profile, () => created.context),
      });
      this.entries.set(key, created);
      entry = created;
    }
    // A reused connection makes no handshake: the probe reports the certificate its last one saw.
    if (entry.context.cert && entry.context !== context) context.cert ??= entry.context.cert;
    entry.context = context;
    return entry.client;
  }

  /** Destroy the pooled connections of one check (when the check is deleted). */
  async release(checkId: string): Promise<void> {
    const doomed = [...this.entries].filter(([, entry]) => entry.checkId === checkId);
    for (const [key] of doomed) this.entries.delete(key);
    await Promise.all(doomed.map(([, entry]) => entry.client.destroy().catch(noop)));
  }

  /** Destroy every pooled connection (at shutdown). The pool stays usable: a later probe connects anew. */
  async close(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((entry) => entry.client.destroy().catch(noop)));
  }
}
