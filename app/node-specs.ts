// The node's specs, wired (ARCHITECTURE.md "Specs per shard"): the spec bucket keyed by shard, of
// which this node holds only the shards it serves (actors/shard-specs.ts, held and dropped by the
// shard owner; many shards at once load from one snapshot of the bucket, runtime/shard-spec-sources.ts,
// and every loaded shard is followed through one tail for the node, runtime/node-spec-tail.ts),
// while the API reads and writes any id and lists one shard at a time (runtime/shard-spec-store.ts). What used to read the whole catalog reads:
//   - the cluster's spec count: the sum of the members' heartbeat `specs` (each counts the shards it
//     runs at rank 0; every check has one rank-0 slot) — the API's total, LOOKOUT_MAX_SPECS, and
//     the panic guard's fleet size. It lags writes by a heartbeat, and misses a dead node's shards
//     until the leader moves them;
//   - a confirm request for a check this node does not hold: the spec read from the bucket by id.
// Specs an older version stored under bare ids are moved to sharded keys by the leader, once per
// process when it first leads (migrateLegacySpecs; idempotent), and again on a later lead if it failed.
// What takes the server long goes out on the node's bulk link (`bulk`, runtime/bulk-link.ts), not on
// its own: a shard's own load (a filtered consumer, and the wildcard `last_by_subj` get that tells
// an empty shard), a snapshot, the legacy-key look. At 1M keys each takes the server seconds on a
// busy host, and on the node's own link the heartbeats and lease renewals waited behind it
// (BENCHMARKS.md §16). The tail and the API's reads and writes stay on the node's link (cheap).

import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { normalizeSpec, type NormalizedSpec } from '../checks/spec';
import { validateSpec } from '../checks/validate';
import type { ClusterView } from '../protocol/cluster-view';
import { LeadOnce } from '../protocol/lead-once';
import { fleetGroups } from '../protocol/panic-groups';
import { Places } from '../actors/shard-load';
import { LOAD_CONCURRENCY, ShardSpecs, type ShardSpecEvent } from '../actors/shard-specs';
import { SpecCatalog } from '../actors/spec-catalog';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import { migrateLegacySpecs, shardedSpecStore, type ShardedSpecStore } from '../runtime/shard-spec-store';
import { ShardSources } from '../runtime/shard-spec-sources';
import { shardSpecFeedSource } from '../runtime/shard-spec-watch';
import { readSpecSnapshot } from '../runtime/spec-snapshot';
import { NodeSpecTail } from '../runtime/node-spec-tail';
import { deferredSpecFeedSource, filteredSpecFeedSource } from '../runtime/spec-watch';
import { parseSpecKey } from '../protocol/spec-key';

export interface NodeSpecsOptions {
  kv: KV;
  jsm: JetStreamManager;
  bucket: string;
  shards: number;
  metrics: Metrics;
  log: Logger;
  /** A check was deleted through the API (its resume records are dropped). */
  onDeleted(id: string): Promise<void>;
  /** The node's latest view (members and their heartbeats). */
  view(): ClusterView | null;
  /** LOOKOUT_PANIC_GROUP_LABEL: this node's heartbeat counts its rank-0 specs per group ('': none). */
  groupLabel?: string;
  /**
   * The spec bucket and a JetStream manager on the node's bulk link (runtime/bulk-link.ts), for
   * the requests the server needs long for. Absent: `kv` and `jsm`.
   */
  bulk?(): Promise<BulkParts>;
}

/** The spec bucket on a connection, and a JetStream manager on the same. */
export interface BulkParts {
  kv: KV;
  jsm: JetStreamManager;
}

