// The handover's messages on the wire (protocol/handover.ts has the decisions): a claim, its
// answer and a release, each received from another node and so hostile input — parsed here,
// bounded, or refused with a reason the runner logs (`claim_refused`, `release_refused`,
// `claim_answer_refused`). Pure.

import { CHECK_ID_PATTERN } from '../checks/spec';
import { SPEC_LIMITS } from '../checks/spec-limits';
import { parsePushCarry } from '../checks/push-report';
import type { Claimant, ReleasedCheck, ReleaseRecord } from './records';
import { MAX_RAN } from './overlap';
import { parseQuorumRecord } from './quorum-record';
import { flagFields, flagsOf, isPublishedVerdict } from './published-verdict';

/** `<prefix>._node.shard.<s>.<r>.claim` (request). `holder`: who the claimant expects to answer (null: unknown, any holder). */
export interface ClaimRequest extends Claimant {
  shard: number;
  rank: number;
  /** Epoch of the map the claimant follows. */
  epoch: number;
  holder: string | null;
  /** A takeover claim (holder unknown, believed dead): answered only by a holder that does not own the slot any more. */
  takeover?: boolean;
}

/** The slot went to another claimant: its node, and the epoch of the map its claim came under. */
export interface ClaimTaken {
  by: string;
  epoch: number;
}

/**
 * A holder's reply to a claim: it is releasing (the release follows on `.release`), here is the
 * release it kept, `held`: it runs the slot for the claimant until it hears the claimant running,
 * or `taken`: it released the slot to another claimant (protocol/handover.ts takenNext).
 */
export type ClaimAnswer = { answer: 'releasing' } | { answer: 'held' } | { answer: 'released'; release: ReleaseRecord } | ({ answer: 'taken' } & ClaimTaken);

/** Most checks a release may carry (one shard's; a NATS message holds ~10k at most anyway). */
export const MAX_RELEASE_CHECKS = 20_000;
/** Largest |dueInMs| accepted: two of the longest intervals. */
export const MAX_DUE_MS = 2 * SPEC_LIMITS.intervalMs.max;
/** Longest verdict history (the largest window). */
export const MAX_HISTORY = SPEC_LIMITS.window.max;
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TOKEN = 128;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isToken = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_TOKEN;

/** A claim as received, or why it is refused. */
export function parseClaim(raw: unknown, slot: { shard: number; rank: number }): ClaimRequest | string {
  if (!isObj(raw)) return 'not an object';
  const { shard, rank, epoch, node, instance, gen, holder, takeover } = raw;
  if (shard !== slot.shard || rank !== slot.rank) return 'shard or rank does not match the subject';
  if (!isCount(epoch) || !isCount(gen)) return 'epoch and gen must be counts';
  if (typeof node !== 'string' || !NODE_ID.test(node) || !isToken(instance)) return 'bad node or instance';
  if (holder !== null && (typeof holder !== 'string' || !NODE_ID.test(holder))) return 'bad holder';
  if (takeover !== undefined && typeof takeover !== 'boolean') return 'takeover must be a boolean';
  return { shard, rank, epoch, node, instance, gen, holder, ...(takeover === true ? { takeover } : {}) };
}

