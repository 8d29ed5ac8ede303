// Shard assignment, the map under construction (see assignment.ts for the algorithm): member
// indexes instead of node ids, the previous map read into the same form, the owner table the
// steps fill in, and the small questions every step asks of it (is u already in this row? may u
// take this slot? a stable hash to break ties). Also the input checks shared with the movement
// bound (assignment-moves.ts).

import { fnv1a32 } from './hash';
import type { ShardMap } from './records';

export const UNOWNED = -1;
// Bound once: global lookups are slow inside vm contexts (jest), and mix() is on the hot path.
const imul = Math.imul;

export function checkCounts(shardCount: number, vantagePoints: number): void {
  if (!Number.isSafeInteger(shardCount) || shardCount < 0) throw new RangeError(`shardCount must be a non-negative integer, got ${shardCount}`);
  if (!Number.isSafeInteger(vantagePoints) || vantagePoints < 1) throw new RangeError(`vantagePoints must be a positive integer, got ${vantagePoints}`);
}

export function normalizeMembers(members: readonly string[]): string[] {
  return [...new Set(members.filter((m) => typeof m === 'string'))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** prevOwner[k][s] = member index of the previous rank-k owner of shard s, or UNOWNED. */
export function readPrev(prev: ShardMap | null, nodes: readonly string[], shardCount: number, ranks: number): Int32Array[] {
  const out = Array.from({ length: ranks }, () => new Int32Array(shardCount).fill(UNOWNED));
  if (!Array.isArray(prev) || prev.length !== shardCount) return out;
  const index = new Map(nodes.map((id, u) => [id, u]));
  for (let s = 0; s < shardCount; s++) {
    const row: unknown = prev[s];
    if (!Array.isArray(row)) continue;
    for (let k = 0; k < Math.min(ranks, row.length); k++) {
      const u = typeof row[k] === 'string' ? index.get(row[k]) : undefined;
      if (u !== undefined) out[k][s] = u;
    }
  }
  return out;
}

/** 32-bit finalizer (murmur3 fmix32): a stable, well-spread hash of an integer. */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The map under construction, as member indexes: owner[k][s]. */
export class Plan {
  readonly owner: Int32Array[];
  readonly nodeHash: Uint32Array;
  /** How many ranks so far gave each member base+1 slots (assignment-quotas.ts keeps it). */
  readonly extras: Int32Array;
  readonly n: number;
  /** Every member holds base or base+1 slots at each rank; `extra` of them hold base+1. */
  readonly base: number;
  readonly extra: number;
  /** 1 for a member relieved of primary slots (overloaded: overload-relief.ts). */
  private readonly light: Uint8Array;
  /** How many members are relieved (0 when all of them would be: then nobody is). */
  readonly relieved: number;

  constructor(
    readonly nodes: readonly string[],
    readonly prevOwner: Int32Array[],
    readonly S: number,
    readonly ranks: number,
    relieved: readonly string[] = [],
  ) {
    this.n = nodes.length;
    this.base = Math.floor(S / this.n);
    this.extra = S % this.n;
    this.owner = Array.from({ length: ranks }, () => new Int32Array(S).fill(UNOWNED));
    this.nodeHash = Uint32Array.from(nodes, (id) => mix(fnv1a32(id)));
    this.extras = new Int32Array(this.n);
    const wanted = new Set(relieved);
    this.light = Uint8Array.from(nodes, (id) => (wanted.has(id) ? 1 : 0));
    const count = this.light.reduce((a, x) => a + x, 0);
    if (count === this.n) this.light.fill(0);
    this.relieved = count === this.n ? 0 : count;
  }

  /** Member u is relieved of primary slots: the balancing safety nets leave its counts as they are. */
  isRelieved(u: number): boolean {
    return this.light[u] === 1;
  }

  toMap(): ShardMap {
    return Array.from({ length: this.S }, (_, s) => this.owner.map((row) => this.nodes[row[s]]));
  }

  /** Counts per rank and member, and totals per member. */
  tally(): { per: Int32Array[]; total: Int32Array } {
    const per = this.owner.map((row) => {
      const c = new Int32Array(this.n);
      for (const u of row) c[u]++;
      return c;
    });
    const total = new Int32Array(this.n);
    for (const c of per) c.forEach((x, u) => (total[u] += x));
    return { per, total };
  }

  inRow(s: number, u: number): boolean {
    for (let j = 0; j < this.ranks; j++) if (this.owner[j][s] === u) return true;
    return false;
  }

  /** Member u holds a rank below k of shard s. */
  holds(s: number, u: number, k: number): boolean {
    for (let j = 0; j < k; j++) if (this.owner[j][s] === u) return true;
    return false;
  }

  /** u may take rank k of shard s: not already in the row, and (if asked) not a previous higher-rank owner. */
  free(s: number, u: number, k: number, avoidReserved: boolean): boolean {
    if (this.holds(s, u, k)) return false;
    if (avoidReserved) for (let j = k + 1; j < this.ranks; j++) if (this.prevOwner[j][s] === u) return false;
    return true;
  }

  shardKey(s: number, k: number): number {
    return mix(imul(s, 0x9e3779b1) + imul(k, 0x85ebca77));
  }

  /** Stable pseudo-random rank of member u for slot (s, k): spreads ties without favouring any id. */
  slotHash(s: number, k: number, u: number): number {
    return mix(this.nodeHash[u] ^ this.shardKey(s, k));
  }
}
