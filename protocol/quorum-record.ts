// The combined verdict of a check with replicas > 1, kept so a new primary continues it instead
// of announcing `unknown → up` again (issue 13 §1): carried in the handover release
// (ReleasedCheck.quorum) and, for a failover without a release, stored on
// `<prefix>._resume.<id>.quorum` in the resume stream (one message per subject), written only when
// the combined verdict (or whether it is held) changes. Pure: its shape and how a received or
// stored one is read (hostile input: bounded, every field checked).

import { RESUME_RECORD_MAX_BYTES } from './resume-record';
import type { QuorumVerdict } from './quorum';

export interface QuorumRecord {
  /** The combined verdict last announced on `<prefix>.status.<id>`. */
  status: QuorumVerdict;
  /** Seq of that status message: the combined verdict's own count, continued by the next primary. */
  seq: number;
  /** False while the quorum could not be formed (the verdict is held). */
  formed: boolean;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A quorum record as received in a release or read from the stream, or null when malformed. */
export function parseQuorumRecord(raw: unknown): QuorumRecord | null {
  if (!isObj(raw)) return null;
  const { status, seq, formed } = raw;
  if (status !== 'up' && status !== 'down' && status !== 'degraded') return null;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return null;
  if (typeof formed !== 'boolean') return null;
  return { status, seq, formed };
}

/** A stored quorum record: at most RESUME_RECORD_MAX_BYTES of JSON, or null. */
export function decodeQuorumRecord(data: Uint8Array): QuorumRecord | null {
  if (data.length === 0 || data.length > RESUME_RECORD_MAX_BYTES) return null;
  try {
    return parseQuorumRecord(JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(data)));
  } catch {
    return null;
  }
}
