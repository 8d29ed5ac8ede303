// The slots of the shard owner (actors/shard-owner.ts): how a gained slot starts (claim, take over,
// fresh), spawning its runner with the shard's specs, and holding the specs of exactly the shards
// the followed map gives this node at some rank; the owner's context.

import type { ActorRefFrom } from 'xstate';
import type { Slot } from '../protocol/assignment-record';
import { gainedStart } from '../protocol/handover';
import type { ShardMap } from '../protocol/records';
import type { checkRunnerMachine, RunnerInput, RunnerPorts, RunnerStart } from './check-runner';
import type { SpecCatalog } from './spec-catalog';
import type { SpecHolder } from './shard-specs';
import type { Logger } from '../runtime/logger';
import { loadTurns, type TurnBudget } from '../runtime/turn-budget';

export type RunnerRef = ActorRefFrom<typeof checkRunnerMachine>;

export const slotKey = (shard: number, rank: number) => `${shard}/${rank}`;

/**
 * How a gained (shard, rank) starts: claim it from the holder the previous map names (or from
 * whoever holds it, when no map was followed before), fresh when the previous map had no such
 * rank, or take it over when that holder is no longer a live member. A claim carries the previous
 * map's epoch (`since`): a release from before it is stale (protocol/handover.ts staleRelease).
 */
export function startOf(previous: ShardMap | null, shard: number, rank: number, live: readonly string[] | undefined, dead: readonly string[] = [], restarted: readonly string[] = [], previousEpoch?: number, gainedAt?: number): RunnerStart {
  const holder = previous?.[shard]?.[rank] ?? null;
  // The previous map had no such rank: nobody held it (a passive subscriber to `<prefix>.>` would
  // make a claim wait out LOOKOUT_CLAIM_WAIT_MS instead of getting no responders).
  if (previous !== null && holder === null) return { type: 'fresh' };
  const claim: RunnerStart = { type: 'claim', holder, ...(previous !== null && previousEpoch !== undefined ? { since: previousEpoch } : {}), ...(gainedAt !== undefined ? { gainedAt } : {}) };
  if (live === undefined) return claim;
  if (gainedStart(holder, live) === 'claim') return claim;
  return { type: 'takeover', from: holder, heldDead: holder !== null && dead.includes(holder), ...(holder !== null && restarted.includes(holder) ? { restarted: true } : {}) };
}


/** A gained slot: which, and how its runner starts. */
export interface Deferred {
  shard: number;
  rank: number;
  start: RunnerStart;
}


/** Spawns the runner of one slot with the shard's specs that run at its rank. */
export function spawnRunner(
  context: { catalog: SpecCatalog; ports: RunnerPorts; draining: ReadonlySet<string> },
  spawn: (id: string, input: RunnerInput) => RunnerRef,
  self: { getSnapshot(): { children: unknown }; send(e: { type: 'RUNNER_HANDED_OVER'; id: string }): void },
  slot: Deferred,
  gen: number,
  epoch: number,
): RunnerRef {
  const { shard, rank } = slot;
  const specs = context.catalog.inShard(shard).filter((spec) => spec.replicas > rank);
  // An older runner of ours for this slot (moved away, now back): it releases and stops at once.
  const children = self.getSnapshot().children as Record<string, RunnerRef | undefined>;
  for (const old of context.draining) if (old.startsWith(`runner-${shard}-${rank}-`)) children[old]?.send({ type: 'STOP' });
  const id = `runner-${shard}-${rank}-${gen}`;
  return spawn(id, { shard, rank, gen, epoch, specs, ports: context.ports, start: slot.start, onHandedOver: () => self.send({ type: 'RUNNER_HANDED_OVER', id }) });
}

/**
 * Holds the specs of every shard `want` has a slot of (a new hold tells SHARD_LOADED when it has
 * loaded), and drops the shards no wanted slot is in. Updates `holding` and `loaded` in place.
 * New holds start in rank order, the shards this node is the primary of first: their watches are
 * created a few at a time (shard-specs.ts LOAD_CONCURRENCY), and a spec put meanwhile reaches the
 * node only once its shard's watch exists — its first probe, at rank 0, should not wait behind the
 * watches of shards the node only backs up (formation chaos scenario: first probes up to 8.6 s
 * after the put with 3 nodes × 256 watches). With LOOKOUT_LOAD_SLICE_MS set, SHARD_LOADED is a
 * piece of the node's turn budget (runtime/turn-budget.ts), run after the loads under way: the
 * shards of a snapshot load together, and their runners would otherwise start in one turn.
 */
export function syncHolds(context: { specs: SpecHolder; holdSeq: { n: number }; turns?: TurnBudget }, want: ReadonlyMap<string, Slot>, holding: Map<number, number>, loaded: Set<number>, self: { send(e: { type: 'SHARD_LOADED'; shard: number; gen: number }): void }): void {
  const shards = new Set([...want.values()].sort((a, b) => a.rank - b.rank || a.shard - b.shard).map((s) => s.shard));
  for (const shard of [...holding.keys()]) {
    if (shards.has(shard)) continue;
    context.specs.drop(shard);
    holding.delete(shard);
    loaded.delete(shard);
  }
  for (const shard of shards) {
    if (holding.has(shard)) continue;
    const gen = ++context.holdSeq.n;
    holding.set(shard, gen);
    void context.specs.hold(shard).then(() => (context.turns ?? loadTurns).run(() => self.send({ type: 'SHARD_LOADED', shard, gen })));
  }
}

/** The shard owner's context (actors/shard-owner.ts). */
export interface OwnerContext {
  specs: SpecHolder;
  catalog: SpecCatalog;
  ports: RunnerPorts;
  log: Logger;
  /** Runners of owned slots, keyed "shard/rank". */
  runners: Map<string, RunnerRef>;
  /** Ids of runners told to stop that have not stopped yet. */
  draining: Set<string>;
  /** Runners of moved slots whose release has not been claimed yet. */
  handingOver: Set<string>;
  /** Runners whose release was claimed (possibly before the map moved their slot). */
  handedOver: Set<string>;
  /** The previous map this node followed (who held each slot). */
  previous: ShardMap | null;
  onHandedOver: () => void;
  /** Every slot of the maps followed so far runs (once per life): this node is no longer starting. */
  onRunning: () => void;
  /** onRunning was told. */
  running: boolean;
  epoch: number;
  gen: number;
  /** Assigned slots whose shard's specs are not held yet, keyed "shard/rank": spawned on SHARD_LOADED. */
  deferred: Map<string, Deferred>;
  /** Shards this node holds (or is loading) the specs of, with the generation of the hold. */
  holding: Map<number, number>;
  /** Shards whose hold has loaded. */
  loaded: Set<number>;
  /** Counts holds (a SHARD_LOADED of a hold since dropped is ignored). */
  holdSeq: { n: number };
  /** The slices loaded shards' runners start in (the process's loadTurns unless a test gives its own). */
  turns?: TurnBudget;
}
