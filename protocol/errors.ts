// Errors as classes with a stable code (undici's `UND_ERR_…`, nats.js's `cause`). Code that reacts
// to an error matches on its `code`, never on its message or class name; the error that caused it
// (a nats.js error, an I/O error) is kept as the standard ES2022 `cause`, so a log line shows both
// (pino's `err` serializer appends the cause's message and stack).
//
// The codes of errors Lookout throws are in ErrorCode below, one per failure an operator or a
// caller tells apart. (Spec validation has its own wire codes, checks/spec-error.ts; a failed NATS
// connection has its reason codes, runtime/nats-failure.ts.)
//
// The three outcomes of a failed write to the cluster's KV (runtime/cluster-store.ts) are here
// because the actors decide on them (actors/assigner.ts, actors/leader.ts):
//   cas_conflict        — another writer was first: re-read and decide again
//   not_leader          — a fencing refusal: the writer's term is no longer current; stop writing
//   storage_unavailable — the store failed otherwise (NATS unreachable, a timeout): retry later

export const ErrorCode = {
  /** A KV compare-and-set lost: the key is no longer at the revision the writer read. */
  cas_conflict: 'cas_conflict',
  /** The writer may not write as leader: its lease ran out, or a newer term's map is stored. */
  not_leader: 'not_leader',
  /** A KV read or write failed for any other reason (NATS unreachable, a timeout, a refusal). */
  storage_unavailable: 'storage_unavailable',
  /** Another running process already uses this node id (protocol/node-identity.ts). */
  duplicate_node_id: 'duplicate_node_id',
  /** A stream or bucket cannot be created with its byte limit (runtime/storage-limits.ts). */
  storage_too_small: 'storage_too_small',
  /** A spec put refused: the spec bucket is at its byte limit (runtime/store.ts). */
  spec_bucket_full: 'spec_bucket_full',
  /** A setting or command-line argument does not parse (runtime/config.ts): exit code 2. */
  config_invalid: 'config_invalid',
  /** A request found nobody subscribed to its subject (NATS no-responders status). */
  no_responders: 'no_responders',
  /** A request got no answer in time (someone may be there, paused or cut off). */
  request_timeout: 'request_timeout',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base of every error Lookout throws on purpose: a stable `code`, the original `cause`. */
export abstract class LookoutError extends Error {
  abstract readonly code: ErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The code of a Lookout error, or undefined. By field, not by class: a second copy of a module
 * (Jest's registry, two installed versions) makes `instanceof` fail where the code still matches.
 */
export function errorCode(err: unknown): ErrorCode | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (Object.values(ErrorCode) as string[]).includes(code) ? (code as ErrorCode) : undefined;
}

export function hasCode(err: unknown, code: ErrorCode): boolean {
  return errorCode(err) === code;
}

/** The message of any thrown value (an Error's message, else its string form). */
export function messageOf(err: unknown): string {
  const m = (err as { message?: unknown } | null | undefined)?.message;
  return typeof m === 'string' && m ? m : String(err);
}

/** A KV compare-and-set lost: someone else wrote the key since `revision` was read. */
export class CasConflict extends LookoutError {
  readonly code = ErrorCode.cas_conflict;
  constructor(
    readonly key: string,
    readonly revision: number,
    options?: { cause?: unknown },
  ) {
    super(`compare-and-set on ${key} lost: it is no longer at revision ${revision}`, options);
  }
}

/** Fencing refusal: a write as leader under `term`, which is no longer current (`reason` says why). */
export class NotLeader extends LookoutError {
  readonly code = ErrorCode.not_leader;
  constructor(
    readonly term: number,
    readonly reason: 'lease_expired' | 'newer_term',
    detail: string,
  ) {
    super(`not the leader under term ${term}: ${detail}`);
  }
}

/** Any other failure of a KV read or write; the nats.js error is the cause (logged after the message). */
export class StorageUnavailable extends LookoutError {
  readonly code = ErrorCode.storage_unavailable;
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation} failed`, { cause });
  }
}

/** A request found nobody listening on its subject (runtime/bus.ts maps nats.js's no-responders error). */
export class NoResponders extends LookoutError {
  readonly code = ErrorCode.no_responders;

  constructor(subject: string, options?: { cause?: unknown }) {
    super(`no responders on ${subject}`, options);
  }
}

/** A request got no answer within its timeout. */
export class RequestTimeout extends LookoutError {
  readonly code = ErrorCode.request_timeout;

  constructor(subject: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(`no answer on ${subject} within ${timeoutMs} ms`, options);
  }
}
