// One snapshot, then tail (issue 12 §2/§4): loading many shards at once reads the spec bucket's
// latest values with ONE whole-bucket read (every message, pulled in batches; snapshotPolicy), keeps only the entries of
// the shards being loaded, and notes the stream sequence the snapshot is complete at. Each shard
// is then followed by a filtered watch that starts at that sequence + 1 (deliver by start
// sequence), so nothing between the snapshot and the tail is lost (a delete or purge is a message
// too). On nats-server 2.9 a filtered deliver-last-per-subject consumer costs time proportional to
// the stream (256 of them at 100k specs: 17–23 s), a filtered consumer that starts at the stream's
// end does not (256: 0.1 s), and the whole-bucket read is ~0.8 s (BENCHMARKS.md §14).
//
// Memory stays the node's share: an entry of a shard not being loaded is skipped on its key, its
// value never decoded or kept.

import { DeliverPolicy, jetstream, type JetStreamClient, type JetStreamOptions } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { KV } from '@nats-io/kv';
import { parseSpecKey } from '../protocol/spec-key';
import { StorageUnavailable } from '../protocol/errors';
import type { SpecChange, SpecWatch } from './spec-watch';

/**
 * A snapshot read that got no message for this long is given up (and read again, or its shards load
 * on watches of their own: shard-spec-sources.ts). A limit on progress, not on the read's length: at
 * 1M specs a read that was still moving took 141 s, and a 120 s limit on its whole duration gave up
 * 264 such reads, each started again from the beginning (BENCHMARKS.md §16).
 */
export const SNAPSHOT_STALL_MS = 30_000;
/** Messages a snapshot read asks the server for at a time (~200 bytes each: ~200 KB on the socket at most). */
export const SNAPSHOT_BATCH = 1000;
/**
 * The JetStream API timeout of a snapshot's requests (its consumer's create), instead of nats.js's
 * 5 s: a server busy with 10 nodes on 2 cores took 2–4 s per consumer create, the default timed
 * out, and each failed snapshot cost its shards a retry (BENCHMARKS.md §16).
 */
export const SNAPSHOT_API_TIMEOUT_MS = 30_000;

export interface SnapshotEntry {
  id: string;
  revision: number;
  deleted: boolean;
  value: Uint8Array;
}

export type SnapshotPolicy = 'all' | 'lastPerSubject';

export interface SpecSnapshot {
  /** The stream sequence the snapshot is complete at: a tail starts at seq + 1. */
  seq: number;
  /** How it was read (snapshotPolicy; absent: nothing to read). */
  policy?: SnapshotPolicy;
  /** The kept entries of each wanted shard, in stream order (absent: none). */
  entries: Map<number, SnapshotEntry[]>;
}

/** The shard a sharded key's first token names, without parsing the rest (-1: not a sharded key). */
function shardHead(key: string): number {
  const dot = key.indexOf('.');
  if (dot <= 0) return -1;
  const n = Number(key.slice(0, dot));
  return Number.isInteger(n) ? n : -1;
}

/**
 * Collects a snapshot's entries: those of `wanted` shards kept, every entry's sequence noted. A read
 * of every message (deliver all) brings a key's older revisions before its latest: the latest is
 * kept, in the place of its own sequence (a key seen again moves to the end), so a shard's entries
 * stay in stream order with one per key, as a deliver-last-per-subject read gives them.
 */
export class SnapshotCollector {
  seq = 0;
  /** Entries read (kept or not). */
  count = 0;
  private readonly kept = new Map<number, Map<string, SnapshotEntry>>();

  constructor(
    private readonly wanted: ReadonlySet<number>,
    private readonly shardCount: number,
  ) {}

  /** One entry of the whole-bucket read (`value` is read only for a kept entry). */
  add(key: string, revision: number, deleted: boolean, value: () => Uint8Array): void {
    this.count++;
    if (revision > this.seq) this.seq = revision;
    if (!this.wanted.has(shardHead(key))) return;
    const k = parseSpecKey(key, this.shardCount);
    if (k.type !== 'sharded') return;
    let byId = this.kept.get(k.shard);
    if (!byId) this.kept.set(k.shard, (byId = new Map()));
    byId.delete(k.id);
    byId.set(k.id, { id: k.id, revision, deleted, value: deleted ? new Uint8Array(0) : value().slice() });
  }

