// An in-memory spec bucket: the spec API's store port (listed in byte order: the real store's
// shard order is runtime/shard-spec-store.ts's, tested on a real bucket) and the SpecFeedSource port
// over one map, with KV's revision numbering (one sequence for the bucket), a watch that replays
// the current values and then follows changes, and a tail of every change from a revision on.
// `fail` makes every call reject.

import type { CheckSpec } from '../../checks/spec';
import type { StoredSpec } from '../../runtime/store';
import type { ShardedSpecStore, SpecPage } from '../../runtime/shard-spec-store';
import { firstAfter } from '../../protocol/sorted-ids';
import type { SpecChange, SpecFeedSource, SpecWatch } from '../../runtime/spec-watch';

export class FakeSpecBucket implements ShardedSpecStore, SpecFeedSource {
  private readonly values = new Map<string, { raw: string; revision: number }>();
  private revision = 0;
  private readonly watchers = new Set<(c: SpecChange) => void>();
  /** Every change in order, deletes too (the stream a tail reads from). */
  private readonly history: { key: string; revision: number; deleted: boolean; raw: string }[] = [];
  fail: Error | null = null;

  async put(id: string, spec: CheckSpec): Promise<number> {
    return this.putRaw(id, JSON.stringify(spec));
  }

  /** Store any bytes under a key (a write that bypassed the API). */
  putRaw(id: string, raw: string): number {
    if (this.fail) throw this.fail;
    const revision = ++this.revision;
    this.values.set(id, { raw, revision });
    this.emit({ key: id, revision, deleted: false, raw });
    return revision;
  }

  async delete(id: string): Promise<boolean> {
    if (this.fail) throw this.fail;
    if (!this.values.delete(id)) return false;
    this.emit({ key: id, revision: ++this.revision, deleted: true, raw: '' });
    return true;
  }

  async get(id: string): Promise<StoredSpec | null> {
    if (this.fail) throw this.fail;
    const v = this.values.get(id);
    return v ? { id, spec: JSON.parse(v.raw) as CheckSpec, revision: v.revision } : null;
  }

  get size(): number {
    return this.values.size;
  }

  async list(after: string | null, limit: number): Promise<SpecPage> {
    if (this.fail) throw this.fail;
    const all = [...this.values.keys()].sort();
    const from = after === null ? 0 : firstAfter(all, after);
    const ids = all.slice(from, from + limit);
    return { ids, next: from + ids.length < all.length ? ids[ids.length - 1]! : null };
  }

  /** The last revision written (the stream's last sequence). */
  lastSeq(): number {
    return this.revision;
  }

  async count(): Promise<number> {
    return this.values.size;
  }

  async watch(): Promise<SpecWatch> {
    const initial = [...this.values.entries()];
    return this.follow(initial.map(([key, v], i) => change({ key, revision: v.revision, deleted: false, raw: v.raw }, i === initial.length - 1)));
  }

  /** Every change from revision `from` on (deletes too), then every new one: a tail. */
  async tail(from: number): Promise<SpecWatch> {
    return this.follow(this.history.filter((c) => c.revision >= from).map((c) => change(c, true)));
  }

  private follow(first: SpecChange[]): SpecWatch {
    const queue: SpecChange[] = [...first];
    let wake: (() => void) | null = null;
    let stopped = false;
    const push = (c: SpecChange) => {
      queue.push(c);
      wake?.();
    };
    this.watchers.add(push);
    const self = this;
    async function* changes(): AsyncGenerator<SpecChange> {
      while (!stopped) {
        const next = queue.shift();
        if (next) yield next;
        else await new Promise<void>((r) => (wake = r));
      }
    }
    return {
      changes: changes(),
      stop: () => {
        stopped = true;
        self.watchers.delete(push);
        wake?.();
      },
    };
  }

  private emit(c: { key: string; revision: number; deleted: boolean; raw: string }): void {
    this.history.push(c);
    for (const w of this.watchers) w(change(c, true));
  }
}

function change(c: { key: string; revision: number; deleted: boolean; raw: string }, initialDone: boolean): SpecChange {
  return {
    key: c.key,
    revision: c.revision,
    deleted: c.deleted,
    initialDone,
    json: () => {
      try {
        return JSON.parse(c.raw);
      } catch {
        return undefined;
      }
    },
  };
}