export interface NodeSpecs {
  holder: ShardSpecs;
  store: ShardedSpecStore;
  /** Where the holder tells spec changes of held shards (set once the node actor exists). */
  tellTo(tell: (e: ShardSpecEvent) => void): void;
  /** The cluster's spec count as the members last said. */
  total(): number;
  /** The cluster's specs per panic group as the members last said (protocol/panic-groups.ts). */
  groupSizes(): Map<string, number>;
  /** The spec of a check this node holds, or undefined. */
  heldSpec(id: string): NormalizedSpec | undefined;
  /** The stored spec of any check, validated (undefined: none, or invalid). */
  fetchSpec(id: string): Promise<NormalizedSpec | undefined>;
  /** Told every view: the first time this node leads, it migrates legacy keys. */
  noteView(view: ClusterView): void;
  /** Resolves once no spec watch is still being created (ShardSpecs.stop): drain the connection after. */
  stop(): Promise<void>;
}

/** A member whose heartbeat counts towards the cluster's sizes: one still heard. */
const counted = (m: { state: string }): boolean => m.state === 'alive' || m.state === 'suspect';

export function startNodeSpecs(o: NodeSpecsOptions): NodeSpecs {
  const log = o.log.child({ actor: 'specs' });
  let tell: (e: ShardSpecEvent) => void = () => {};
  const catalog = new SpecCatalog(o.shards);
  const gauges = () => {
    o.metrics.specsHeld.set(catalog.size);
    o.metrics.specShardsHeld.set(holder.shards.length);
  };
  // One consumer over the whole bucket follows every held shard after its load (runtime/node-spec-tail.ts).
  const tail = new NodeSpecTail(
    (from) => filteredSpecFeedSource(o.kv, async () => 1, undefined, (key) => key, from).watch(),
    (key) => {
      const k = parseSpecKey(key, o.shards);
      return k.type === 'sharded' ? { shard: k.shard, id: k.id } : null;
    },
    log,
  );
  const bulk = o.bulk ?? (async () => ({ kv: o.kv, jsm: o.jsm }));
  const sources = new ShardSources(
    {
      perShard: (shard) => deferredSpecFeedSource(async () => {
        const { kv, jsm } = await bulk();
        return shardSpecFeedSource(kv, jsm, o.bucket, shard, o.shards);
      }),
      tail: (shard, from) => tail.follow(shard, from),
      snapshot: async (shards) => readSpecSnapshot((await bulk()).kv, shards, o.shards),
      lastSeq: async () => (await (await bulk()).jsm.streams.info(`KV_${o.bucket}`)).state.last_seq,
    },
    log,
    new Places(LOAD_CONCURRENCY),
  );
  const holder = new ShardSpecs(catalog, (shard, from) => (from === undefined ? sources.sourceOf(shard) : sources.resumeOf(shard, from)), log, (e) => tell(e), gauges);
  holder.groupLabel = o.groupLabel ?? '';
  const store = shardedSpecStore(o.kv, o.jsm, o.bucket, o.shards, o.onDeleted);
  const migration = new LeadOnce(async () => {
    const t0 = performance.now();
    try {
      const { found, moved } = await migrateLegacySpecs((await bulk()).kv, o.shards);
      if (found > 0) log.info({ event: 'legacy_specs_migrated', found, moved, ms: Math.round(performance.now() - t0) }, 'specs stored under bare ids (an older version) moved to sharded keys');
    } catch (err) {
      log.error({ event: 'legacy_specs_migration_failed', err }, 'could not move legacy spec keys; tried again when this node next leads');
      throw err;
    }
  });
  return {
    holder,
    store,
    tellTo: (t) => (tell = t),
    total: () => {
      let n = 0;
      for (const m of o.view()?.members ?? []) if (counted(m)) n += m.specs ?? 0;
      return n;
    },
    groupSizes: () => fleetGroups((o.view()?.members ?? []).filter(counted).map((m) => m.groups)),
    heldSpec: (id) => catalog.get(id)?.spec,
    async fetchSpec(id) {
      const stored = await store.get(id);
      if (!stored) return undefined;
      const v = validateSpec(stored.spec, id);
      return v.ok ? normalizeSpec(id, v.spec) : undefined;
    },
    noteView(view) {
      migration.note(view.leading);
    },
    stop: async () => {
      await holder.stop();
      await sources.settled();
      await tail.stop();
    },
  };
}
