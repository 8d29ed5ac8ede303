// One attempt at loading and following one shard's specs (actors/shard-specs.ts retries it): the
// shard's values are counted, its watch is created in one of the node's bounded places, and a load
// that stalls is given up.
//
//   count (one direct get, not bounded) ── 0 ──▶ loaded at once (spec-feed.ts followSpecs)
//   a place (Places: at most LOAD_CONCURRENCY watches created at once) ──▶ create the watch
//     (none for a source read from memory, runtime/shard-spec-sources.ts: it loads at once)
//   the place is freed once the shard is loaded and its watch exists, or the attempt ended
//   not loaded LOAD_STALL_MS after it got its place ──▶ the attempt ends (`stalled`): the caller
//     starts another. An ordered consumer that lost messages across a reconnect only recovers
//     after two missed 30 s idle heartbeats (nats.js): a shard waiting on it left its checks
//     unprobed for a minute (a CI run with a reconnect under load). Not a source read from
//     memory: it has no consumer to lose messages, only CPU to wait for.

import type { Logger } from '../runtime/logger';
import type { SpecFeedSource } from '../runtime/spec-watch';
import type { SpecCatalog } from './spec-catalog';
import { followSpecs, type FeedEvent } from './spec-feed';

/** A load not finished this long after its place was given (doubled per consecutive failure, up to 8x) is started again. */
export const LOAD_STALL_MS = 10_000;

/** The attempt ended because its load stalled (no error of the watch itself). */
export class ShardLoadStalled extends Error {
  constructor(readonly afterMs: number) {
    super(`not loaded ${afterMs} ms after its watch was started`);
  }
}

/** At most `max` holders at once; the others wait in order. */
export class Places {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  /** Resolves with the function that frees the place (idempotent). */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      const take = () => {
        this.used++;
        let freed = false;
        resolve(() => {
          if (freed) return;
          freed = true;
          this.used--;
          this.waiting.shift()?.();
        });
      };
      if (this.used < this.max) take();
      else this.waiting.push(take);
    });
  }
}

export interface ShardLoadHooks {
  /** SPECS_LOADED once, then changes (spec-feed.ts). */
  tell(e: FeedEvent): void;
  /** The attempt is over: the watch failed, or the load stalled (ShardLoadStalled). Its place is freed. */
  failed(err: unknown): void;
  /** The stream sequence of each change applied (spec-feed.ts onSeq). */
  seq?(n: number): void;
}

/** Start one attempt; returns its stop, which resolves once nothing of its watch is still being created. */
export function startShardLoad(source: SpecFeedSource, catalog: SpecCatalog, log: Logger, places: Places, stallMs: number, hooks: ShardLoadHooks, resync?: () => string[]): () => Promise<void> {
  let ended = false;
  let [isLoaded, isOpen] = [false, false];
  let place: (() => void) | null = null;
  let stall: ReturnType<typeof setTimeout> | undefined;
  const free = () => {
    place?.();
    place = null;
  };
  const gated: SpecFeedSource = {
    count: () => source.count(),
    watch: async () => {
      // A source read from memory (a snapshot's entries) creates no consumer first: no place.
      place = source.local ? null : await places.acquire();
      if (ended) {
        free();
        throw new Error('shard load stopped');
      }
      // A source read from memory cannot stall, only wait for CPU: at 300k specs per node on a
      // loaded host that took longer than stallMs, and given up, 130–159 shards per node were
      // read again in a second snapshot (BENCHMARKS.md §16).
      if (!isLoaded && !source.local) {
        stall = setTimeout(() => {
          if (isLoaded || ended) return;
          void end();
          hooks.failed(new ShardLoadStalled(stallMs));
        }, stallMs);
      }
      return source.watch();
    },
  };
  const stopFeed = followSpecs(
    gated,
    catalog,
    log,
    (e) => {
      if (ended) return;
      if (e.type === 'SPECS_LOADED') {
        isLoaded = true;
        clearTimeout(stall);
        if (isOpen) free();
      }
      hooks.tell(e);
    },
    {
      onFailed: (err) => {
        if (ended) return;
        void end();
        hooks.failed(err);
      },
      onOpened: () => {
        // The watch exists, or its creation failed. A watch being created keeps its place until
        // then (the burst bound holds even for attempts that ended meanwhile).
        isOpen = true;
        if (isLoaded || ended) free();
      },
      ...(resync ? { resync } : {}),
      onSeq: (n: number) => {
        if (!ended) hooks.seq?.(n);
      },
    },
  );
  const end = () => {
    ended = true;
    clearTimeout(stall);
    const settled = stopFeed();
    if (isOpen) free();
    return settled;
  };
  return end;
}
