// The rollup stream `<prefix>_rollups` over `<prefix>._rollup.<id>`: each node's rollup of each
// check it probed, per period (protocol/rollup.ts), kept LOOKOUT_ROLLUPS_MAX_AGE_MS (31 days), at
// most LOOKOUT_ROLLUPS_PER_CHECK records per check and LOOKOUT_ROLLUPS_MAX_BYTES in all (the
// oldest go first). Beside it the fine stream `<prefix>_rollups_fine` over
// `<prefix>._rollup_fine.<id>` (per LOOKOUT_ROLLUP_FINE_PERIOD_MS, a minute) with bounds of its own:
// LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS (24 h), LOOKOUT_ROLLUPS_FINE_PER_CHECK, LOOKOUT_ROLLUPS_FINE_MAX_BYTES.
// Written with plain core publishes at each period's end (no ack awaited); read by the state API by
// walking a check's records with direct gets (at most the stream's per-check bound); a deleted
// check's records are purged with it.

import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { parseRollup, type RollupRecord } from '../protocol/rollup';
import type { Config } from './config';
import { boundedStreamConfig, ensureStream } from './storage-limits';
import { subjectMessages } from './subject-walk';
import type { Subjects } from './subjects';

/** A record is ~300 bytes; anything much larger is not one of ours. */
export const ROLLUP_RECORD_MAX_BYTES = 2048;

export type RollupStreamConfig = Pick<Config, 'kvReplicas' | 'rollupsMaxAgeMs' | 'rollupsPerCheck' | 'rollupsMaxBytes' | 'rollupsFineMaxAgeMs' | 'rollupsFinePerCheck' | 'rollupsFineMaxBytes'>;

/** The rollup period's stream: `<prefix>_rollups` over `<prefix>._rollup.>`. */
export function rollupStreamConfig(s: Subjects, cfg: RollupStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return boundedStreamConfig({ name: s.rollupStream(), subject: s.rollupWildcard(), perSubject: cfg.rollupsPerCheck, maxAgeMs: cfg.rollupsMaxAgeMs, maxBytes: cfg.rollupsMaxBytes, replicas: cfg.kvReplicas, maxMsgBytes: ROLLUP_RECORD_MAX_BYTES });
}

/** The fine period's stream: `<prefix>_rollups_fine` over `<prefix>._rollup_fine.>`, with bounds of its own. */
export function fineRollupStreamConfig(s: Subjects, cfg: RollupStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return boundedStreamConfig({ name: s.fineRollupStream(), subject: s.fineRollupWildcard(), perSubject: cfg.rollupsFinePerCheck, maxAgeMs: cfg.rollupsFineMaxAgeMs, maxBytes: cfg.rollupsFineMaxBytes, replicas: cfg.kvReplicas, maxMsgBytes: ROLLUP_RECORD_MAX_BYTES });
}

/** Both rollup streams (the fine one too when the fine grain is off: a check's delete purges it). */
export async function ensureRollupStream(jsm: JetStreamManager, s: Subjects, cfg: RollupStreamConfig): Promise<void> {
  await ensureStream(jsm, rollupStreamConfig(s, cfg), 'LOOKOUT_ROLLUPS_MAX_BYTES');
  await ensureStream(jsm, fineRollupStreamConfig(s, cfg), 'LOOKOUT_ROLLUPS_FINE_MAX_BYTES');
}

export interface RollupRecords {
  /** Every retained record of `id`, oldest first (at most `max`). */
  of(id: string): Promise<RollupRecord[]>;
  purge(id: string): Promise<void>;
}

/** The records of one grain: the rollup period's (`s.rollupStream()`, `s.rollup`) or the fine one's. */
export interface RollupGrainStream {
  stream: string;
  subject(id: string): string;
}

export const coarseRollups = (s: Subjects): RollupGrainStream => ({ stream: s.rollupStream(), subject: (id) => s.rollup(id) });
export const fineRollups = (s: Subjects): RollupGrainStream => ({ stream: s.fineRollupStream(), subject: (id) => s.fineRollup(id) });

export function streamRollupRecords(jsm: JetStreamManager, g: RollupGrainStream, max: number): RollupRecords {
  return {
    async of(id) {
      const out: RollupRecord[] = [];
      for (const m of await subjectMessages(jsm, g.stream, g.subject(id), { max })) {
        try {
          const r = parseRollup(m.json());
          if (r && r.checkId === id) out.push(r);
        } catch {
          // not JSON: not ours
        }
      }
      return out;
    },
    async purge(id) {
      await jsm.streams.purge(g.stream, { filter: g.subject(id) });
    },
  };
}
