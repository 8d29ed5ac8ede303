// Self-quarantine, the leader's side (issue 13 §3): which members that say `quarantined` in their
// heartbeat the map leaves out. A node quarantines itself when its probes disagree with the
// others' (quarantine.ts); but when many nodes disagree at once, the likelier story is that the
// targets are failing, not the nodes — so quarantine never takes more than a bounded fraction of
// the cluster out, and never a majority:
//
//   bound = min(⌊fraction × live⌋, ⌊(live − 1) / 2⌋)        live: members alive or suspect
//
// Members past the bound keep their shards and are reported `refused` (in the map, in
// cluster.status, `quarantine_refused`). Who is admitted is decided from heartbeats and the
// previous map only, never a wall clock: those admitted before stay admitted (sticky: no shards
// moving back and forth between two quarantined nodes), then the rest in node-id order. A new
// leader starts from the map's `quarantined` list. Pure.

/** Default fraction of the live members quarantine may take out (the majority cap applies too). */
export const QUARANTINE_MAX_FRACTION = 0.5;

export interface QuarantineCandidate {
  node: string;
  quarantined?: boolean;
}

export interface QuarantineAdmission {
  /** Held out of the map, sorted. */
  admitted: string[];
  /** Say quarantined, but past the bound: they keep their shards. Sorted. */
  refused: string[];
}

export const NO_QUARANTINE: QuarantineAdmission = { admitted: [], refused: [] };

/** How many of `live` members may be quarantined at once. */
export function quarantineBound(live: number, fraction: number): number {
  if (live <= 0 || !(fraction > 0)) return 0;
  return Math.max(0, Math.min(Math.floor(fraction * live + 1e-9), Math.floor((live - 1) / 2)));
}

const byId = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Which of the live members that say quarantined are held out of the map. `previous`: those
 * admitted until now (kept first, in id order, as far as the bound allows).
 */
export function admitQuarantined(previous: readonly string[], members: readonly QuarantineCandidate[], live: readonly string[], fraction: number): QuarantineAdmission {
  const liveSet = new Set(live);
  const candidates = members.filter((m) => m.quarantined === true && liveSet.has(m.node)).map((m) => m.node).sort(byId);
  if (candidates.length === 0) return NO_QUARANTINE;
  const bound = quarantineBound(liveSet.size, fraction);
  const wanted = new Set(candidates);
  const kept = [...new Set(previous)].filter((n) => wanted.has(n)).sort(byId);
  const order = [...kept, ...candidates.filter((n) => !kept.includes(n))];
  const admitted = order.slice(0, bound).sort(byId);
  const refused = candidates.filter((n) => !admitted.includes(n));
  return { admitted, refused };
}

/** What changed between two admissions, for the logs: newly admitted, newly refused, released (no longer held out). */
export function admissionChanges(before: QuarantineAdmission, after: QuarantineAdmission): { admitted: string[]; refused: string[]; released: string[] } {
  return {
    admitted: after.admitted.filter((n) => !before.admitted.includes(n)),
    refused: after.refused.filter((n) => !before.refused.includes(n)),
    released: before.admitted.filter((n) => !after.admitted.includes(n)),
  };
}
