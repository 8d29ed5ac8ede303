// Spec feed: watches the spec bucket and keeps the node's catalog current. The initial load only
// fills the catalog (runners read it when they start) and ends with SPECS_LOADED; after that every
// change is told to the parent. A stored value that does not validate (written to the bucket
// directly, bypassing the API) is logged and skipped — it never reaches a runner.
//
// Entries already queued by the watch (or replayed from a snapshot in memory) are consumed without
// returning to the event loop, so the feed yields: with LOOKOUT_LOAD_SLICE_MS set, in the node's
// slices (runtime/turn-budget.ts, shared by every feed — loading 300k specs must not starve the
// lease renewals); else every YIELD_EVERY entries.

import { fromCallback } from 'xstate';
import { normalizeSpec, type NormalizedSpec } from '../checks/spec';
import { validateSpec } from '../checks/validate';
import type { Logger } from '../runtime/logger';
import type { SpecFeedSource, SpecWatch } from '../runtime/spec-watch';
import { loadTurns, type TurnBudget } from '../runtime/turn-budget';
import type { SpecCatalog } from './spec-catalog';

export type FeedEvent =
  | { type: 'SPEC_SET'; spec: NormalizedSpec }
  | { type: 'SPEC_REMOVED'; id: string }
  | { type: 'SPECS_LOADED'; count: number; ms: number };

export interface FeedInput {
  source: SpecFeedSource;
  catalog: SpecCatalog;
  log: Logger;
}

/** Entries a feed takes per turn while the node's turn budget is off (a count per feed, not per turn). */
const YIELD_EVERY = 256;

export const specFeed = fromCallback<{ type: 'noop' }, FeedInput>(({ input, sendBack }) => followSpecs(input.source, input.catalog, input.log.child({ actor: 'spec-feed' }), sendBack));

export interface FollowOptions {
  /** The watch failed or ended without being stopped (logged either way; nothing more is told). */
  onFailed?: (err: unknown) => void;
  /** The watch exists, or its creation failed (a caller bounding concurrent creations frees a place). */
  onOpened?: () => void;
  /**
   * A restart of a source whose specs were told before (its watch failed after its load): the ids
   * the catalog holds for it. Its replay is told as changes — a spec put or changed while no watch
   * ran is SPEC_SET, an id the replay no longer has is SPEC_REMOVED — instead of loading silently.
   */
  resync?: () => string[];
  /** The stream sequence of each change once applied (the marker's too): where a resumed tail starts after it. */
  onSeq?: (seq: number) => void;
  /** The slices the feed works in (the process's loadTurns unless a test gives its own). */
  turns?: TurnBudget;
}

/**
 * Loads `source` into `catalog`, then follows it: SPECS_LOADED once the initial values are in
 * (told on a later turn), then SPEC_SET / SPEC_REMOVED per change. Returns the stop.
 *
 * The stop resolves once no part of the watch is still being created: a watch whose creation was
 * under way when the node stopped is stopped as soon as it exists. Close the connection only after
 * that: nats.js starts an ordered consumer's heartbeat timer before it subscribes, and a consumer
 * whose subscribe fails on a draining connection keeps that timer running, with no handle to stop it.
 *
 * An empty source is loaded as soon as its count says so, before its watch exists (a value put
 * meanwhile is in the watch's first entries, told as a change): a node that holds hundreds of
 * mostly empty shards starts their runners without waiting for a watch each.
 */
export function followSpecs(source: SpecFeedSource, catalog: SpecCatalog, log: Logger, tell: (e: FeedEvent) => void, opts: FollowOptions = {}): () => Promise<void> {
  const t0 = performance.now();
  const turns = opts.turns ?? loadTurns;
  // A load from memory (a snapshot's entries) cannot stall: runner starts wait for it (turn-budget.ts).
  const endLoad = source.local ? turns.loading() : () => {};
  let stopped = false;
  let stop: () => void = () => {
    stopped = true;
  };
  let settle: () => void = () => {};
  const settled = new Promise<void>((r) => (settle = r));
  const opened = () => {
    settle();
    opts.onOpened?.();
  };
  const stopAll = () => {
    stopped = true;
    endLoad();
    stop();
    return settled;
  };
  let loaded = false;
  // A resync's replay: the ids it has shown so far (null: not resyncing, or its replay is done).
  let seen: Set<string> | null = opts.resync ? new Set() : null;
  const markLoaded = () => {
    if (loaded) return;
    endLoad();
    if (seen && opts.resync) {
      for (const id of opts.resync()) if (!seen.has(id) && catalog.delete(id)) tell({ type: 'SPEC_REMOVED', id });
    }
    seen = null;
    loaded = true;
    const ms = Math.round(performance.now() - t0);
    log.info({ event: 'specs_loaded', specs: catalog.size, ms, ...(opts.resync ? { resync: true } : {}) }, 'specs loaded');
    // Outside the watch loop: starting every runner can take a while, and the loop's current batch
    // of entries (tens of MB at 100k specs) should be free to collect meanwhile.
    setImmediate(() => {
      if (!stopped) tell({ type: 'SPECS_LOADED', count: catalog.size, ms });
    });
  };
  void (async () => {
    let count: number;
    let watcher: SpecWatch;
    try {
      count = await source.count();
      if (count === 0 && !stopped) markLoaded();
      watcher = await source.watch();
    } catch (err) {
      opened();
      throw err;
    }
    if (stopped) watcher.stop();
    opened();
    if (stopped) return;
    stop = () => watcher.stop();
    let n = 0;
    for await (const e of watcher.changes) {
      if (turns.on) {
        if (turns.spent()) await turns.next(true);
      } else if (++n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      if (stopped) break;
      const told = loaded || seen !== null;
      if (e.key === null) {
        // not a spec of this source (a key written around the API under the wrong shard)
      } else if (!e.deleted) {
        seen?.add(e.key);
        const v = validateSpec(e.json(), e.key);
        if (!v.ok) {
          log.error({ event: 'spec_invalid', check: e.key, revision: e.revision, error: v.error }, 'stored spec is invalid; ignored');
        } else {
          const spec = normalizeSpec(e.key, v.spec);
          if (catalog.set(spec, e.revision) && told) tell({ type: 'SPEC_SET', spec });
        }
      } else if (catalog.delete(e.key) && told) {
        tell({ type: 'SPEC_REMOVED', id: e.key });
      }
      opts.onSeq?.(e.revision);
      if (e.initialDone) markLoaded();
    }
    if (!stopped) throw new Error('the spec watch ended');
  })().catch((err: unknown) => {
    endLoad();
    if (stopped) return;
    stopped = true;
    stop();
    log.error({ event: 'spec_watch_failed', err }, 'spec watch failed');
    opts.onFailed?.(err);
  });
  return stopAll;
}
