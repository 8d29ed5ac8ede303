// Reading every retained message of one subject of a stream, oldest first, one direct get each
// (`next_by_subj` from the last sequence read). Streams keep a bounded number per subject
// (max_msgs_per_subject), so a walk is bounded too; `max` and `beforeSeq` bound it further. Used by
// the result history (a vantage's last result when the newest is another's), the state API (a
// check's retained results and verdict changes) and the rollups.

import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';

export async function subjectMessages(jsm: JetStreamManager, stream: string, subject: string, bound: { max?: number; beforeSeq?: number } = {}): Promise<StoredMsg[]> {
  const max = bound.max ?? Number.MAX_SAFE_INTEGER;
  const beforeSeq = bound.beforeSeq ?? Number.MAX_SAFE_INTEGER;
  const out: StoredMsg[] = [];
  for (let seq = 0; out.length < max; ) {
    const m = await jsm.direct.getMessage(stream, { next_by_subj: subject, seq: seq + 1 });
    if (!m || m.seq >= beforeSeq) break;
    out.push(m);
    seq = m.seq;
  }
  return out;
}
