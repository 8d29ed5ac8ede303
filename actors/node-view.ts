// The node's cluster view and what it learns from its children: the actions that fold their
// events into the view (the pure reducer is protocol/cluster-view.ts), pass each new view on, and
// set the gauges an operator watches; and how a followed map reaches the children that act on it.
//
//   MEMBERS (membership)             → view.members/live; lookout_members{state}; the leader actor
//                                      told the members (overload-leadership.ts)
//   TERM_SEEN / ELECTED / DEPOSED    → view.leader, view.leading; lookout_leader_term, lookout_leader;
//     (leader)                         membership told whether we lead
//   ASSIGNED (assignment follower)   → view.assignment; lookout_assignment_epoch, lookout_members_damped;
//                                      membership seeded with the map's members; the shard owner
//                                      told its slots, the map (the next map's previous holders) and
//                                      the members not dead
//   MEMBERS with an owner now dead   → provisional takeover: the shard owner told the slots of the
//     (or heard again)                 map with dead owners struck out (protocol/takeover.ts)
//
// A new view goes by message to whoever answers or decides from it — VIEW to the cluster.status
// responder and to the lifecycle — and to the process as an emitted `view` (for /readyz). The view
// in the node's context is replaced, never mutated.

import { slotsOf } from '../protocol/assignment-record';
import { reduceView, type ViewEvent } from '../protocol/cluster-view';
import type { AssignmentRecord } from '../protocol/records';
import { deadOwners, effectiveMap, promotions, pruneDead } from '../protocol/takeover';
import { nodeSetup } from './node-inputs';

/** Fold an event into the view and pass the new view on (status responder, lifecycle, the process). */
const updateView = nodeSetup.enqueueActions(({ context, event, enqueue }) => {
  const view = reduceView(context.view, event as ViewEvent);
  if (view === context.view) return;
  enqueue.assign({ view });
  enqueue.sendTo('clusterStatus', { type: 'VIEW', view });
  enqueue.sendTo('lifecycle', { type: 'VIEW', view });
  enqueue.emit({ type: 'view', view });
});

/** The member list to the leader actor (an overloaded node defers its candidacy, or hands the lease over). */
const tellLeader = nodeSetup.enqueueActions(({ event, enqueue, self }) => {
  // The leader actor is gone once it released the lease on a leave (a final state).
  if (event.type !== 'MEMBERS' || !self.getSnapshot().children.leader) return;
  enqueue.sendTo('leader', { type: 'MEMBERS', members: event.members });
});

/** Members by state, for lookout_members. */
const noteMembers = nodeSetup.createAction(({ context, event }) => {
  if (event.type !== 'MEMBERS') return;
  const counts: Record<string, number> = { alive: 0, suspect: 0, dead: 0, left: 0 };
  for (const m of event.members) counts[m.state]!++;
  for (const [state, n] of Object.entries(counts)) context.ports.metrics.members.set({ state }, n);
});

/** A term read from the lease key: the highest term known (after updateView). */
const noteTerm = nodeSetup.createAction(({ context, event }) => {
  if (event.type !== 'TERM_SEEN') return;
  context.ports.metrics.leaderTerm.set(Math.max(event.term, context.view.leader?.term ?? 0));
});

/** This node became leader (after updateView): gauges, and membership told. */
const noteElected = nodeSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'ELECTED') return;
  enqueue(() => {
    context.ports.metrics.isLeader.set(1);
    context.ports.metrics.leaderTerm.set(event.term);
  });
  enqueue.sendTo('membership', { type: 'LEADING', leading: true });
});

/** This node stopped leading (after updateView): gauge, and membership told. */
const noteDeposed = nodeSetup.enqueueActions(({ context, enqueue }) => {
  enqueue(() => context.ports.metrics.isLeader.set(0));
  enqueue.sendTo('membership', { type: 'LEADING', leading: false });
});

/**
 * The map this node runs and the slots it holds there: the followed map with the owners its detector
 * holds dead struck out (protocol/takeover.ts), sent to the shard owner. Logs when the provisional
 * part changes: `provisional_takeover` (slots taken for dead owners), `provisional_takeover_ended`.
 */
