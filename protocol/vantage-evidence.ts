// Self-quarantine evidence from the other vantages of a check with replicas > 1 (issue 13 §3).
// Such a check has no confirmation from elsewhere: its k vantages probe it independently. When
// this node's probe fails, the other vantages' last results say whether the failure is the
// target's or this node's: read from their resume records (runtime/resume-store.ts, one per
// vantage, the last message per subject of the `<prefix>_resume` stream).
//
// Freshness is decided on the stream's own timestamps (the server stamps every stored message), by
// comparing another vantage's record with this vantage's own last one — never a node's wall clock
// against another's: a record stored more than two intervals before our own counts as unknown
// (a vantage that stopped probing), like the quorum's rule for a stale vantage.
//
//   fresh others that passed > those that failed → disagreed (the target is healthy elsewhere)
//   fresh others that failed > those that passed → agreed (the target is down)
//   a tie, or no fresh other, or no own record   → no evidence
//
// Pure.

import type { EvidenceKind } from './quarantine';

/** What one vantage's resume record says, with the server's time of storing it (ms since the epoch). */
export interface VantageSeen {
  /** Its last probe passed (the newest outcome of its history). */
  ok: boolean;
  storedAt: number;
}

/** Most vantage lookups in flight on a node: a node whose every probe fails asks for nothing more than this at once (the rest count as no evidence). */
export const VANTAGE_LOOKUPS_IN_FLIGHT = 8;

/** A vantage's last probe passed: the newest character of its history ('1' a pass). */
export function lastPassed(history: string): boolean {
  return history.endsWith('1');
}

/** The evidence the other vantages give about this node's failed probe, or null. `own`: when our own last record was stored (null: none). */
export function vantageEvidence(own: number | null, others: readonly (VantageSeen | null)[], intervalMs: number): Extract<EvidenceKind, 'agreed' | 'disagreed'> | null {
  if (own === null) return null;
  let passed = 0;
  let failed = 0;
  for (const o of others) {
    if (!o || o.storedAt < own - 2 * intervalMs) continue;
    if (o.ok) passed++;
    else failed++;
  }
  if (passed > failed) return 'disagreed';
  if (failed > passed) return 'agreed';
  return null;
}
