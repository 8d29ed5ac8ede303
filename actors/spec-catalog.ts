// This node's view of every stored spec, fed by the spec bucket watch: the source the shard
// owner reads when it gains shards, and the spec API's list. Indexed by shard so gaining a shard
// costs the checks in it, not a scan of all checks.

import type { NormalizedSpec } from '../checks/spec';
import { shardOf } from '../protocol/hash';

export interface CatalogEntry {
  spec: NormalizedSpec;
  revision: number;
}

export class SpecCatalog {
  private readonly byId = new Map<string, CatalogEntry>();
  private readonly byShard = new Map<number, Set<string>>();
  private sorted: string[] | null = null;

  constructor(readonly shardCount: number) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): CatalogEntry | undefined {
    return this.byId.get(id);
  }

  shardOf(id: string): number {
    return shardOf(id, this.shardCount);
  }

  /** Returns false when the entry is not newer than what is held (replayed watch entries). */
  set(spec: NormalizedSpec, revision: number): boolean {
    const prev = this.byId.get(spec.id);
    if (prev && prev.revision >= revision) return false;
    this.byId.set(spec.id, { spec, revision });
    if (!prev) {
      const shard = this.shardOf(spec.id);
      let ids = this.byShard.get(shard);
      if (!ids) this.byShard.set(shard, (ids = new Set()));
      ids.add(spec.id);
      this.sorted = null;
    }
    return true;
  }

  delete(id: string): boolean {
    if (!this.byId.delete(id)) return false;
    this.byShard.get(this.shardOf(id))?.delete(id);
    this.sorted = null;
    return true;
  }

  /** Specs of one shard. */
  inShard(shard: number): NormalizedSpec[] {
    const ids = this.byShard.get(shard);
    if (!ids) return [];
    const out: NormalizedSpec[] = [];
    for (const id of ids) out.push(this.byId.get(id)!.spec);
    return out;
  }

  /** Ids in byte order, after `after` (exclusive), at most `limit`. */
  page(after: string | null, limit: number): { ids: string[]; next: string | null } {
    if (!this.sorted) this.sorted = [...this.byId.keys()].sort();
    const all = this.sorted;
    let lo = 0;
    if (after !== null) {
      let hi = all.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (all[mid]! <= after) lo = mid + 1;
        else hi = mid;
      }
    }
    const ids = all.slice(lo, lo + limit);
    const next = lo + limit < all.length ? ids[ids.length - 1]! : null;
    return { ids, next };
  }
}