type Enqueue = Parameters<Parameters<typeof nodeSetup.enqueueActions>[0]>[0];
function runMap({ context, enqueue }: Pick<Enqueue, 'context' | 'enqueue'>, record: AssignmentRecord, dead: ReadonlySet<string>, viewOnly = false): void {
  const self = context.ports.nodeId;
  const effective = effectiveMap(record, dead, self);
  const moved = promotions(record, effective, self);
  const slots = slotsOf(effective, self);
  // Under a provisional takeover the runners publish one epoch past the followed map's: the owner
  // held dead may be alive (a frozen link) and still publish under the followed epoch; consumers
  // ordering by (epoch, seq) must see its late results as older. Never lower than before.
  const epoch = Math.max(context.runEpoch, record.epoch + (effective === record ? 0 : 1));
  enqueue.assign({ dead, provisional: moved.length, runEpoch: epoch });
  enqueue(() => context.ports.metrics.provisionalSlots.set(moved.length));
  if (moved.length > 0 || context.provisional > 0) {
    enqueue(() => {
      const fields = { epoch, mapEpoch: record.epoch, dead: [...dead], slots: moved.length, shards: moved.slice(0, 16).map((p) => `${p.shard}:${p.from ?? '-'}>${p.to}`) };
      if (moved.length > 0) context.log.warn({ event: 'provisional_takeover', ...fields }, 'running the slots of owners held dead until a map confirms it');
      else context.log.info({ event: 'provisional_takeover_ended', ...fields }, 'no slots held for dead owners any more');
    });
  }
  // While the pause guard holds the queue (we were away), lost slots are released at once rather
  // than probed until claimed: their late slots would run under the old epoch. So are slots lost
  // without a new map (`viewOnly`: an owner held dead is heard again): it never stopped probing
  // them and will not claim; the release tells it how far we got (runner-handover.ts).
  // A member that announced its leave still holds its slots until they are claimed: only one the
  // failure detector found dead (or that is not a member at all) is taken over without a claim.
  const reachable = context.view.members.filter((m) => m.state !== 'dead' && !dead.has(m.node)).map((m) => m.node);
  // Held dead after being heard (a member only seeded from the map and never heard by this process
  // — a restart — is gone, not known to have published unseen: its checks continue seq by one).
  const heard = new Set(context.view.members.filter((m) => m.instance !== '').map((m) => m.node));
  const heldDead = [...new Set([...dead, ...context.view.members.filter((m) => m.state === 'dead').map((m) => m.node)])].filter((n) => heard.has(n));
  // Held dead because a new life of them is heard: the old one died moments ago (no catch-up probe).
  const restarted = context.view.members.filter((m) => m.returning === true && dead.has(m.node)).map((m) => m.node);
  // A map that reached us on waking, before the pause was noticed, moves shards at once too.
  const atOnce = context.pauseHeld || viewOnly || context.pauseUnnoticed?.() === true;
  enqueue.sendTo('shardOwner', { type: 'ASSIGN', slots, epoch, shards: effective.shards, live: reachable, dead: heldDead, ...(restarted.length ? { restarted } : {}), ...(atOnce ? { atOnce: true } : {}) });
}

/** A followed map: gauges, membership seeded with its members, the shard owner told its slots. */
const applyAssignment = nodeSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'ASSIGNED') return;
  enqueue(() => {
    context.ports.metrics.assignmentEpoch.set(event.record.epoch);
    context.ports.metrics.membersDamped.set(event.record.damped?.length ?? 0);
    context.ports.metrics.leaderTerm.set(Math.max(event.record.term, context.view.leader?.term ?? 0));
  });
  enqueue.sendTo('membership', { type: 'SEED', nodes: event.record.members });
  runMap({ context, enqueue }, event.record, pruneDead(context.dead, event.record));
});

/**
 * Members changed: an owner of the followed map that the detector now holds dead (or that was held
 * dead and is heard again) changes the map this node runs at once, without waiting for a leader.
 */
const takeOver = nodeSetup.enqueueActions(({ context, event, enqueue }) => {
  if (event.type !== 'MEMBERS') return;
  const dead = deadOwners(context.dead, event.members);
  if (dead === context.dead) return;
  const record = context.view.assignment;
  if (!record) {
    enqueue.assign({ dead });
    return;
  }
  runMap({ context, enqueue }, record, pruneDead(dead, record), true);
});

/** The view actions, by name, for the node machine (node.ts). */
export const viewActions = { updateView, tellLeader, noteMembers, noteTerm, noteElected, noteDeposed, applyAssignment, takeOver };
