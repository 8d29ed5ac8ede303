// Storage that can fill without losing the cluster. JetStream refuses every write on a server whose
// file store is full — including a leader's lease renewal — so every stream Lookout creates has a
// byte limit of its own (`max_bytes`): the spec bucket fills up to its limit and refuses further
// puts, the result stream drops its oldest results, and the small lease and assignment buckets
// always have room. JetStream reserves each limit when the stream is created; a server too small
// for them is named at startup, with the stream and the setting to change.
//
// (Streams of other applications on the same server without a limit can still fill it: give them
// limits too, or give Lookout its own account with JetStream limits. README, Security.)

import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { ErrorCode, LookoutError, messageOf } from '../protocol/errors';

/** The lease bucket holds one small key (history 1). */
export const LEASE_BUCKET_BYTES = 1024 * 1024;
/** The assignment bucket holds one map (≤ ~300 KB at 4096 shards × 5 owners), history 5. */
export const ASSIGNMENT_BUCKET_BYTES = 16 * 1024 * 1024;

/**
 * A stream or bucket could not be created with its byte limit: the server has less room. The
 * message repeats the server's own words: it is what `lookout node` prints on its way out.
 */
export class StorageTooSmall extends LookoutError {
  readonly code = ErrorCode.storage_too_small;
  constructor(
    readonly stream: string,
    readonly maxBytes: number,
    readonly setting: string | null,
    cause: unknown,
  ) {
    super(
      `cannot create ${stream} with a limit of ${mib(maxBytes)}: the NATS server's JetStream store has no room for it (${messageOf(cause)}); ` +
        (setting ? `lower ${setting} or give the server more storage (jetstream.max_file_store)` : `this limit is fixed: give the server more storage (jetstream.max_file_store)`),
      { cause },
    );
  }
}

export function mib(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MiB`;
}

/** JetStream could not reserve a stream's limit (at creation or when raising it). */
export function isInsufficientStorage(err: unknown): boolean {
  return /insufficient (storage )?resources/i.test(messageOf(err));
}

/** A write refused because the stream is at its byte limit or the server's store is full. */
export function isStorageFull(err: unknown): boolean {
  return /maximum bytes exceeded|insufficient (storage )?resources|storage (is )?full/i.test(messageOf(err));
}

export interface Limited {
  /** The JetStream stream name (a KV bucket `x` is the stream `KV_x`). */
  stream: string;
  maxBytes: number;
  /** The setting an operator changes to size it (null: the limit is fixed). */
  setting: string | null;
}

/**
 * Create (or open) a stream with its limit and make sure an existing one carries that limit (a
 * bucket made by an older version has none). Reservation failures become StorageTooSmall.
 */
export async function withLimit<T>(jsm: JetStreamManager, l: Limited, create: () => Promise<T>): Promise<T> {
  return naming(l.stream, () => createWithLimit(jsm, l, create));
}

/**
 * Run `open` on `stream`; a failure names the stream (the server's words and the error's name
 * kept, the original as its cause): "stream not found" alone did not say which of five.
 */
export async function naming<T>(stream: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    const msg = messageOf(err);
    if (err instanceof StorageTooSmall || msg.includes(stream)) throw err;
    const e = new Error(`stream ${stream}: ${msg}`, { cause: err });
    e.name = (err as { name?: string } | null)?.name ?? 'Error';
    throw e;
  }
}

async function createWithLimit<T>(jsm: JetStreamManager, l: Limited, create: () => Promise<T>): Promise<T> {
  let out: T;
  try {
    out = await create();
  } catch (err) {
    if (isInsufficientStorage(err)) throw new StorageTooSmall(l.stream, l.maxBytes, l.setting, err);
    throw err;
  }
  const info = await jsm.streams.info(l.stream);
  if (info.config.max_bytes !== l.maxBytes) {
    try {
      await jsm.streams.update(l.stream, { ...info.config, max_bytes: l.maxBytes });
    } catch (err) {
      if (isInsufficientStorage(err)) throw new StorageTooSmall(l.stream, l.maxBytes, l.setting, err);
      throw err;
    }
  }
  return out;
}

/** The limits of a plain stream Lookout keeps in line with its settings on every start. */
const STREAM_LIMITS = ['max_msgs_per_subject', 'max_age', 'max_bytes', 'max_msg_size'] as const;

/**
 * Create a plain stream (the result stream, the resume stream) with its limits, or bring an
 * existing one's limits in line with `want` (its replica count stays as it was created).
 * Reservation failures become StorageTooSmall naming `setting`.
 */
export async function ensureStream(jsm: JetStreamManager, want: Partial<StreamConfig> & { name: string; max_bytes: number }, setting: string): Promise<void> {
  return naming(want.name, () => ensureStreamNamed(jsm, want, setting));
}

async function ensureStreamNamed(jsm: JetStreamManager, want: Partial<StreamConfig> & { name: string; max_bytes: number }, setting: string): Promise<void> {
  const tooSmall = (err: unknown) => (isInsufficientStorage(err) ? new StorageTooSmall(want.name, want.max_bytes, setting, err) : err);
  try {
    const info = await jsm.streams.info(want.name);
    const c = info.config;
    if (STREAM_LIMITS.some((k) => want[k] !== undefined && c[k] !== want[k])) {
      // The server refuses a duplicate window longer than max_age (it shortens it on create only).
      const window = want.max_age ? Math.min(c.duplicate_window, want.max_age) : c.duplicate_window;
      await jsm.streams.update(want.name, { ...c, ...want, num_replicas: c.num_replicas, duplicate_window: window });
    }
  } catch (err) {
    if ((err as { name?: string }).name !== 'StreamNotFoundError') throw tooSmall(err);
    try {
      await jsm.streams.add(want);
    } catch (e) {
      throw tooSmall(e);
    }
  }
}

/** What sets one of Lookout's bounded streams apart from the others. */
export interface BoundedStream {
  name: string;
  subject: string;
  /** Messages kept per subject (a check's, or a vantage's). */
  perSubject: number;
  maxAgeMs: number;
  maxBytes: number;
  replicas: number;
  /** Largest message the server accepts (a record much larger is not one of ours). */
  maxMsgBytes?: number;
}

/**
 * The config of a stream that keeps the newest messages per subject within an age and a byte
 * limit, dropping the oldest first (never refusing a write), read by direct gets.
 */
export function boundedStreamConfig(b: BoundedStream): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return {
    name: b.name,
    subjects: [b.subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: b.perSubject,
    max_age: b.maxAgeMs * 1_000_000,
    max_bytes: b.maxBytes,
    ...(b.maxMsgBytes === undefined ? {} : { max_msg_size: b.maxMsgBytes }),
    num_replicas: b.replicas,
    allow_direct: true,
  };
}
