// Where each held shard's specs come from (actors/shard-specs.ts sourceOf): shards asked for in
// one turn of the event loop — a node's first assignment, or the not-yet-loaded shards restarted
// after a reconnect (ShardSpecs.restartAll) — share one snapshot of the bucket when there are at
// least SNAPSHOT_MIN_SHARDS of them, each then followed by a tail from the snapshot's sequence + 1
// (runtime/spec-snapshot.ts); fewer, a shard gained later on its own, or a retry after a failed
// attempt load on a watch of their own (deliver last per subject). A snapshot that fails or stalls
// is logged and read again for the same shards; after SNAPSHOT_TRIES failures they load on
// watches of their own. One snapshot is read at a time: shards asked for while one is read (the
// next maps of a start that churns) wait for it and share the next — at 1M specs each read is the
// whole bucket (~200 MB), and a read per map (1,071 over 10 nodes in one run) kept the server too
// busy to finish any (BENCHMARKS.md §16). A loaded shard restarted after a
// reconnect is only a tail from the sequence after its last applied change (resumeOf).
//
// A shard's count waits for its batch's snapshot (not bounded by the load places: the snapshot is
// one read); its watch replays the kept entries without a place among the load places (`local`),
// so the shards of a snapshot all load at once, and then opens its tail (`ports.tail`: on a node,
// a follower of its one spec tail, runtime/node-spec-tail.ts), at most `places` being opened at
// once. `settled` resolves once no tail is being opened (close the connection after).

import type { Logger } from './logger';
import { loadThenTail, snapshotThenTail, type SnapshotEntry, type SpecSnapshot } from './spec-snapshot';
import type { SpecFeedSource, SpecWatch } from './spec-watch';

/** Shards asked for in one turn from which they share a snapshot (fewer: a watch each). */
export const SNAPSHOT_MIN_SHARDS = 16;
/**
 * Tries at a snapshot before its shards load on watches of their own. A failed snapshot is read
 * again (after SNAPSHOT_RETRY_MS, doubled per failure) for the same shards, whose counts wait: a
 * watch of its own per shard (deliver last per subject) costs the server time proportional to the
 * stream each, which is what overloaded a busy server (BENCHMARKS.md §16).
 */
export const SNAPSHOT_TRIES = 3;
export const SNAPSHOT_RETRY_MS = 1_000;

export interface ShardSourcePorts {
  /** A shard's own source: its count, then a watch of its latest values and changes. */
  perShard(shard: number): SpecFeedSource;
  /** A watch of one shard's messages from stream sequence `from` on. */
  tail(shard: number, from: number): Promise<SpecWatch>;
  /** The bucket's latest values, the entries of `shards` kept. */
  snapshot(shards: ReadonlySet<number>): Promise<SpecSnapshot>;
  /** The bucket's last stream sequence now (an empty shard is followed from the one after it). */
  lastSeq(): Promise<number>;
}

/** Bounds concurrent tail creations (actors/shard-load.ts Places). */
export interface TailPlaces {
  acquire(): Promise<() => void>;
}

/** A snapshot read, and how many attempts of each of its shards have still to take their entries. */
interface Read {
  snap: SpecSnapshot;
  waiting: Map<number, number>;
}

/** Shards asked for together (each with its attempts), and the read they get (null: none). */
interface Batch {
  shards: Map<number, number>;
  resolve: (s: Promise<Read | null>) => void;
  read: Promise<Read | null>;
}

function newBatch(): Batch {
  let resolve: (s: Promise<Read | null>) => void = () => {};
  const read = new Promise<Read | null>((r) => (resolve = r));
  return { shards: new Map(), resolve, read };
}

export class ShardSources {
  /** The shards asked for in this turn of the event loop. */
  private turn: Batch | null = null;
  /** The snapshot being read (with its retries), and the batch waiting for it to end. */
  private reading: Promise<unknown> | null = null;
  private next: Batch | null = null;

  private readonly opening = new Set<Promise<unknown>>();

  constructor(
    private readonly ports: ShardSourcePorts,
    private readonly log: Logger,
    private readonly places: TailPlaces,
    readonly minShards = SNAPSHOT_MIN_SHARDS,
  ) {}

  /** Resolves once no tail is being created. */
  async settled(): Promise<void> {
    while (this.opening.size > 0) await Promise.allSettled([...this.opening]);
  }

  /** Opens a tail in one of the places; tracked from the wait for a place on (settled waits for it). */
  private openTail(shard: number, from: number): Promise<SpecWatch> {
    const p = (async () => {
      const free = await this.places.acquire();
      try {
        return await this.ports.tail(shard, from);
      } finally {
        free();
      }
    })();
    this.opening.add(p);
    const done = () => this.opening.delete(p);
    p.then(done, done);
    return p;
  }

