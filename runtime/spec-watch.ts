// The spec bucket as the spec feed sees it: every stored value, then every change, as plain
// records. A narrow port over the KV watch, so the feed is unit-tested with an in-memory source.

import type { KV } from '@nats-io/kv';

export interface SpecChange {
  key: string;
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
}

export function kvSpecFeedSource(kv: KV): SpecFeedSource {
  return {
    count: async () => (await kv.status()).values,
    async watch() {
      const w = await kv.watch();
      async function* changes(): AsyncGenerator<SpecChange> {
        for await (const e of w) {
          yield {
            key: e.key,
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