  /** The snapshot read so far: complete at `seq`, each wanted shard's entries in stream order. */
  result(): SpecSnapshot {
    return { seq: this.seq, entries: new Map([...this.kept].map(([shard, byId]) => [shard, [...byId.values()]])) };
  }
}

const utf8 = new TextDecoder();

/** A stored value decoded as JSON (undefined when it does not parse). */
function decodeJson(value: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(value));
  } catch {
    return undefined;
  }
}

/**
 * One shard's feed from a snapshot: its kept entries, then a marker that ends the initial load,
 * then every change of its tail, a watch opened from the snapshot's seq + 1 only once the entries
 * are read (`openTail`): the shard is loaded without waiting for a consumer of its own, which a
 * node busy starting its checks creates slowly. Stopped before the tail exists, the tail is
 * stopped as soon as it does; a tail that fails to open ends the feed with its error.
 */
export function snapshotThenTail(entries: readonly SnapshotEntry[], seq: number, openTail: (from: number) => Promise<SpecWatch>): SpecWatch {
  // Let go once read: the catalog holds the specs, the raw entries would double them.
  let kept: readonly SnapshotEntry[] | null = entries;
  return withTail(async function* () {
    let list = kept ?? [];
    kept = null;
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      yield { key: e.id, revision: e.revision, deleted: e.deleted, json: () => decodeJson(e.value), initialDone: false };
    }
    list = [];
    yield { key: null, revision: seq, deleted: false, json: () => undefined, initialDone: true };
    return seq;
  }, openTail);
}

/**
 * A shard loaded on a watch of its own (deliver last per subject), then followed by a tail: the
 * watch's values up to the end of the initial load, then — that watch stopped, its consumer gone —
 * the shard's changes from the sequence after the last it delivered (`openTail`). The latest value
 * of every key comes in stream order, so every later message of the shard has a higher sequence.
 */
export function loadThenTail(own: SpecWatch, openTail: (from: number) => Promise<SpecWatch>): SpecWatch {
  return withTail(
    async function* () {
      let last = 0;
      for await (const c of own.changes) {
        if (c.revision > last) last = c.revision;
        yield c;
        if (c.initialDone) {
          own.stop();
          return last;
        }
      }
      throw new Error('the spec watch ended before its initial values');
    },
    openTail,
    () => own.stop(),
  );
}

/**
 * `load`'s changes (it returns the sequence it is complete at), then every change of the tail
 * opened from the sequence after it, only once the load is read. Stopped before the tail exists,
 * the tail is stopped as soon as it does; a tail that fails to open ends the feed with its error.
 */
function withTail(load: () => AsyncGenerator<SpecChange, number>, openTail: (from: number) => Promise<SpecWatch>, stopLoad?: () => void): SpecWatch {
  let stopped = false;
  let tail: SpecWatch | null = null;
  async function* changes(): AsyncGenerator<SpecChange> {
    const seq = yield* load();
    if (stopped) return;
    tail = await openTail(seq + 1);
    if (stopped) {
      tail.stop();
      return;
    }
    for await (const c of tail.changes) yield { ...c, initialDone: true };
  }
  return {
    changes: changes(),
    stop: () => {
      stopped = true;
      stopLoad?.();
      tail?.stop();
    },
  };
}

/** The parts of a KV bucket a snapshot reads through (a @nats-io/kv Bucket has them). */
interface BucketParts {
  js: JetStreamClient;
  /** The bucket's stream (`KV_<bucket>`) and its subject prefix (`$KV.<bucket>`). */
  stream: string;
  prefix: string;
}

/** The bucket's parts, with a JetStream client of its own whose requests wait `timeoutMs`. */
function bucketParts(kv: KV, timeoutMs: number): BucketParts {
  const b = kv as unknown as Partial<BucketParts> & { js?: { nc?: NatsConnection; getOptions?: () => JetStreamOptions } };
  if (!b.js || typeof b.stream !== 'string' || typeof b.prefix !== 'string') throw new Error('a spec snapshot needs a @nats-io/kv bucket (js, stream, prefix)');
  const { nc, getOptions } = b.js;
  const js = nc && getOptions ? jetstream(nc, { ...getOptions.call(b.js), timeout: timeoutMs }) : (b.js as JetStreamClient);
  return { js, stream: b.stream, prefix: b.prefix };
}

