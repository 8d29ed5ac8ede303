// The specs of the shards this node owns, and only those: one filtered watch per held shard
// (runtime/shard-spec-watch.ts) feeding one catalog. `hold` starts a shard's watch and resolves
// once its specs are loaded (a runner for the shard starts with them); `drop` stops the watch and
// forgets the shard's specs. Changes after a shard's load are told as SPEC_SET / SPEC_REMOVED.
// Memory is the held shards' specs, not the bucket's.
//
// A watch that fails (or ends unasked) is logged and started again after a backoff for as long as
// the shard is held: a hold never rejects, it resolves once some attempt has loaded the shard, so a
// slot waiting for its specs is never left unprobed in silence. A watch that fails after its load
// keeps what the catalog holds; the restarted watch replays the shard (older revisions are ignored).
//
// After a NATS reconnect (restartAll) a loaded shard is not read again: its attempt is replaced by
// a tail from the stream sequence after the last change it applied (`sourceOf(shard, from)`), so
// a reconnect costs the changes since instead of the whole shard's values (at 100k specs over 10
// nodes on 2 cores, reloading every shard on each reconnect kept the nodes from ever finishing
// their start, BENCHMARKS.md §16). A shard not loaded yet is loaded afresh as before.
//
// One attempt at a shard is actors/shard-load.ts: at most LOAD_CONCURRENCY watches are created at
// once (the others queue): a node given 256 shards at start would otherwise ask the server for 256
// consumers in one burst, and with a few nodes doing so the JetStream API times out and the
// connection goes stale (seen with 3 nodes × 256 shards). Counting a shard (one direct get) is not
// queued, and an empty shard — most of them in a small fleet — is loaded on its count, before its
// watch exists: a node that joins starts the runners of its empty shards at once and claims from
// their holders, instead of after hundreds of watches (a joining node's slots otherwise waited
// ~9 s for their specs on a loaded 2-core machine). A load that stalls is started again like a
// failed one (shard_specs_stalled).

import type { Logger } from '../runtime/logger';
import type { SpecFeedSource } from '../runtime/spec-watch';
import type { SpecCatalog } from './spec-catalog';
import { groupOf, topGroups } from '../protocol/panic-groups';
import { LOAD_STALL_MS, Places, ShardLoadStalled, startShardLoad } from './shard-load';
import type { FeedEvent } from './spec-feed';

export type ShardSpecEvent = Exclude<FeedEvent, { type: 'SPECS_LOADED' }>;

/** What the shard owner needs of the node's specs: hold a shard before running it, drop it after. */
export interface SpecHolder {
  readonly catalog: SpecCatalog;
  /** Resolves when the shard's stored specs are in the catalog (never rejects; retries inside). */
  hold(shard: number): Promise<void>;
  drop(shard: number): void;
  /** The shards this node runs at rank 0: their specs are what it counts for the cluster total. */
  setPrimaries?(shards: readonly number[]): void;
  /** Specs in the shards set by setPrimaries (this node's part of the cluster total). */
  primarySpecs?(): number;
  /** Those specs by panic group (protocol/panic-groups.ts topGroups); undefined without a group label. */
  primaryGroups?(): Record<string, number> | undefined;
}

/** First retry of a failed shard watch, doubled per consecutive failure up to RETRY_MAX_MS. */
export const RETRY_MIN_MS = 500;
export const RETRY_MAX_MS = 30_000;
/** Shard watches loading at once, per node. */
export const LOAD_CONCURRENCY = 8;

interface Held {
  /** Resolves once no part of the shard's watch is still being created (spec-feed.ts followSpecs). */
  stop: () => Promise<void>;
  loaded: Promise<void>;
  retry: ReturnType<typeof setTimeout> | null;
  /** Stop the current attempt and start another now: a tail after `seq` once loaded, else a fresh load. Returns which. */
  restart: () => 'resumed' | 'reloaded';
}

export class ShardSpecs implements SpecHolder {
  private readonly held = new Map<number, Held>();
  private primaries: readonly number[] = [];
  /** LOOKOUT_PANIC_GROUP_LABEL ('' : no groups). */
  groupLabel = '';
  /** primaryGroups at one catalog version and one set of primaries (a heartbeat asks every beat). */
  private groupsMemo: { version: number; primaries: readonly number[]; groups: Record<string, number> } | null = null;
  private readonly places = new Places(LOAD_CONCURRENCY);

  constructor(
    readonly catalog: SpecCatalog,
    /** A shard's source: its stored values then changes, or (`from`) only its changes from that stream sequence on. */
    private readonly sourceOf: (shard: number, from?: number) => SpecFeedSource,
    private readonly log: Logger,
    private readonly tell: (e: ShardSpecEvent) => void,
    private readonly onChange: () => void = () => {},
  ) {}

