// A check's current state and its uptime, from what the cluster published (pure; the reads are in
// runtime/transition-store.ts, the answers in actors/state-api.ts).
//
// - The verdict and since when: the newest message on `<prefix>.status.<id>` (every verdict change
//   is one, and the transition stream keeps them). With none retained, the newest result's verdict
//   (since unknown).
// - The last result: the newest retained result (any vantage).
// - The last failure: the newest of the failed results still retained (LOOKOUT_RESULTS_PER_CHECK)
//   and the newest change to down (it carries the failing probe's reason and message).
// - Uptime over a window: the share of the window the verdict was up, of the time it was known
//   (unknown time is left out), from the retained changes. The published verdict has four values
//   (published-verdict.ts): degraded time counts as up (the target answered, slowly or with a
//   certificate near expiry) and is reported on its own too (`degradedMs`, part of `upMs`);
//   flapping time is left out of the ratio like unknown time (whether the target served is not
//   known) and reported as `flappingMs`. Times are the NATS server's receive
//   times of the status messages (one clock for every node's messages), not the nodes' `at`.

import type { FailureReason } from '../checks/outcome';
import { flagsOf, isPublishedVerdict, publishedOf, type PublishedVerdict } from './published-verdict';

export type KnownVerdict = PublishedVerdict;
export type StateVerdict = KnownVerdict | 'unknown';

/** A stored verdict change: the status message's fields that matter here, with its stored time. */
export interface Transition {
  from: StateVerdict;
  to: KnownVerdict;
  /** The NATS server's time the change was stored (ms since the Unix epoch). */
  storedAt: number;
  /** The publishing node's `at` (ISO-8601), for display. */
  at: string;
  node: string | null;
  reason: FailureReason | null;
  message: string | null;
}

/** A stored result: the fields the state shows. */
export interface StoredResultView {
  ok: boolean;
  status: StateVerdict;
  at: string;
  node: string;
  vantage: number;
  latencyMs: number;
  reason: FailureReason | null;
  message: string | null;
  seq: number;
  epoch: number;
  storedAt: number;
}

export interface LastFailure {
  at: string;
  node: string | null;
  reason: FailureReason | null;
  message: string | null;
}

export interface CheckState {
  checkId: string;
  verdict: StateVerdict;
  /** When the verdict became what it is (the status message's `at`); null when not retained. */
  since: string | null;
  lastResult: StoredResultView | null;
  lastFailure: LastFailure | null;
}

/** The state of `id` from its newest change (or null) and its retained results (any order). */
export function checkState(id: string, lastChange: Transition | null, results: readonly StoredResultView[]): CheckState {
  const byTime = [...results].sort((a, b) => a.storedAt - b.storedAt);
  const lastResult = byTime.at(-1) ?? null;
  const failedResult = [...byTime].reverse().find((r) => !r.ok && r.reason !== 'inconclusive') ?? null;
  let lastFailure: LastFailure | null = failedResult && { at: failedResult.at, node: failedResult.node, reason: failedResult.reason, message: failedResult.message };
  if (lastChange?.to === 'down' && (!failedResult || failedResult.storedAt < lastChange.storedAt)) {
    lastFailure = { at: lastChange.at, node: lastChange.node, reason: lastChange.reason, message: lastChange.message };
  }
  if (lastChange) return { checkId: id, verdict: lastChange.to, since: lastChange.at, lastResult, lastFailure };
  return { checkId: id, verdict: lastResult?.status ?? 'unknown', since: null, lastResult, lastFailure };
}

export interface Uptime {
  /** Share of the known time the verdict was up or degraded (0..1), or null when it was never known in the window. */
  ratio: number | null;
  /** Up or degraded. */
  upMs: number;
  /** Of upMs, degraded. */
  degradedMs: number;
  downMs: number;
  /** Flapping: neither up nor down, left out of the ratio. */
  flappingMs: number;
  /** Verdict changes inside the window. */
  changes: number;
}

/**
 * Uptime over [from, to] from changes sorted by stored time. The verdict at `from` is the `to` of
 * the last change before it, else the `from` of the first change inside the window, else (no
 * change before `to` at all) unknown — then `current` (the verdict now) when it is known and the
 * changes are retained for the whole window (`complete`).
 */
export function uptimeOf(changes: readonly Transition[], from: number, to: number, current: StateVerdict = 'unknown', complete = false): Uptime {
  let verdict: StateVerdict = 'unknown';
  let i = 0;
  while (i < changes.length && changes[i]!.storedAt <= from) verdict = changes[i++]!.to;
  if (i === 0) verdict = changes[0] && changes[0].storedAt <= to ? changes[0].from : complete ? current : 'unknown';
  let upMs = 0;
  let degradedMs = 0;
  let downMs = 0;
  let flappingMs = 0;
  let t = from;
  let n = 0;
  const span = (until: number) => {
    if (verdict === 'up' || verdict === 'degraded') upMs += until - t;
    if (verdict === 'degraded') degradedMs += until - t;
    else if (verdict === 'down') downMs += until - t;
    else if (verdict === 'flapping') flappingMs += until - t;
    t = until;
  };
  for (; i < changes.length && changes[i]!.storedAt <= to; i++) {
    span(changes[i]!.storedAt);
    verdict = changes[i]!.to;
    n++;
  }
  span(to);
  const known = upMs + downMs;
  return { ratio: known > 0 ? upMs / known : null, upMs, degradedMs, downMs, flappingMs, changes: n };
}

/** A verdict read from a stored message: one of the four, else unknown. */
export function verdictOf(v: unknown): StateVerdict {
  return isPublishedVerdict(v) ? v : 'unknown';
}

/** The published verdict a stored result shows: its status with its `degraded` / `flapping` flags. */
export function resultVerdictOf(r: { status?: unknown; degraded?: unknown; flapping?: unknown }): StateVerdict {
  return r.status === 'up' || r.status === 'down' ? publishedOf(r.status, flagsOf(r)) : 'unknown';
}

/** The windows `lookout history` and the state API report uptime for. */
export const UPTIME_WINDOWS = [
  { name: '24h', ms: 24 * 3600_000 },
  { name: '7d', ms: 7 * 24 * 3600_000 },
  { name: '30d', ms: 30 * 24 * 3600_000 },
] as const;
