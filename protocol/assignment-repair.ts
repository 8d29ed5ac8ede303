// Shard assignment, steps 4 and 5 (see assignment.ts): the repairs when keep and fill alone cannot
// meet the quotas, and the safety nets that restore balance after the last resort.
//
//   augment      — a chain s0 → v1, v1's slot → v2, ... → a member under quota (BFS, shortest
//                  first). Over this pass's fills only, it costs no move; over kept slots, one
//                  extra move per kept slot on the chain.
//   overfill     — last resort: the least loaded member not in the row takes the slot over quota.
//   balanceTotals, balanceRanks — no-ops unless overfill ran (seen only with fewer than two shards
//                  per member, or with relieved members): hand slots from the fullest to the emptiest
//                  member, then swap ranks inside rows, until totals and every rank are balanced
//                  again. Relieved members (overload-relief.ts) are left out of both: they hold
//                  fewer primary slots by design. Each step lowers a
//                  sum of squares, so both end; rows keep their distinct owners throughout.

import { UNOWNED, type Plan } from './assignment-plan';

/**
 * BFS for a chain s0 → v1, v1's slot → v2, ... → a member under quota, and applies the shortest.
 * With `fresh`, only slots filled in this pass are shifted and reservations are respected (no
 * extra move); without, any slot of this rank may shift (one extra move per kept slot).
 */
export function augment(plan: Plan, s0: number, k: number, need: Int32Array, fresh: Uint8Array | null): boolean {
  const { n, S } = plan;
  const row = plan.owner[k];
  const slotsOf: number[][] = Array.from({ length: n }, () => []);
  for (let s = 0; s < S; s++) if (row[s] !== UNOWNED && (fresh === null || fresh[s])) slotsOf[row[s]].push(s);
  const viaSlot = new Int32Array(n).fill(UNOWNED);
  const viaNode = new Int32Array(n).fill(UNOWNED);
  const queue: number[] = [];
  const reach = (v: number, s: number, from: number): boolean => {
    if (viaSlot[v] !== UNOWNED || !plan.free(s, v, k, fresh !== null)) return false;
    viaSlot[v] = s;
    viaNode[v] = from;
    queue.push(v);
    if (need[v] <= 0) return false;
    need[v]--;
    for (let u = v; u !== UNOWNED; u = viaNode[u]) row[viaSlot[u]] = u;
    return true;
  };
  for (let v = 0; v < n; v++) if (reach(v, s0, UNOWNED)) return true;
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    for (const s of slotsOf[v]) for (let w = 0; w < n; w++) if (reach(w, s, v)) return true;
  }
  return false;
}

/** Last resort: the least loaded member not in the row takes the slot over quota. */
export function overfill(plan: Plan, s: number, k: number): void {
  const row = plan.owner[k];
  const load = new Int32Array(plan.n);
  for (const u of row) if (u !== UNOWNED) load[u]++;
  let best = UNOWNED;
  for (let v = 0; v < plan.n; v++) {
    if (plan.holds(s, v, k)) continue;
    if (best === UNOWNED || load[v] < load[best]) best = v;
  }
  row[s] = best; // k < ranks <= n, so some member is not in the row
}

/**
 * Safety net after an over-quota fill: while totals differ by more than one, hand one slot of
 * the most loaded member to the least loaded one (a row holding the first but not the second
 * always exists), at the rank where the first is most over the second.
 */
export function balanceTotals(plan: Plan): void {
  const { per, total } = plan.tally();
  for (;;) {
    // Relieved members hold fewer by design: balance the others among themselves.
    let hi = UNOWNED;
    let lo = UNOWNED;
    for (let u = 0; u < plan.n; u++) {
      if (plan.isRelieved(u)) continue;
      if (hi === UNOWNED || total[u] > total[hi]) hi = u;
      if (lo === UNOWNED || total[u] < total[lo]) lo = u;
    }
    if (hi === UNOWNED || total[hi] - total[lo] <= 1) return;
    let best = { s: UNOWNED, k: 0, score: 0, tie: 0 };
    for (let k = 0; k < plan.ranks; k++) {
      const score = per[k][hi] - per[k][lo];
      for (let s = 0; s < plan.S; s++) {
        if (plan.owner[k][s] !== hi || plan.inRow(s, lo)) continue;
        const tie = plan.shardKey(s, k);
        if (best.s === UNOWNED || score > best.score || (score === best.score && tie < best.tie)) best = { s, k, score, tie };
      }
    }
    plan.owner[best.k][best.s] = lo;
    per[best.k][hi]--;
    per[best.k][lo]++;
    total[hi]--;
    total[lo]++;
  }
}

/**
 * Safety net for rank balance: while a member holds rank a at least two more times than rank b,
 * swap a and b inside rows along the shortest chain v →(a|b) x1 →(a|b) ... → w that ends at a
 * member holding b more often than a. Rows keep their owners; only ranks change; each swap
 * strictly lowers the sum of squared counts, so this ends. Balanced totals plus every member
 * within one across its ranks is exactly "every rank balanced".
 */
export function balanceRanks(plan: Plan): void {
  const { per } = plan.tally();
  for (;;) {
    const gap = findGap(plan, per);
    if (gap === null) return;
    const { v, a, b } = gap;
    const rowsAt: number[][] = Array.from({ length: plan.n }, () => []);
    plan.owner[a].forEach((u, s) => rowsAt[u].push(s));
    const via = new Int32Array(plan.n).fill(UNOWNED);
    const queue = [v];
    via[v] = plan.S; // visited, start of the chain
    let end = UNOWNED;
    for (let i = 0; i < queue.length && end === UNOWNED; i++) {
      for (const s of rowsAt[queue[i]]) {
        const w = plan.owner[b][s];
        if (via[w] !== UNOWNED) continue;
        via[w] = s;
        queue.push(w);
        if (per[b][w] > per[a][w] && !plan.isRelieved(w)) {
          end = w;
          break;
        }
      }
    }
    if (end === UNOWNED) return; // only with relieved members (they never end a chain): leave it
    for (let w = end; w !== v; ) {
      const s = via[w];
      const x = plan.owner[a][s];
      plan.owner[a][s] = w;
      plan.owner[b][s] = x;
      w = x;
    }
    per[a][v]--;
    per[b][v]++;
    per[a][end]++;
    per[b][end]--;
  }
}

/** A member v and ranks a, b where v holds a at least two more times than b, or null. */
function findGap(plan: Plan, per: Int32Array[]): { v: number; a: number; b: number } | null {
  for (let v = 0; v < plan.n; v++) {
    if (plan.isRelieved(v)) continue; // fewer primaries by design
    let a = 0;
    let b = 0;
    for (let k = 1; k < plan.ranks; k++) {
      if (per[k][v] > per[a][v]) a = k;
      if (per[k][v] < per[b][v]) b = k;
    }
    if (per[a][v] - per[b][v] >= 2) return { v, a, b };
  }
  return null;
}
