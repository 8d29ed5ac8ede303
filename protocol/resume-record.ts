// The resume state of one vantage of a check, kept apart from the result history (issue 11 §4).
//
// Every vantage (rank) of a check with replicas > 1 publishes on the one subject
// `<prefix>.result.<id>`, and the result stream keeps only LOOKOUT_RESULTS_PER_CHECK messages of
// it: a vantage silent while the others published more than that would find nothing of its own
// and restart its seq and verdict. So each result of such a check is followed by its ResumeState
// on `<prefix>._resume.<id>.<rank>`, a stream that keeps the last message per subject
// (runtime/resume-store.ts). A vantage gaining the check reads that record and the result stream
// and continues from the newer of the two (the record may be missing — written by a version
// without it, or lost with its core publish — or older: replicas lowered to 1 and raised again).
// A check with replicas 1 has one vantage, whose newest result is the newest on its subject: it
// writes no record (one NATS write per result is a noticeable share of a probe's cost).
//
// A record keeps the result's `degraded` / `flapping` flags too (published-verdict.ts; absent: false).
//
// Pure: what to keep, how a stored record is read (hostile input: bounded, every field checked),
// and which of two found states wins.

import type { ResumeState } from './records';
import { flagFields, flagsOf } from './published-verdict';
import { parseVerdictState } from './verdict';

/** Whether a check with `replicas` keeps a resume state per vantage (replicas 1: the result stream alone). */
export function keepsResumePerVantage(replicas: number): boolean {
  return replicas > 1;
}

/**
 * Largest stored record read (and the resume stream's max_msg_size): a record is about 60 bytes
 * plus its history (at most HISTORY_MAX characters), so 1 KiB is ample and anything longer is not ours.
 */
export const RESUME_RECORD_MAX_BYTES = 1024;

export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The resume state carried by a stored record or result (`seq`, `slot`, `status`, `history`; other
 * fields ignored), or null when any of them is missing or out of bounds.
 */
export function parseResumeState(raw: unknown): ResumeState | null {
  if (!isObj(raw)) return null;
  const state = parseVerdictState(raw.status, raw.history);
  if (!state || !isCount(raw.seq) || !isCount(raw.slot)) return null;
  return { seq: raw.seq, slot: raw.slot, ...state, ...flagFields(state.status, flagsOf(raw)) };
}

/** A stored resume record as read from the stream: at most RESUME_RECORD_MAX_BYTES of JSON, or null. */
export function decodeResumeRecord(data: Uint8Array): ResumeState | null {
  if (data.length === 0 || data.length > RESUME_RECORD_MAX_BYTES) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data));
  } catch {
    return null;
  }
  return parseResumeState(raw);
}

/** What a result of a check with replicas > 1 keeps for its vantage: exactly the resume state, nothing more. */
export function resumeRecordOf(r: ResumeState): ResumeState {
  return { seq: r.seq, slot: r.slot, status: r.status, history: r.history, ...flagFields(r.status, flagsOf(r)) };
}

/**
 * Which state a vantage continues from, of the one its resume record holds and the newest of its
 * results the result stream still has: the higher seq (seq grows by one per result of a vantage,
 * so it names the newer). A tie is the same result: the stream's is taken. Null: neither was found.
 */
export function newerResume(fromStream: ResumeState | null, fromRecord: ResumeState | null): ResumeState | null {
  if (!fromRecord) return fromStream;
  if (!fromStream) return fromRecord;
  return fromRecord.seq > fromStream.seq ? fromRecord : fromStream;
}
