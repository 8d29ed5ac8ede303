// A heartbeat as received from the bus (actors/membership.ts), checked field by field before the
// failure detector sees it: any node, or anything else that can publish on the internal subject,
// may send one, and a malformed one must cost that heartbeat only.

import { parseGroups } from './panic-groups';
import type { Heartbeat } from './records';
import { parseVerdictCounts } from './verdict-counts';

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** A heartbeat as received from the bus, checked field by field (a malformed required field: null). */
export function parseHeartbeat(raw: unknown): Heartbeat | null {
  const h = raw as Partial<Heartbeat> | null;
  if (typeof h !== 'object' || h === null) return null;
  if (typeof h.node !== 'string' || h.node.length === 0 || h.node.length > 64) return null;
  if (typeof h.instance !== 'string' || h.instance.length === 0 || h.instance.length > 64) return null;
  if (!isCount(h.incarnation) || !isCount(h.seq) || !isCount(h.shards) || !isCount(h.checks)) return null;
  if (typeof h.leaving !== 'boolean' || typeof h.version !== 'string' || typeof h.startedAt !== 'number') return null;
  const hb: Heartbeat = { node: h.node, instance: h.instance, startedAt: h.startedAt, incarnation: h.incarnation, seq: h.seq, version: h.version.slice(0, 32), shards: h.shards, checks: h.checks, leaving: h.leaving };
  // Optional (a rolling upgrade mixes versions): a missing or malformed sentAt costs the clock
  // estimate of that one heartbeat, never the heartbeat itself.
  if (typeof h.sentAt === 'number' && Number.isFinite(h.sentAt)) hb.sentAt = h.sentAt;
  // Optional too: absent or malformed reads as not overloaded, no lag known.
  if (h.overloaded === true) hb.overloaded = true;
  if (isCount(h.lagMs)) hb.lagMs = h.lagMs;
  if (h.quarantined === true) hb.quarantined = true;
  if (isCount(h.specs)) hb.specs = h.specs;
  const groups = h.groups === undefined ? null : parseGroups(h.groups);
  if (groups) hb.groups = groups;
  if (h.starting === true) hb.starting = true;
  else if (isCount(h.runningMs)) hb.runningMs = h.runningMs;
  const verdicts = h.verdicts === undefined ? null : parseVerdictCounts(h.verdicts);
  if (verdicts) hb.verdicts = verdicts;
  return hb;
}
