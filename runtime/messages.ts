// Payloads Lookout publishes (DESIGN.md §2). These shapes are the public contract: consumers
// written in any language read them, so fields are only ever added, never renamed.

import type { FailureReason, PhaseTimings } from '../checks/outcome';
import type { CheckKind } from '../checks/spec';
import type { Verdict } from '../checks/verdict';

/** `<prefix>.result.<id>`: one per probe. */
export interface ResultMessage {
  checkId: string;
  /** This probe passed. */
  ok: boolean;
  /** The verdict after this probe. */
  status: Verdict;
  latencyMs: number;
  reason: FailureReason | null;
  message: string | null;
  node: string;
  /** ISO-8601 time the probe started. */
  at: string;
  /** Assignment epoch under which the probe ran: (epoch, seq) orders a check's messages. */
  epoch: number;
  /** Per check (and vantage point), strictly increasing; continues across handover and restart. */
  seq: number;
  /** Vantage point: the node's rank among the shard's owners (0 unless the spec asks for replicas > 1). */
  vantage: number;
  kind: CheckKind;
  target: string;
  /** Slot (ms since the Unix epoch) this probe belongs to; the start is slot + jitter. */
  slot: number;
  timings: PhaseTimings;
  httpStatus?: number;
  bodyBytes?: number;
  truncated?: boolean;
  redirects?: number;
  /** Recent outcomes, oldest first ('1' pass, '0' fail): the verdict state, for handover. */
  history: string;
  /** Rounds skipped since the previous result because a probe was still running. */
  skipped: number;
}

/** `<prefix>.status.<id>`: only when the verdict changes ("unknown" before a check's first verdict). */
export interface StatusMessage {
  checkId: string;
  from: Verdict | 'unknown';
  to: Verdict;
  at: string;
  node: string;
  epoch: number;
  seq: number;
  vantage: number;
  /** Reason of the probe that caused the change (null on a change to up). */
  reason: FailureReason | null;
  message: string | null;
}


export function encode(msg: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(msg));
}
