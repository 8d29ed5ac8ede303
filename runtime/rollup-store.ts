// The rollup stream `<prefix>_rollups` over `<prefix>._rollup.<id>`: each node's rollup of each
// check it probed, per period (protocol/rollup.ts), kept LOOKOUT_ROLLUPS_MAX_AGE_MS (31 days), at
// most LOOKOUT_ROLLUPS_PER_CHECK records per check and LOOKOUT_ROLLUPS_MAX_BYTES in all (the
// oldest go first). Written with plain core publishes at each period's end (no ack awaited); read
// by the state API by walking a check's records with direct gets (at most LOOKOUT_ROLLUPS_PER_CHECK);
// a deleted check's records are purged with it.

import type { JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import { parseRollup, type RollupRecord } from '../protocol/rollup';
import type { Config } from './config';
import { boundedStreamConfig, ensureStream } from './storage-limits';
import { subjectMessages } from './subject-walk';
import type { Subjects } from './subjects';

/** A record is ~300 bytes; anything much larger is not one of ours. */
export const ROLLUP_RECORD_MAX_BYTES = 2048;

export type RollupStreamConfig = Pick<Config, 'kvReplicas' | 'rollupsMaxAgeMs' | 'rollupsPerCheck' | 'rollupsMaxBytes'>;

export function rollupStreamConfig(s: Subjects, cfg: RollupStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return boundedStreamConfig({ name: s.rollupStream(), subject: s.rollupWildcard(), perSubject: cfg.rollupsPerCheck, maxAgeMs: cfg.rollupsMaxAgeMs, maxBytes: cfg.rollupsMaxBytes, replicas: cfg.kvReplicas, maxMsgBytes: ROLLUP_RECORD_MAX_BYTES });
}

export async function ensureRollupStream(jsm: JetStreamManager, s: Subjects, cfg: RollupStreamConfig): Promise<void> {
  await ensureStream(jsm, rollupStreamConfig(s, cfg), 'LOOKOUT_ROLLUPS_MAX_BYTES');
}

export interface RollupRecords {
  /** Every retained record of `id`, oldest first (at most `max`). */
  of(id: string): Promise<RollupRecord[]>;
  purge(id: string): Promise<void>;
}

export function streamRollupRecords(jsm: JetStreamManager, s: Subjects, max: number): RollupRecords {
  const stream = s.rollupStream();
  return {
    async of(id) {
      const out: RollupRecord[] = [];
      for (const m of await subjectMessages(jsm, stream, s.rollup(id), { max })) {
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
      await jsm.streams.purge(stream, { filter: s.rollup(id) });
    },
  };
}
