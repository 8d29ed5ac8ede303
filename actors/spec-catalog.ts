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
  /**
   * The entries, by shard then id: one table per held shard, and no second one keyed by id across
   * shards (a get hashes the id to its shard). At 100k specs a node-wide map of them and a set of ids
   * per shard were 6 MB (BENCHMARKS.md §2).
   */
  private readonly byShard = new Map<number, Map<string, CatalogEntry>>();
  private count = 0;
  /** Byte order of the ids, kept incrementally for the list (protocol/sorted-ids.ts). */
  private readonly sorted = new SortedIds();
  private changes = 0;

  constructor(readonly shardCount: number) {}

  get size(): number {
    return this.count;
  }

  /** Bumped by every change: what was derived from the catalog at one version still holds at it. */
  get version(): number {
    return this.changes;
  }

  get(id: string): CatalogEntry | undefined {
    return this.byShard.get(this.shardOf(id))?.get(id);
  }

  shardOf(id: string): number {
    return shardOf(id, this.shardCount);
  }

  /** Returns false when the entry is not newer than what is held (replayed watch entries). */
  set(spec: NormalizedSpec, revision: number): boolean {
    const shard = this.shardOf(spec.id);
    let entries = this.byShard.get(shard);
    const prev = entries?.get(spec.id);
    if (prev && prev.revision >= revision) return false;
    if (!entries) this.byShard.set(shard, (entries = new Map()));
    entries.set(spec.id, { spec, revision });
    this.changes++;
    if (!prev) {
      this.count++;
      this.sorted.add(spec.id);
    }
    return true;
  }

  delete(id: string): boolean {
    if (!this.byShard.get(this.shardOf(id))?.delete(id)) return false;
    this.count--;
    this.changes++;
    this.sorted.delete(id);
    return true;
  }

  /** Forgets every spec of one shard (a node that no longer owns it); returns how many. */
  dropShard(shard: number): number {
    const entries = this.byShard.get(shard);
    if (!entries) return 0;
    this.changes++;
    for (const id of entries.keys()) this.sorted.delete(id);
    this.count -= entries.size;
    this.byShard.delete(shard);
    return entries.size;
  }

  /** How many specs of one shard are held. */
  countInShard(shard: number): number {
    return this.byShard.get(shard)?.size ?? 0;
  }

  /** Specs of one shard. */
  inShard(shard: number): NormalizedSpec[] {
    const entries = this.byShard.get(shard);
    if (!entries) return [];
    const out: NormalizedSpec[] = [];
    for (const e of entries.values()) out.push(e.spec);
    return out;
  }

  /** Ids in byte order, after `after` (exclusive), at most `limit`. */
  page(after: string | null, limit: number): { ids: string[]; next: string | null } {
    return this.sorted.page(() => this.ids(), after, limit);
  }

  private *ids(): IterableIterator<string> {
    for (const entries of this.byShard.values()) yield* entries.keys();
  }
}
