// This node's view of the specs of the shards it holds (actors/shard-specs.ts: one filtered watch
// per held shard): the source the shard owner reads when it gains shards. Indexed by shard so
// gaining a shard costs the checks in it, and dropping one forgets them.

import type { NormalizedSpec } from '../checks/spec';
import { shardOf } from '../protocol/hash';
import { SortedIds } from '../protocol/sorted-ids';

export interface CatalogEntry {
  spec: NormalizedSpec;
  revision: number;
}

export class SpecCatalog {
  private readonly byId = new Map<string, CatalogEntry>();
  private readonly byShard = new Map<number, Set<string>>();
  /** Byte order of the ids, kept incrementally for the list (protocol/sorted-ids.ts). */
  private readonly sorted = new SortedIds();
  private changes = 0;

  constructor(readonly shardCount: number) {}

  get size(): number {
    return this.byId.size;
  }

  /** Bumped by every change: what was derived from the catalog at one version still holds at it. */
  get version(): number {
    return this.changes;
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
    this.changes++;
    if (!prev) {
      const shard = this.shardOf(spec.id);
      let ids = this.byShard.get(shard);
      if (!ids) this.byShard.set(shard, (ids = new Set()));
      ids.add(spec.id);
      this.sorted.add(spec.id);
    }
    return true;
  }

  delete(id: string): boolean {
    if (!this.byId.delete(id)) return false;
    this.changes++;
    this.byShard.get(this.shardOf(id))?.delete(id);
    this.sorted.delete(id);
    return true;
  }

  /** Forgets every spec of one shard (a node that no longer owns it); returns how many. */
  dropShard(shard: number): number {
    const ids = this.byShard.get(shard);
    if (!ids) return 0;
    this.changes++;
    for (const id of ids) {
      this.byId.delete(id);
      this.sorted.delete(id);
    }
    this.byShard.delete(shard);
    return ids.size;
  }

  /** How many specs of one shard are held. */
  countInShard(shard: number): number {
    return this.byShard.get(shard)?.size ?? 0;
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
    return this.sorted.page(() => this.byId.keys(), after, limit);
  }
}
