// Durable state in JetStream: the spec bucket (`<prefix>_specs`, a KV), the result history
// stream (`<prefix>_results`, over `<prefix>.result.>`, bounded), the resume stream
// (`<prefix>_resume`, resume-store.ts), the transition stream (`<prefix>_transitions`,
// transition-store.ts) and the rollup streams (`<prefix>_rollups`, `<prefix>_rollups_fine`, rollup-store.ts). All are created on start if missing; an existing stream
// gets its limits updated to the configured ones.

import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import type { CheckSpec } from '../checks/spec';
import { ErrorCode, LookoutError, messageOf } from '../protocol/errors';
import type { ResumeState } from '../protocol/records';
import { isCount, newerResume, parseResumeState } from '../protocol/resume-record';
import type { Config } from './config';
import { ensureResumeStream, type ResumeRecords } from './resume-store';
import { ensureTransitionStream } from './transition-store';
import { subjectMessages } from './subject-walk';
import { ensureRollupStream } from './rollup-store';
import { boundedStreamConfig, ensureStream, isStorageFull, withLimit } from './storage-limits';
import type { Subjects } from './subjects';


/** Spec bucket history: revisions kept per key (for audit with `nats kv history`). */
export const SPEC_HISTORY = 5;

export interface StoredSpec {
  id: string;
  spec: CheckSpec;
  revision: number;
}

/** The narrow port the spec API uses. */
export interface SpecStore {
  put(id: string, spec: CheckSpec): Promise<number>;
  /** True if a value was stored under id. */
  delete(id: string): Promise<boolean>;
  get(id: string): Promise<StoredSpec | null>;
}

/** The narrow port check runners use to continue a check where its last owner left it. */
export interface ResultHistory {
  /**
   * The newest retained result of `id` probed from `rank` (its `vantage` field), handed to `done` (null: none;
   * an error: it could not be read). `perVantage` (a check with replicas > 1): the vantage's resume
   * record too, and the newer of the two (protocol/resume-record.ts). A callback, not a promise: a
   * node gaining 100k checks queues 100k lookups, and a queued lookup should cost a small record,
   * not a promise chain.
   */
  last(id: string, rank: number, perVantage: boolean, done: (err: unknown, state: ResumeState | null) => void): void;
}

export type StoreConfig = Pick<Config, 'kvReplicas' | 'resultsMaxAgeMs' | 'resultsPerCheck' | 'resultsMaxBytes' | 'specsMaxBytes' | 'resumeMaxBytes' | 'transitionsMaxAgeMs' | 'transitionsPerCheck' | 'transitionsMaxBytes' | 'rollupsMaxAgeMs' | 'rollupsPerCheck' | 'rollupsMaxBytes' | 'rollupsFineMaxAgeMs' | 'rollupsFinePerCheck' | 'rollupsFineMaxBytes'>;

export async function openSpecBucket(nc: NatsConnection, jsm: JetStreamManager, s: Subjects, cfg: StoreConfig): Promise<KV> {
  const bucket = s.bucket('specs');
  return withLimit(jsm, { stream: `KV_${bucket}`, maxBytes: cfg.specsMaxBytes, setting: 'LOOKOUT_SPECS_MAX_BYTES' }, () =>
    new Kvm(nc).create(bucket, { replicas: cfg.kvReplicas, history: SPEC_HISTORY, storage: StorageType.File, max_bytes: cfg.specsMaxBytes }),
  );
}

export function resultStreamConfig(s: Subjects, cfg: StoreConfig): Partial<StreamConfig> & { name: string } {
  return boundedStreamConfig({ name: s.resultStream(), subject: s.resultWildcard(), perSubject: cfg.resultsPerCheck, maxAgeMs: cfg.resultsMaxAgeMs, maxBytes: cfg.resultsMaxBytes, replicas: cfg.kvReplicas });
}

export async function ensureResultStream(jsm: JetStreamManager, s: Subjects, cfg: StoreConfig): Promise<void> {
  await ensureStream(jsm, { ...resultStreamConfig(s, cfg), max_bytes: cfg.resultsMaxBytes }, 'LOOKOUT_RESULTS_MAX_BYTES');
}

/**
 * A put refused because the spec bucket is at its byte limit (or the server's store is full). The
 * message, the server's words included, goes back to the client (storage_full).
 */
export class SpecBucketFull extends LookoutError {
  readonly code = ErrorCode.spec_bucket_full;
  constructor(cause: unknown) {
    super(`the spec bucket is full (${messageOf(cause)}): delete specs, or raise LOOKOUT_SPECS_MAX_BYTES`, { cause });
  }
}

/**
 * The spec bucket. A delete is a KV purge: a marker every node's watch hears, which also drops
 * the key's earlier revisions, so deleting frees space (a plain delete marker would keep them).
 * It must work when the bucket is full — that is how space is freed — so when even the marker
 * does not fit, the key's stored revisions are purged from the stream first (that frees their
 * bytes without writing) and the marker is written after. Once the spec is gone, `onDeleted`
 * drops what else was kept for the check (its vantages' resume records); it must not throw.
 */
