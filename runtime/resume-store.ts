// The resume stream `<prefix>_resume` over `<prefix>._resume.<id>.<rank>`: the last state (seq,
// slot, verdict) of each vantage of each check with replicas > 1 (protocol/resume-record.ts says
// why), and `<prefix>._resume.<id>.quorum`, the check's combined verdict (protocol/quorum-record.ts). One message per subject (a newer one replaces it), kept as long as the result stream keeps
// results (LOOKOUT_RESULTS_MAX_AGE_MS), and at most LOOKOUT_RESUME_MAX_BYTES in all; records over
// RESUME_RECORD_MAX_BYTES are refused by the server. Written by a plain core publish after each
// result (no ack is awaited: it costs what the result itself costs); read by a direct get of the
// subject's last message; a deleted check's records are purged with it.

import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { jsmLastMessages, type LastMessages } from './direct-get';
import { decodeResumeRecord, RESUME_RECORD_MAX_BYTES } from '../protocol/resume-record';
import { decodeQuorumRecord, type QuorumRecord } from '../protocol/quorum-record';
import type { ResumeState } from '../protocol/records';
import type { Config } from './config';
import { boundedStreamConfig, ensureStream } from './storage-limits';
import type { Subjects } from './subjects';


export type ResumeStreamConfig = Pick<Config, 'kvReplicas' | 'resultsMaxAgeMs' | 'resumeMaxBytes'>;

/** The vantages' resume records: read one, drop a check's. */
export interface ResumeRecords {
  /** The last record of (id, rank), or null (none, or not a valid record). */
  last(id: string, rank: number): Promise<ResumeState | null>;
  /** The same with the server's time of storing it (ms since the epoch): how fresh another vantage's view is. */
  lastSeen(id: string, rank: number): Promise<{ state: ResumeState; storedAt: number } | null>;
  /** The stored combined verdict of `id` (replicas > 1), or null (none, or not a valid record). */
  lastQuorum(id: string): Promise<QuorumRecord | null>;
  /** Drop every vantage's record of a deleted check. */
  purge(id: string): Promise<void>;
}

export function resumeStreamConfig(s: Subjects, cfg: ResumeStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return boundedStreamConfig({ name: s.resumeStream(), subject: s.resumeWildcard(), perSubject: 1, maxAgeMs: cfg.resultsMaxAgeMs, maxBytes: cfg.resumeMaxBytes, replicas: cfg.kvReplicas, maxMsgBytes: RESUME_RECORD_MAX_BYTES });
}

export async function ensureResumeStream(jsm: JetStreamManager, s: Subjects, cfg: ResumeStreamConfig): Promise<void> {
  await ensureStream(jsm, resumeStreamConfig(s, cfg), 'LOOKOUT_RESUME_MAX_BYTES');
}

/** `gets` reads a subject's last record (a node passes its DirectGets; by default through `jsm`). */
export function streamResumeRecords(jsm: JetStreamManager, s: Subjects, gets: LastMessages = jsmLastMessages(jsm)): ResumeRecords {
  const stream = s.resumeStream();
  const lastSeen = async (id: string, rank: number) => {
    const m = await gets.last(stream, s.resumeState(id, rank));
    const state = m ? decodeResumeRecord(m.data) : null;
    return m && state ? { state, storedAt: m.storedAt } : null;
  };
  return {
    lastSeen,
    async last(id, rank) {
      return (await lastSeen(id, rank))?.state ?? null;
    },
    async lastQuorum(id) {
      const m = await gets.last(stream, s.quorumState(id));
      return m ? decodeQuorumRecord(m.data) : null;
    },
    async purge(id) {
      await jsm.streams.purge(stream, { filter: s.resumeStatesOf(id) });
    },
  };
}
