// Fleet-wide verdict counts (issue 14): how many checks are up, degraded, down, flapping and not
// decided yet across the whole cluster, cheaply — no request reads a state per check.
//
//   a node's counts  = over the checks whose `<prefix>.status.<id>` verdict it decides: the checks of
//                      the shards it runs at rank 0 (replicas 1: its own published verdict; replicas
//                      > 1: the combined verdict it announces as the shard's primary, quorum-table.ts),
//                      so every check is counted by one node. `unknown`: no verdict announced yet.
//   carried          in its heartbeat (`verdicts`, records.ts): optional, read as hostile input —
//                      every known verdict a bounded integer, else the field is dropped (unknown).
//   the fleet's      = Σ over the live members that reported (cluster.status says which did not).
//
// Approximate while shards move: a check being handed over may be counted by both holders, or by
// neither, for the length of the handover; the heartbeat after it is exact again.

import type { PublishedVerdict } from './published-verdict';

export type CountedVerdict = PublishedVerdict | 'unknown';
/** The verdicts counted, in the order they are shown: the worst first. */
export const COUNTED_VERDICTS: readonly CountedVerdict[] = ['down', 'degraded', 'flapping', 'up', 'unknown'];
export type VerdictCounts = Record<CountedVerdict, number>;

/** Largest count a heartbeat may carry per verdict (far above the checks one node can run). */
export const MAX_VERDICT_COUNT = 10_000_000;

export function isCountedVerdict(v: unknown): v is CountedVerdict {
  return typeof v === 'string' && (COUNTED_VERDICTS as readonly string[]).includes(v);
}

export function emptyCounts(): VerdictCounts {
  return { down: 0, degraded: 0, flapping: 0, up: 0, unknown: 0 };
}

/** One check's verdict added to `into`. */
export function countVerdict(into: VerdictCounts, v: CountedVerdict): void {
  into[v]++;
}

/** A heartbeat's `verdicts`, checked: null when absent or malformed (the heartbeat keeps its other fields). Only the known names are read. */
export function parseVerdictCounts(raw: unknown): VerdictCounts | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  const out = emptyCounts();
  for (const v of COUNTED_VERDICTS) {
    const n = Object.prototype.hasOwnProperty.call(r, v) ? r[v] : undefined;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > MAX_VERDICT_COUNT) return null;
    out[v] = n;
  }
  return out;
}

/** The fleet's counts: the sum over the members that reported, and the live members that did not. */
export interface FleetCounts {
  counts: VerdictCounts;
  /** Checks counted (the sum of the counts). */
  total: number;
  /** Members whose counts are in the sum. */
  reported: string[];
  /** Live members whose heartbeat carried no counts (an older version, or a malformed field). */
  unreported: string[];
}

export function sumCounts(members: readonly { node: string; verdicts?: VerdictCounts | undefined }[]): FleetCounts {
  const counts = emptyCounts();
  const reported: string[] = [];
  const unreported: string[] = [];
  for (const m of members) {
    if (!m.verdicts) {
      unreported.push(m.node);
      continue;
    }
    reported.push(m.node);
    for (const v of COUNTED_VERDICTS) counts[v] += m.verdicts[v];
  }
  let total = 0;
  for (const v of COUNTED_VERDICTS) total += counts[v];
  return { counts, total, reported, unreported };
}
