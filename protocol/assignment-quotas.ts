// Shard assignment, step 1 (see assignment.ts): how many slots each member gets at one rank (and,
// at rank 0, fewer for members relieved because they are overloaded: quotasAt, reliefQuotas).
//
// With n members and S shards, base = floor(S/n) and e = S mod n members get base+1 at this rank.
// Which ones:
//   - first those whose sticky holdings at this rank already exceed base (a balanced map stays
//     put: nobody has to give up a slot to make room for someone else's +1);
//   - then those with the fewest +1s at earlier ranks, then by member index (node id order);
//   - subject to a look-ahead that keeps every member's +1 count over all ranks within one of the
//     others', so totals stay balanced and the last rank is not forced out of balance (r = n).
//
// The look-ahead is exact, not a heuristic: a pick is allowed exactly when what the ranks after
// this one will hand out still lies between the members' summed minimums and capacities.

import type { Plan } from './assignment-plan';
import { RELIEF_SHARE } from './overload-relief';

/**
 * The quotas of rank k. With relieved members (overloaded: overload-relief.ts), rank 0 is split by
 * reliefQuotas and the ranks after it by the usual look-ahead over the ranks left; otherwise every
 * rank is rankQuotas'.
 */
export function quotasAt(plan: Plan, k: number, held: number[]): number[] {
  if (plan.relieved === 0) return rankQuotas(plan, k, held);
  if (k === 0) return reliefQuotas(plan, held);
  // Rank 0 handed out no +1 the look-ahead tracks: balance the +1s over the ranks after it.
  return rankQuotas({ n: plan.n, base: plan.base, extra: plan.extra, extras: plan.extras, ranks: plan.ranks - 1 }, k - 1, held);
}

/**
 * Rank 0 with relieved members: each keeps floor(base × RELIEF_SHARE) primary slots (base is the
 * fair share), and the others share the rest as rankQuotas shares a rank (base' or base'+1, the +1s
 * first to those already holding more, so a relieved map stays put). A relieved member may hold no
 * primary slot only when its fair share is under two; the others can always take rank 0 (no row
 * holds anybody yet).
 */
export function reliefQuotas(plan: Pick<Plan, 'n' | 'S' | 'base' | 'isRelieved'>, held: number[]): number[] {
  const light = Math.floor(plan.base * RELIEF_SHARE);
  const others: number[] = [];
  for (let u = 0; u < plan.n; u++) if (!plan.isRelieved(u)) others.push(u);
  const rest = plan.S - (plan.n - others.length) * light;
  const sub = { n: others.length, base: Math.floor(rest / others.length), extra: rest % others.length, extras: new Int32Array(others.length), ranks: 1 };
  const q = rankQuotas(sub, 0, others.map((u) => held[u]));
  const quota = new Array<number>(plan.n).fill(light);
  others.forEach((u, i) => (quota[u] = q[i]));
  return quota;
}

/**
 * Rank-k quotas: base for all, base+1 for `extra` members. `held[u]` is how many of rank k's slots
 * member u may keep from the previous map. Records the +1s it hands out in `plan.extras`.
 */
export function rankQuotas(plan: Pick<Plan, 'n' | 'base' | 'extra' | 'extras' | 'ranks'>, k: number, held: number[]): number[] {
  const { n, base, extra: e, extras } = plan;
  const quota = new Array<number>(n).fill(base);
  if (e === 0) return quota;
  const lo = Math.floor((plan.ranks * e) / n);
  const hi = Math.ceil((plan.ranks * e) / n);
  const t = plan.ranks - k; // ranks left, this one included
  const need = (u: number) => Math.max(0, lo - extras[u]);
  const cap = (u: number) => hi - extras[u];
  // Picking u must leave a feasible future: sum of minimums <= (t-1)e <= sum of capacities.
  // That test is exact: with e picks per rank, any per-member counts in [minimum, capacity]
  // (capacity <= ranks left) with the right sum can be realised (Gale–Ryser).
  let mustL = -(t - 1) * e;
  let allowK = -(t - 1) * e;
  for (let u = 0; u < n; u++) {
    mustL += need(u);
    allowK += Math.min(t - 1, cap(u));
  }
  const kind = (u: number) => ({ l: need(u) > 0, k: cap(u) <= t - 1, forced: need(u) >= t });
  const pool = { lf: 0, lk: 0, nf: 0, nk: 0, forced: 0 };
  const tally = (u: number, sign: number) => {
    const c = kind(u);
    if (c.forced) pool.forced += sign;
    if (c.l && c.k) pool.lk += sign;
    else if (c.l) pool.lf += sign;
    else if (c.k) pool.nk += sign;
    else pool.nf += sign;
  };
  const candidates: number[] = [];
  for (let u = 0; u < n; u++) {
    if (cap(u) < 1) continue;
    candidates.push(u);
    tally(u, 1);
  }
  const feasible = (picks: number, needL: number, roomK: number) => {
    if (pool.forced > picks) return false;
    const lf = Math.min(picks, pool.lf);
    const lk = Math.max(0, needL - lf);
    if (lk > Math.min(picks - lf, pool.lk)) return false;
    const rest = picks - lf - lk - Math.min(picks - lf - lk, pool.nf);
    return rest <= pool.lk - lk + pool.nk && lk + rest <= roomK;
  };
  const sticky = (u: number) => (held[u] > base ? 0 : 1);
  candidates.sort((a, b) => sticky(a) - sticky(b) || extras[a] - extras[b] || held[b] - held[a] || a - b);
  let left = e;
  for (const u of candidates) {
    if (left === 0) break;
    const c = kind(u);
    tally(u, -1);
    if (feasible(left - 1, mustL - (c.l ? 1 : 0), allowK - (c.k ? 1 : 0))) {
      left--;
      if (c.l) mustL--;
      if (c.k) allowK--;
      quota[u]++;
    }
  }
  for (let u = 0; u < n; u++) extras[u] += quota[u] - base;
  return quota;
}
