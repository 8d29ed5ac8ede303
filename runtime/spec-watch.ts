// The spec bucket as the spec feed sees it: every stored value, then every change, as plain
// records. A narrow port over the KV watch, so the feed is unit-tested with an in-memory source.

import type { KV } from '@nats-io/kv';

export interface SpecChange {
  /** The check id, or null for a key no check of this source is stored under (skipped). */
  key: string | null;
  revision: number;
  /** A delete or purge marker: the key has no value now. */
  deleted: boolean;
  /** The stored value decoded as JSON (undefined when it does not parse). */
  json(): unknown;
  /** The initial snapshot of the bucket is complete once this entry has been applied. */
  initialDone: boolean;
}

export interface SpecWatch {
  changes: AsyncIterable<SpecChange>;
  stop(): void;
}

export interface SpecFeedSource {
  /** Values stored now (0: nothing to load, the feed is loaded at once). */
  count(): Promise<number>;
  /** Every value stored now, then every change. */
  watch(): Promise<SpecWatch>;
  /** Its watch creates no consumer before its values are read (not bounded with those that do; read after count). */
  readonly local?: boolean;
}

export function kvSpecFeedSource(kv: KV): SpecFeedSource {
  return filteredSpecFeedSource(kv, async () => (await kv.status()).values, undefined, (key) => key);
}

/**
 * A source built on first use (its count or its watch, whichever comes first), both then on the
 * same one: a shard's load on the node's bulk link, opened on demand (runtime/bulk-link.ts). A
 * build that fails fails this attempt; the next attempt builds again.
 */
export function deferredSpecFeedSource(build: () => Promise<SpecFeedSource>): SpecFeedSource {
  let built: Promise<SpecFeedSource> | null = null;
  const source = () => (built ??= build());
  return {
    count: async () => (await source()).count(),
    watch: async () => (await source()).watch(),
  };
}

/**
 * The values under one key filter (`key`; undefined: every key), each told under the id `idOf`
 * its key (a key it maps to null is skipped). `count`: 0 when nothing is stored under the filter.
 * `from`: every message from this stream sequence on instead of the latest values (a tail after
 * a snapshot, runtime/spec-snapshot.ts).
 */
export function filteredSpecFeedSource(kv: KV, count: () => Promise<number>, key: string | undefined, idOf: (key: string) => string | null, from?: number): SpecFeedSource {
  return {
    count,
    async watch() {
      const w = await kv.watch({ ...(key === undefined ? {} : { key }), ...(from === undefined ? {} : { resumeFromRevision: from }) });
      async function* changes(): AsyncGenerator<SpecChange> {
        for await (const e of w) {
          const id = idOf(e.key);
          yield {
            key: id,
            revision: e.revision,
            deleted: e.operation !== 'PUT',
            json: () => {
              try {
                return e.json();
              } catch {
                return undefined;
              }
            },
            initialDone: e.isUpdate || e.delta === 0,
          };
        }
      }
      return { changes: changes(), stop: () => w.stop() };
    },
  };
}
