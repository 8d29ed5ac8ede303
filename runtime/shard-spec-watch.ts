// The specs of one shard as the spec feed sees them: a KV watch filtered to `<shard>.*`
// (protocol/spec-key.ts), each change told under its check id. On nats-server 2.9 a consumer
// has one filter subject, so a node watches each shard it owns with a consumer of its own.
// Whether the shard holds anything is one direct get of the filter's last message (a wildcard
// `last_by_subj`), so an empty shard is loaded at once. `from`: the shard's messages from that
// stream sequence on (a tail after a snapshot, runtime/shard-spec-sources.ts).

import type { JetStreamManager } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { parseSpecKey, shardKeyFilter } from '../protocol/spec-key';
import { filteredSpecFeedSource, type SpecFeedSource } from './spec-watch';

export function shardSpecFeedSource(kv: KV, jsm: JetStreamManager, bucket: string, shard: number, shardCount: number, from?: number): SpecFeedSource {
  const filter = shardKeyFilter(shard);
  const count = async () => ((await jsm.direct.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${filter}` })) === null ? 0 : 1);
  return filteredSpecFeedSource(
    kv,
    count,
    filter,
    (key) => {
      const k = parseSpecKey(key, shardCount);
      return k.type === 'sharded' && k.shard === shard ? k.id : null;
    },
    from,
  );
}
