// The quorum verdict of a check with replicas > 1 (issue 13 §1): how the latest results of its
// vantages combine into the one verdict `<prefix>.status.<id>` announces. Pure: no clock, no I/O —
// times come in as arguments, and they are always the combining node's own monotonic receive
// times (never another node's wall clock).
//
//   need    atLeast n → n;  fraction f → ceil(f × replicas);  absent → a majority, floor(replicas / 2) + 1
//   a vantage's state: its newest result by (epoch, seq) — `up`, `degraded` (up with the result's
//           `degraded` flag: published-verdict.ts) or `down` — or `unknown` when it has none, or
//           when that result was received more than STALE_INTERVALS intervals ago
//   up      ups ≥ need, counting degraded vantages as up — and `degraded` instead when the quorum
//           holds only with degraded vantages (the up ones that are not degraded < need)
//   down    downs > replicas − need (need can no longer be met even if every unknown were up)
//   held    otherwise: the quorum cannot be formed; the previous verdict stands (formed: false)
// A vantage's own flapping is not combined: its result's policy status (up / down) counts.
//
// An unknown vantage never counts as down: a node that is dead, cut off or slow never turns a
// check down by its silence. The shard's primary combines (quorum-table.ts); a hostile result
// heard on the bus is parsed here, bounded, before it can count.

import type { FailureReason } from '../checks/outcome';
import type { QuorumSpec } from '../checks/spec';
import type { Verdict } from './verdict';

/** A vantage whose newest result is older than this many of the check's longest intervals (state-interval.ts) counts as unknown. */
export const STALE_INTERVALS = 2;

/** What the combined verdict can be: a quorum of vantages is never `flapping` (see above). */
export type QuorumVerdict = Verdict | 'degraded';
export type VantageStatus = QuorumVerdict | 'unknown';
export type QuorumType = QuorumSpec['type'] | 'majority';

/** The newest result heard from one vantage (rank), stamped with the combining node's receive time. */
export interface VantageResult {
  vantage: number;
  node: string;
  status: Verdict;
  /** The result said `degraded: true` (its status is up). */
  degraded: boolean;
  seq: number;
  epoch: number;
  reason: FailureReason | null;
  message: string | null;
  /** The combining node's monotonic clock when the result arrived (ms). */
  receivedAt: number;
}

/** One vantage as the status payload shows it. */
export interface VantageState {
  vantage: number;
  node: string | null;
  status: VantageStatus;
  seq: number | null;
  epoch: number | null;
}

export interface QuorumCounts {
  type: QuorumType;
  replicas: number;
  need: number;
  /** Vantages up, the degraded ones included. */
  up: number;
  /** Of those, the degraded ones. */
  degraded: number;
  down: number;
  unknown: number;
  /** False: the quorum could not be formed and the previous verdict is held. */
  formed: boolean;
}

export interface Combination {
  verdict: VantageStatus;
  counts: QuorumCounts;
  vantages: VantageState[];
  /** The down vantage heard last (its reason explains a change to down), or null. */
  cause: VantageResult | null;
}

/** How many vantages must be up for a check with `replicas` vantages combined by `q`. */
export function quorumNeed(replicas: number, q: QuorumSpec | undefined): number {
  if (!q) return Math.floor(replicas / 2) + 1;
  if (q.type === 'atLeast') return Math.min(q.up, replicas);
  // A tiny epsilon so 0.6 × 5 = 3.0000000000000004 needs 3, not 4.
  return Math.min(replicas, Math.max(1, Math.ceil(q.up * replicas - 1e-9)));
}

/** True when `a` is newer than `b` by (epoch, seq): the order consumers use for a vantage's messages. */
export function isNewer(a: Pick<VantageResult, 'epoch' | 'seq'>, b: Pick<VantageResult, 'epoch' | 'seq'> | undefined): boolean {
  if (!b) return true;
  return a.epoch !== b.epoch ? a.epoch > b.epoch : a.seq > b.seq;
}

/**
 * Combine `latest` (indexed by rank; ranks ≥ replicas are ignored) at the combining node's
 * monotonic `now`. `previous` is the verdict held when the quorum cannot be formed.
 */
export function combine(input: {
  replicas: number;
  quorum: QuorumSpec | undefined;
  intervalMs: number;
  latest: readonly (VantageResult | undefined)[];
  now: number;
  previous: VantageStatus;
}): Combination {
  const { replicas, quorum, intervalMs, latest, now, previous } = input;
  const need = quorumNeed(replicas, quorum);
  const staleAfter = STALE_INTERVALS * intervalMs;
  const vantages: VantageState[] = [];
  let up = 0;
  let degraded = 0;
  let down = 0;
  let cause: VantageResult | null = null;
  for (let rank = 0; rank < replicas; rank++) {
    const r = latest[rank];
    const fresh = r !== undefined && now - r.receivedAt <= staleAfter;
    const status: VantageStatus = fresh ? (r.status === 'up' && r.degraded ? 'degraded' : r.status) : 'unknown';
    if (status === 'up' || status === 'degraded') up++;
    if (status === 'degraded') degraded++;
    if (status === 'down') {
      down++;
      if (!cause || r!.receivedAt >= cause.receivedAt) cause = r!;
    }
    vantages.push({ vantage: rank, node: r?.node ?? null, status, seq: r?.seq ?? null, epoch: r?.epoch ?? null });
  }
  const unknown = replicas - up - down;
  const verdict: VantageStatus = up >= need ? (up - degraded >= need ? 'up' : 'degraded') : down > replicas - need ? 'down' : previous;
  const formed = up >= need || down > replicas - need;
  return { verdict, counts: { type: quorum?.type ?? 'majority', replicas, need, up, degraded, down, unknown, formed }, vantages, cause };
}

// --- hostile input --------------------------------------------------------------------------

/** Longest failure message kept from a heard result (the status repeats it on a change to down). */
export const QUORUM_MESSAGE_MAX = 1024;
const MAX_VANTAGE = 64;
const NODE_MAX = 128;
const REASON = /^[a-z_]{1,32}$/;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * A result heard on `<prefix>.result.<id>` as one vantage's state, stamped `receivedAt`; null when
 * it is not a result of check `id` or any field it needs is out of bounds.
 */
export function parseVantageResult(raw: unknown, id: string, receivedAt: number): VantageResult | null {
  if (!isObj(raw) || raw.checkId !== id) return null;
  const { vantage, node, status, seq, epoch, reason, message, degraded } = raw;
  if (!isCount(vantage) || vantage >= MAX_VANTAGE || !isCount(seq) || !isCount(epoch)) return null;
  if (typeof node !== 'string' || node.length === 0 || node.length > NODE_MAX) return null;
  if (status !== 'up' && status !== 'down') return null;
  if (reason !== null && reason !== undefined && (typeof reason !== 'string' || !REASON.test(reason))) return null;
  if (message !== null && message !== undefined && typeof message !== 'string') return null;
  return {
    vantage,
    node,
    status,
    degraded: status === 'up' && degraded === true,
    seq,
    epoch,
    reason: (reason ?? null) as FailureReason | null,
    message: typeof message === 'string' ? message.slice(0, QUORUM_MESSAGE_MAX) : null,
    receivedAt,
  };
}