  /** Shards whose watch runs. */
  get shards(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Specs in the shards this node runs at rank 0 (its part of the cluster total). */
  primarySpecs(): number {
    let n = 0;
    for (const s of this.primaries) n += this.catalog.countInShard(s);
    return n;
  }

  primaryGroups(): Record<string, number> | undefined {
    if (this.groupLabel === '') return undefined;
    const memo = this.groupsMemo;
    if (memo && memo.version === this.catalog.version && memo.primaries === this.primaries) return memo.groups;
    const counts = new Map<string, number>();
    for (const s of this.primaries) {
      for (const spec of this.catalog.inShard(s)) {
        const g = groupOf(spec.labels, this.groupLabel);
        if (g !== undefined) counts.set(g, (counts.get(g) ?? 0) + 1);
      }
    }
    const groups = topGroups(counts);
    this.groupsMemo = { version: this.catalog.version, primaries: this.primaries, groups };
    return groups;
  }

  setPrimaries(shards: readonly number[]): void {
    this.primaries = [...shards];
  }

  /** Starts following `shard` (once); resolves when its stored specs are in the catalog. */
  hold(shard: number): Promise<void> {
    const have = this.held.get(shard);
    if (have) return have.loaded;
    let resolveLoaded: () => void = () => {};
    const entry: Held = { stop: async () => {}, loaded: new Promise<void>((r) => (resolveLoaded = r)), retry: null, restart: () => 'reloaded' };
    this.held.set(shard, entry);
    const log = this.log.child({ shard });
    let failures = 0;
    let everLoaded = false;
    // The stream sequence the shard's specs are complete at: its last applied change, or the
    // sequence its load was complete at (null: not known yet).
    let seq: number | null = null;
    const start = (resume = false) => {
      entry.retry = null;
      if (this.held.get(shard) !== entry) return;
      // A restart after the shard was loaded tells what changed while no watch ran (its runners hold
      // the old specs): a tail tells every change after `seq`; a fresh load is resynced.
      const resync = everLoaded && !resume ? () => this.catalog.inShard(shard).map((s) => s.id) : undefined;
      const source = resume && seq !== null ? this.sourceOf(shard, seq + 1) : this.sourceOf(shard);
      entry.stop = startShardLoad(source, this.catalog, log, this.places, LOAD_STALL_MS * 2 ** Math.min(failures, 3), {
        seq: (n) => {
          if (this.held.get(shard) === entry && (seq === null || n > seq)) seq = n;
        },
        tell: (e) => {
          if (this.held.get(shard) !== entry) return;
          if (e.type === 'SPECS_LOADED') {
            failures = 0;
            everLoaded = true;
            resolveLoaded();
          } else this.tell(e);
          this.onChange();
        },
        failed: (err) => {
          if (this.held.get(shard) !== entry) return;
          const waitMs = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** failures++);
          if (err instanceof ShardLoadStalled) log.warn({ event: 'shard_specs_stalled', afterMs: err.afterMs, failures, retryInMs: waitMs }, "the shard's specs did not load in time; its watch is started again (the shard's checks wait for their specs until it loads)");
          else log.warn({ event: 'shard_specs_failed', err, failures, retryInMs: waitMs }, "the shard's spec watch failed; it is started again (the shard's checks wait for their specs until it loads)");
          entry.retry = setTimeout(() => start(), waitMs);
        },
      }, resync);
    };
    entry.restart = () => {
      if (entry.retry) clearTimeout(entry.retry);
      void entry.stop();
      const resume = everLoaded && seq !== null;
      start(resume);
      return resume ? 'resumed' : 'reloaded';
    };
    start();
    return entry.loaded;
  }

  /**
   * Start every held shard's watch again: after a NATS reconnect, an ordered consumer missed what
   * was published while the link was down and notices only after two missed 30 s heartbeats (a
   * spec put then went unprobed for a minute in a loaded CI run). A loaded shard resumes from the
   * sequence after its last applied change; the others load afresh. The watches are created within
   * the same bound; what changed meanwhile is told as changes.
   */
  restartAll(): void {
    let resumed = 0;
    for (const entry of this.held.values()) if (entry.restart() === 'resumed') resumed++;
    this.log.info({ event: 'shard_specs_restarted', shards: this.held.size, resumed, reloaded: this.held.size - resumed }, 'spec watches started again (NATS reconnected): loaded shards resume after their last change, the others load afresh');
  }

  /** Stops following `shard` and forgets its specs; resolves once nothing of its watch is still being created. */
  drop(shard: number): Promise<void> {
    const h = this.held.get(shard);
    if (!h) return Promise.resolve();
    this.held.delete(shard);
    const settled = h.stop();
    if (h.retry) clearTimeout(h.retry);
    const n = this.catalog.dropShard(shard);
    this.log.debug({ event: 'shard_specs_dropped', shard, specs: n }, 'shard specs dropped');
    this.onChange();
    return settled;
  }

  /** Holds exactly `shards`: drops the others, holds the new ones; resolves when all are loaded. */
  async holdOnly(shards: Iterable<number>): Promise<void> {
    const want = new Set(shards);
    for (const s of [...this.held.keys()]) if (!want.has(s)) void this.drop(s);
    await Promise.all([...want].map((s) => this.hold(s)));
  }

  /** Drops every shard; resolves once none of their watches is still being created (close the connection after). */
  async stop(): Promise<void> {
    await Promise.all([...this.held.keys()].map((s) => this.drop(s)));
  }
}