/** `p`, its failure named by the step of the read it was (a log line tells a slow create from a stall). */
async function step<T>(name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new StorageUnavailable(`spec snapshot: ${name}`, err);
  }
}

/**
 * Messages per key up to which a snapshot reads every message of the bucket (deliver all, no filter)
 * rather than the last per subject. On nats-server 2.9 creating a deliver-last-per-subject consumer
 * indexes every subject of the stream inside the server's JetStream API: at 1M specs 4.5 s per
 * create, three at once held every other API request (stream info, lease reads) for over 5 s, while
 * a deliver-all consumer was created in 4–7 ms with API requests answered within 86 ms, and its
 * read cost the server 39–53% less CPU (bench/snapshot-read.ts, BENCHMARKS.md §16). It brings the older
 * revisions the bucket keeps (SPEC_HISTORY) too, which cost the wire more than the index past this
 * many per key.
 */
export const SNAPSHOT_ALL_MAX_PER_KEY = 2;

/** How a snapshot reads a bucket of `messages` over `subjects` keys (unknown: every message). */
export function snapshotPolicy(messages: number, subjects: number | undefined): SnapshotPolicy {
  return subjects !== undefined && subjects > 0 && messages > SNAPSHOT_ALL_MAX_PER_KEY * subjects ? 'lastPerSubject' : 'all';
}

/**
 * Reads the bucket's latest values once, keeping the entries of `wanted` shards. An ordered *pull*
 * consumer fetches at most `batch` messages at a time: the server never queues the whole bucket
 * on the node's socket, so the node's PINGs are answered within a batch — a push watch queued ~100k
 * messages at once, and on a loaded host (10 nodes on 2 cores) the PONG behind them came after
 * LOOKOUT_NATS_PING_MS × 2, the link was taken for dead, every watch started again, and the start
 * never ended (BENCHMARKS.md §16). It reads every message, or the last per subject when the bucket
 * holds many revisions per key (snapshotPolicy). Given up when no message came for `stallMs`
 * (checked every quarter of it), however long the read has run; a failure is a StorageUnavailable
 * naming its step (`stream info`, `consumer create`, `read`).
 */
export async function readSpecSnapshot(kv: KV, wanted: ReadonlySet<number>, shardCount: number, stallMs = SNAPSHOT_STALL_MS, batch = SNAPSHOT_BATCH): Promise<SpecSnapshot> {
  const c = new SnapshotCollector(wanted, shardCount);
  const { js, stream, prefix } = bucketParts(kv, SNAPSHOT_API_TIMEOUT_MS);
  const { state } = await step('stream info', js.jetstreamManager(false).then((jsm) => jsm.streams.info(stream)));
  // An empty stream sends nothing to say the snapshot is done: it is complete at the last sequence.
  if (state.messages === 0) {
    c.seq = state.last_seq;
    return c.result();
  }
  const policy = snapshotPolicy(state.messages, state.num_subjects);
  const opts = policy === 'all' ? { deliver_policy: DeliverPolicy.All } : { filter_subjects: `${prefix}.>`, deliver_policy: DeliverPolicy.LastPerSubject };
  const consumer = await step('consumer create', js.consumers.get(stream, opts));
  const msgs = await step('consumer create', consumer.consume({ max_messages: batch }));
  let heard = performance.now();
  let timer: ReturnType<typeof setInterval> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setInterval(() => {
      const quietMs = performance.now() - heard;
      if (quietMs >= stallMs) reject(new StorageUnavailable('spec snapshot: read', new Error(`no message for ${Math.round(quietMs)} ms (${c.count} read)`)));
    }, Math.max(1, stallMs / 4));
  });
  const skip = prefix.length + 1;
  const read = (async () => {
    for await (const m of msgs) {
      heard = performance.now();
      const op = m.headers?.get('KV-Operation');
      c.add(m.subject.slice(skip), m.seq, op === 'DEL' || op === 'PURGE', () => m.data);
      if (m.info.pending === 0) return;
      if (c.count % 1024 === 0) await new Promise((r) => setImmediate(r));
    }
    throw new StorageUnavailable('spec snapshot: read', new Error('the read ended before its last value'));
  })();
  try {
    await Promise.race([read, stalled]);
  } finally {
    clearInterval(timer);
    await msgs.close().catch(() => undefined);
  }
  return { ...c.result(), policy };
}