/** Purges `key`; when even the marker does not fit, its revisions are purged from the stream first. */
export async function purgeKey(kv: KV, jsm: JetStreamManager, bucket: string, key: string): Promise<void> {
  try {
    await kv.purge(key);
  } catch (err) {
    if (!isStorageFull(err)) throw err;
    await jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${key}` });
    await kv.purge(key);
  }
}

export function kvSpecStore(kv: KV, jsm: JetStreamManager, bucket: string, onDeleted: (id: string) => Promise<void> = async () => {}): SpecStore {
  return {
    async put(id, spec) {
      try {
        return await kv.put(id, JSON.stringify(spec));
      } catch (err) {
        if (isStorageFull(err)) throw new SpecBucketFull(err);
        throw err;
      }
    },
    async delete(id) {
      const existing = await kv.get(id);
      if (!existing || existing.operation !== 'PUT') return false;
      await purgeKey(kv, jsm, bucket, id);
      await onDeleted(id);
      return true;
    },
    async get(id) {
      const e = await kv.get(id);
      if (!e || e.operation !== 'PUT') return null;
      return { id, spec: e.json<CheckSpec>(), revision: e.revision };
    },
  };
}

type StoredResult = { seq?: unknown; status?: unknown; history?: unknown; slot?: unknown; vantage?: unknown };

/** The rank a stored result was probed from (its wire field `vantage`; 0 in results older than it). */
const rankOf = (r: StoredResult) => (isCount(r.vantage) ? r.vantage : 0);

/**
 * Reads the result stream. The newest message of the subject is one direct lookup; when several
 * ranks publish on one subject and the newest is another's, the retained messages of the
 * subject (at most LOOKOUT_RESULTS_PER_CHECK) are walked oldest to newest. A lookup `perVantage`
 * also reads the vantage's resume record (`records`, at the same time) and takes the newer.
 */
export function streamResultHistory(jsm: JetStreamManager, s: Subjects, records: ResumeRecords | null, maxInFlight = RESUME_LOOKUPS_IN_FLIGHT): ResultHistory {
  const stream = s.resultStream();
  const queue = new LookupQueue(maxInFlight, (id, rank, perVantage) => (perVantage && records ? lastOfVantage(id, rank, records) : lastOf(id, rank)));
  return {
    last: (id, rank, perVantage, done) => queue.push(id, rank, perVantage, done),
  };

  async function lastOfVantage(id: string, rank: number, r: ResumeRecords): Promise<ResumeState | null> {
    const [fromStream, fromRecord] = await Promise.all([lastOf(id, rank), r.last(id, rank)]);
    return newerResume(fromStream, fromRecord);
  }

  async function lastOf(id: string, rank: number): Promise<ResumeState | null> {
    const subject = s.result(id);
    const newest = await jsm.direct.getMessage(stream, { last_by_subj: subject });
    if (!newest) return null;
    const r = newest.json<StoredResult>();
    if (rankOf(r) === rank) return parseResumeState(r);
    let found: StoredResult | null = null;
    for (const m of await subjectMessages(jsm, stream, subject, { beforeSeq: newest.seq })) {
      const x = m.json<StoredResult>();
      if (rankOf(x) === rank) found = x;
    }
    return found ? parseResumeState(found) : null;
  }
}

/**
 * Lookups in flight at once. Gaining many checks at once (a node starting with 100k, a failover)
 * must not fire 100k JetStream requests in one go; queued lookups simply wait their turn (a probe
 * that finishes first is parked until its lookup returns, so its result is published only then).
 *
 * 512, not 64: a lookup's time is mostly the wait for the node's busy event loop to send it and to
 * read its answer (0.7–1.2 s each in a node restarted over 2000 checks on a loaded machine, against
 * 5.5 ms for the same direct get from an idle client), so the queue drains in proportion to how
 * many are out at once, and the results of the first seconds after a restart were held back up to
 * 8.9 s, then published in bursts. BENCHMARKS.md §11 (`bench/restart-lag.ts`) has the numbers.
 * The server answers 2000 direct gets in ~0.25 s, so 512 small requests are no burden.
 */
export const RESUME_LOOKUPS_IN_FLIGHT = 512;

interface Lookup {
  id: string;
  rank: number;
  perVantage: boolean;
  done: (err: unknown, state: ResumeState | null) => void;
}

/**
 * Lookups waiting their turn as plain records (FIFO, at most `n` running). A head index over an
 * array (compacted now and then) rather than shift(), so 100k queued lookups cost O(1) each.
 */
export class LookupQueue {
  private waiting: (Lookup | undefined)[] = [];
  private head = 0;
  private running = 0;

  constructor(
    private readonly n: number,
    private readonly run: (id: string, rank: number, perVantage: boolean) => Promise<ResumeState | null>,
  ) {}

  get pending(): number {
    return this.waiting.length - this.head;
  }

  push(id: string, rank: number, perVantage: boolean, done: Lookup['done']): void {
    this.waiting.push({ id, rank, perVantage, done });
    this.next();
  }

  private next(): void {
    while (this.running < this.n && this.head < this.waiting.length) {
      const job = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.running++;
      this.run(job.id, job.rank, job.perVantage).then(
        (state) => this.finish(job, null, state),
        (err: unknown) => this.finish(job, err ?? new Error('lookup failed'), null),
      );
    }
  }

  private finish(job: Lookup, err: unknown, state: ResumeState | null): void {
    this.running--;
    job.done(err, state);
    this.next();
  }
}

export async function openStores(nc: NatsConnection, s: Subjects, cfg: StoreConfig): Promise<{ kv: KV; jsm: JetStreamManager }> {
  const jsm = await jetstreamManager(nc);
  const kv = await openSpecBucket(nc, jsm, s, cfg);
  await ensureResultStream(jsm, s, cfg);
  await ensureResumeStream(jsm, s, cfg);
  await ensureTransitionStream(jsm, s, cfg);
  await ensureRollupStream(jsm, s, cfg);
  return { kv, jsm };
}
