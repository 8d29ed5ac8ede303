// The node's bulk link: a second NATS connection for the JetStream requests the server needs long
// for — loading a shard's specs (a filtered deliver-last-per-subject consumer and a wildcard
// `last_by_subj` get), a snapshot of the spec bucket, the leader's look for legacy spec keys.
// nats-server 2.9 works through one client's messages in order, so a request it takes seconds over
// holds everything that client sent after it: at 1M specs a gained shard's consumer took 2.1–2.7 s
// to create on a busy server, the creating node's heartbeats and pings waited behind it, its links
// went stale and live members were declared dead (BENCHMARKS.md §16). On a link of its own only
// the loads wait.
//
// Opened on first use (a node that never loads a shard on its own opens none), kept, and opened
// again on the next use once closed (nats.js gave up reconnecting) or once an open failed: a load
// that fails for want of the link is retried as any failed load is (actors/shard-specs.ts).
// Same credentials and inbox prefix as the node's own connection (the node role allows both).

import type { Logger } from './logger';

/**
 * The JetStream API timeout on the bulk link, instead of nats.js's 5 s: the server works through
 * the link's requests in order, 8 loads are asked at once (actors/shard-specs.ts LOAD_CONCURRENCY),
 * and at 2–4 s per filtered consumer on a busy server (1M specs) the third would time out while
 * still queued, and be retried for nothing (the server creates it all the same).
 */
export const BULK_API_TIMEOUT_MS = 30_000;

/** What the link needs of a NATS connection (a narrow port: unit-tested with a fake). */
export interface LinkConnection {
  closed(): Promise<void | Error>;
  close(): Promise<void>;
}

interface Opened<C, T> {
  nc: C;
  parts: T;
}

/**
 * `parts` (e.g. a KV and a JetStream manager) built on a connection of their own, opened on first
 * use by `open` and built by `build`; a build that fails closes the connection it was built on.
 */
export class BulkLink<C extends LinkConnection, T> {
  private link: Promise<Opened<C, T>> | null = null;
  private stopped = false;
  private opens = 0;

  constructor(
    private readonly open: () => Promise<C>,
    private readonly build: (nc: C) => Promise<T>,
    private readonly log: Logger,
  ) {}

  /** The parts on the link, opened if there is none. Rejects once closed by `close`. */
  async parts(): Promise<T> {
    if (this.stopped) throw new Error('the bulk link is closed');
    this.link ??= this.connect();
    return (await this.link).parts;
  }

  private connect(): Promise<Opened<C, T>> {
    const p = (async () => {
      const nc = await this.open();
      try {
        return { nc, parts: await this.build(nc) };
      } catch (err) {
        await nc.close().catch(() => {});
        throw err;
      }
    })();
    const forget = () => {
      if (this.link === p) this.link = null;
    };
    p.then(
      ({ nc }) => {
        this.opens++;
        this.log.info({ event: 'bulk_link_open', opens: this.opens }, 'the bulk link (spec loads and snapshots) is open');
        void nc.closed().then((err) => {
          forget();
          if (!this.stopped) this.log.warn({ event: 'bulk_link_closed', err }, 'the bulk link closed; the next load opens it again');
        });
      },
      (err: unknown) => {
        forget();
        if (!this.stopped) this.log.warn({ event: 'bulk_link_open_failed', err }, 'could not open the bulk link; the next load tries again');
      },
    );
    return p;
  }

  /** Closes the link (once the loads on it have settled); later uses reject. */
  async close(): Promise<void> {
    this.stopped = true;
    const p = this.link;
    this.link = null;
    const opened = await p?.catch(() => null);
    await opened?.nc.close().catch(() => {});
  }
}