  /** The source of one attempt at `shard`. */
  sourceOf(shard: number): SpecFeedSource {
    const own = this.ports.perShard(shard);
    const batch = this.join(shard);
    let snap: SpecSnapshot | null = null;
    let entries: SnapshotEntry[] = [];
    // An empty shard (no snapshot): complete at the bucket's last sequence read before its count.
    let emptyAt: number | null = null;
    const openTail = (from: number) => this.openTail(shard, from);
    return {
      get local() {
        return snap !== null || emptyAt !== null;
      },
      count: async () => {
        const read = await batch.read;
        if (read) {
          snap = read.snap;
          entries = take(read, shard);
          return entries.filter((e) => !e.deleted).length;
        }
        const seq = await this.ports.lastSeq();
        const n = await own.count();
        if (n === 0) emptyAt = seq;
        return n;
      },
      watch: async () => {
        if (emptyAt !== null) return this.resumeOf(shard, emptyAt + 1).watch();
        if (!snap) return loadThenTail(await own.watch(), openTail);
        const mine = entries;
        entries = [];
        return snapshotThenTail(mine, snap.seq, openTail);
      },
    };
  }

  /**
   * Only a shard's changes from stream sequence `from` on, on a tail like a snapshot's: a shard
   * resumed after a reconnect (actors/shard-specs.ts restartAll), or an empty one. Nothing to load
   * (`count` 0, read from memory: no load place); the tail is opened in one of the tail places.
   */
  resumeOf(shard: number, from: number): SpecFeedSource {
    return {
      local: true,
      count: async () => 0,
      watch: async () => snapshotThenTail([], from - 1, (at) => this.openTail(shard, at)),
    };
  }

  /**
   * The batch `shard` is asked for in: this turn's. At the turn's end, fewer than minShards get no
   * snapshot (null: a watch each); more are read at once, or — a read being in flight — join the
   * batch that waits for it (the shards asked for meanwhile, read together next).
   */
  private join(shard: number): Batch {
    if (!this.turn) {
      const t = (this.turn = newBatch());
      setImmediate(() => {
        if (this.turn === t) this.turn = null;
        t.resolve(t.shards.size >= this.minShards ? this.snapshotFor(t.shards) : Promise.resolve(null));
      });
    }
    this.turn.shards.set(shard, (this.turn.shards.get(shard) ?? 0) + 1);
    return this.turn;
  }

  /** The snapshot `shards` (each with its waiting attempts) are read in: now, or after the one in flight. */
  private snapshotFor(shards: Map<number, number>): Promise<Read | null> {
    if (!this.reading) return this.start(shards);
    if (!this.next) {
      const n = (this.next = newBatch());
      this.reading.then(() => {
        this.next = null;
        n.resolve(this.start(n.shards));
      });
    }
    for (const [shard, waiting] of shards) this.next.shards.set(shard, (this.next.shards.get(shard) ?? 0) + waiting);
    this.log.info({ event: 'spec_snapshot_queued', shards: shards.size, next: this.next.shards.size }, 'shards asked for while a spec snapshot is read wait for it and share the next');
    return this.next.read;
  }

  private start(shards: Map<number, number>): Promise<Read | null> {
    const p = this.read(new Set(shards.keys())).then((snap) => (snap ? { snap, waiting: shards } : null));
    const done = p.then(
      () => undefined,
      () => undefined,
    );
    this.reading = done;
    void done.then(() => {
      if (this.reading === done) this.reading = null;
    });
    return p;
  }

  private async read(shards: Set<number>): Promise<SpecSnapshot | null> {
    for (let tries = 1; ; tries++) {
      const t0 = performance.now();
      try {
        const snap = await this.ports.snapshot(shards);
        let kept = 0;
        for (const l of snap.entries.values()) kept += l.length;
        this.log.info({ event: 'spec_snapshot', shards: shards.size, kept, seq: snap.seq, policy: snap.policy, ms: Math.round(performance.now() - t0), tries }, "the specs of many shards read in one snapshot; each is followed from the snapshot's sequence on");
        return snap;
      } catch (err) {
        const last = tries >= SNAPSHOT_TRIES;
        const retryInMs = SNAPSHOT_RETRY_MS * 2 ** (tries - 1);
        this.log.warn({ event: 'spec_snapshot_failed', err, shards: shards.size, tries, ...(last ? {} : { retryInMs }) }, last ? 'the spec snapshot failed again; its shards load on watches of their own' : 'the spec snapshot failed; it is read again for the same shards');
        if (last) return null;
        await new Promise((r) => setTimeout(r, retryInMs));
      }
    }
  }
}

/**
 * One attempt's entries of `shard` from its batch's snapshot; the snapshot lets go of them once the
 * last attempt waiting for them has taken them (the catalog holds the specs: kept, they would double).
 */
function take({ snap, waiting }: Read, shard: number): SnapshotEntry[] {
  const entries = snap.entries.get(shard) ?? [];
  const left = (waiting.get(shard) ?? 1) - 1;
  if (left > 0) waiting.set(shard, left);
  else {
    waiting.delete(shard);
    snap.entries.delete(shard);
  }
  return entries;
}
