// The assignment map as stored and published: who owns which shard, under which term and epoch,
// and the rule a node applies before it follows a map. Pure.
//
// Fencing: a node remembers the highest leader term it has seen (from the lease key and from maps)
// and ignores a map stamped with an older term, so a deposed leader that wakes up cannot move
// shards. Among maps of one term, only a higher epoch is news. Epochs increase across terms too:
// each new leader continues from the last stored map's epoch. The record itself is in records.ts.

import type { AssignmentRecord } from './records';

/** A slot this node holds: the shard and its rank there. */
export interface Slot {
  shard: number;
  rank: number;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

export function parseAssignment(raw: unknown, shardCount: number): AssignmentRecord | null {
  const r = raw as Partial<AssignmentRecord> | null;
  if (!r || !isInt(r.term) || !isInt(r.epoch) || !isInt(r.at) || typeof r.leader !== 'string') return null;
  if (!Array.isArray(r.members) || !r.members.every((m) => typeof m === 'string')) return null;
  if (!Array.isArray(r.shards) || r.shards.length !== shardCount) return null;
  if (!r.shards.every((o) => Array.isArray(o) && o.every((n) => typeof n === 'string'))) return null;
  if (r.damped !== undefined && !(Array.isArray(r.damped) && r.damped.every((m) => typeof m === 'string'))) return null;
  // relieved is display and inheritance only: a malformed one is dropped, never the map.
  const relieved = Array.isArray(r.relieved) && r.relieved.every((m) => typeof m === 'string') && r.relieved.length ? { relieved: r.relieved } : {};
  // So are the quarantine lists (a new leader inherits `quarantined`: quarantine-bound.ts).
  const names = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((m) => typeof m === 'string');
  const quarantine = { ...(names(r.quarantined) ? { quarantined: r.quarantined } : {}), ...(names(r.quarantineRefused) ? { quarantineRefused: r.quarantineRefused } : {}) };
  return { term: r.term, epoch: r.epoch, leader: r.leader, at: r.at, members: r.members, shards: r.shards, ...(r.damped?.length ? { damped: r.damped } : {}), ...relieved, ...quarantine };
}

export function slotsOf(rec: AssignmentRecord, node: string): Slot[] {
  const out: Slot[] = [];
  rec.shards.forEach((owners, shard) => {
    const rank = owners.indexOf(node);
    if (rank >= 0) out.push({ shard, rank });
  });
  return out;
}

export type MapVerdict = 'accept' | 'stale_term' | 'not_newer';

export function judgeMap(current: Pick<AssignmentRecord, 'term' | 'epoch'> | null, maxTermSeen: number, rec: Pick<AssignmentRecord, 'term' | 'epoch'>): MapVerdict {
  if (rec.term < maxTermSeen) return 'stale_term';
  if (current && (rec.term < current.term || (rec.term === current.term && rec.epoch <= current.epoch))) return 'not_newer';
  return 'accept';
}
