// The node: root actor of a Lookout process. It owns the shard owner for its whole life and,
// while running, the spec feed (bucket watch → catalog) and the spec API (requests → bucket).
//
// States:
//   running  — serving the spec API, following specs, probing owned shards
//   stopping — SIGTERM/SIGINT: the spec API and feed are gone; runners drain in-flight probes
//   stopped  — final; the process then drains its NATS connection and exits

import { sendTo, setup } from 'xstate';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../runtime/logger';
import type { SpecStore } from '../runtime/store';
import type { RunnerPorts } from './check-runner';
import { shardOwnerMachine } from './shard-owner';
import { specApi } from './spec-api';
import type { SpecCatalog } from './spec-catalog';
import { specFeed, type FeedEvent } from './spec-feed';

export interface NodeInput {
  nc: NatsConnection;
  kv: KV;
  store: SpecStore;
  catalog: SpecCatalog;
  ports: RunnerPorts;
  maxSpecBytes: number;
}

export type NodeEvent = FeedEvent | { type: 'SHUTDOWN' };

/** Until the cluster protocol assigns shards, a node owns all of them under epoch 0. */
export const STANDALONE_EPOCH = 0;

export const nodeMachine = setup({
  types: {
    context: {} as NodeInput & { log: Logger },
    input: {} as NodeInput,
    events: {} as NodeEvent,
  },
  actors: { specApi, specFeed, shardOwner: shardOwnerMachine },
}).createMachine({
  id: 'node',
  context: ({ input }) => ({ ...input, log: input.ports.log.child({ actor: 'node' }) }),
  invoke: {
    id: 'shardOwner',
    src: 'shardOwner',
    input: ({ context }) => ({ catalog: context.catalog, ports: context.ports }),
    onDone: { target: '.stopped' },
  },
  initial: 'running',
  states: {
    running: {
      entry: [
        ({ context }) => context.log.info({ shards: context.catalog.shardCount }, 'node running'),
        sendTo('shardOwner', ({ context }) => ({
          type: 'ASSIGN' as const,
          shards: Array.from({ length: context.catalog.shardCount }, (_, i) => i),
          epoch: STANDALONE_EPOCH,
        })),
      ],
      invoke: [
        { src: 'specFeed', input: ({ context }) => ({ kv: context.kv, catalog: context.catalog, log: context.ports.log }) },
        {
          src: 'specApi',
          input: ({ context }) => ({
            nc: context.nc,
            subjects: context.ports.subjects,
            log: context.ports.log,
            metrics: context.ports.metrics,
            store: context.store,
            catalog: context.catalog,
            maxSpecBytes: context.maxSpecBytes,
          }),
        },
      ],
      on: {
        SPEC_SET: { actions: sendTo('shardOwner', ({ event }) => event) },
        SPEC_REMOVED: { actions: sendTo('shardOwner', ({ event }) => event) },
        SHUTDOWN: { target: 'stopping' },
      },
    },
    stopping: {
      entry: [({ context }) => context.log.info('node stopping'), sendTo('shardOwner', { type: 'STOP' })],
    },
    stopped: {
      type: 'final',
      entry: ({ context }) => context.log.info('node stopped'),
    },
  },
});