/** One released check, or null when any field is out of bounds. */
function parseReleasedCheck(raw: unknown): ReleasedCheck | null {
  if (!isObj(raw)) return null;
  const { id, seq, status, history, published, slot, dueInMs, skipped, ran, firstAt, nextAt, lastAt, quorum, push, degraded, flapping } = raw;
  if (typeof id !== 'string' || !CHECK_ID_PATTERN.test(id)) return null;
  if (!isCount(seq) || (status !== 'up' && status !== 'down')) return null;
  if (typeof history !== 'string' || history.length > MAX_HISTORY || !/^[01]*$/.test(history)) return null;
  if (published !== undefined && published !== 'unknown' && !isPublishedVerdict(published)) return null;
  if ((degraded !== undefined && typeof degraded !== 'boolean') || (flapping !== undefined && typeof flapping !== 'boolean')) return null;
  if (typeof slot !== 'number' || !Number.isSafeInteger(slot)) return null;
  if (typeof dueInMs !== 'number' || !Number.isFinite(dueInMs) || Math.abs(dueInMs) > MAX_DUE_MS) return null;
  if (ran !== undefined && (!isCount(ran) || ran > MAX_RAN)) return null;
  if (skipped !== undefined && (!isCount(skipped) || skipped > MAX_RAN)) return null;
  if ((firstAt !== undefined && !isCount(firstAt)) || (nextAt !== undefined && !isCount(nextAt)) || (lastAt !== undefined && !isCount(lastAt))) return null;
  const q = quorum === undefined ? undefined : parseQuorumRecord(quorum);
  if (q === null) return null;
  const p = push === undefined ? undefined : parsePushCarry(push);
  if (p === null) return null;
  return {
    id,
    seq,
    status,
    history,
    ...(published !== undefined ? { published } : {}),
    ...flagFields(status, flagsOf({ degraded, flapping })),
    slot,
    dueInMs,
    ...(skipped !== undefined && skipped > 0 ? { skipped } : {}),
    ...(ran !== undefined ? { ran } : {}),
    ...(firstAt !== undefined ? { firstAt } : {}),
    ...(nextAt !== undefined ? { nextAt } : {}),
    ...(lastAt !== undefined ? { lastAt } : {}),
    ...(q ? { quorum: q } : {}),
    ...(p ? { push: p } : {}),
  };
}

/** A claimant named in a release (`to`), or null when malformed. */
function parseClaimant(raw: unknown): Claimant | null {
  if (!isObj(raw)) return null;
  const { node, instance, gen } = raw;
  return typeof node === 'string' && NODE_ID.test(node) && isToken(instance) && isCount(gen) ? { node, instance, gen } : null;
}

/** A release as received on `<…>.release` for (shard, rank), or why it is refused. */
export function parseRelease(raw: unknown, slot: { shard: number; rank: number }): ReleaseRecord | string {
  if (!isObj(raw)) return 'not an object';
  const { shard, rank, node, instance, gen, epoch, checks, to } = raw;
  if (shard !== slot.shard || rank !== slot.rank) return 'shard or rank does not match the subject';
  if (typeof node !== 'string' || !NODE_ID.test(node) || !isToken(instance) || !isCount(gen) || !isCount(epoch)) return 'bad node, instance, gen or epoch';
  const claimant = to === undefined ? undefined : parseClaimant(to);
  if (claimant === null) return 'to must name a claimant: node, instance and gen';
  if (!Array.isArray(checks) || checks.length > MAX_RELEASE_CHECKS) return `checks must be a list of at most ${MAX_RELEASE_CHECKS}`;
  const out: ReleasedCheck[] = [];
  const seen = new Set<string>();
  for (const c of checks) {
    const rc = parseReleasedCheck(c);
    if (!rc) return 'a check is malformed';
    if (seen.has(rc.id)) return `check ${rc.id} twice`;
    seen.add(rc.id);
    out.push(rc);
  }
  return { shard, rank, node, instance, gen, epoch, checks: out, ...(claimant ? { to: claimant } : {}) };
}

/** A claim's answer, or why it is refused. */
export function parseClaimAnswer(raw: unknown, slot: { shard: number; rank: number }): ClaimAnswer | string {
  if (!isObj(raw)) return 'not an object';
  if (raw.answer === 'releasing' || raw.answer === 'held') return { answer: raw.answer };
  if (raw.answer === 'taken') {
    const { by, epoch } = raw;
    return typeof by === 'string' && NODE_ID.test(by) && isCount(epoch) ? { answer: 'taken', by, epoch } : 'taken must name a node and an epoch';
  }
  if (raw.answer !== 'released') return 'unknown answer';
  const release = parseRelease(raw.release, slot);
  return typeof release === 'string' ? release : { answer: 'released', release };
}
