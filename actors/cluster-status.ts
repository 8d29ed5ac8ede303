// `<prefix>.cluster.status` responder: members with state, leader and term, assignment epoch,
// shards and checks per node, whether the leader holds a member out of the map because it flaps
// (`damped`, from the followed map's damped list: protocol/churn.ts), and each member's clock
// offset and skew (estimated from heartbeats, protocol/clock-offset.ts), whether it says it is
// overloaded and its lag (its heartbeat) and whether the leader relieves it of shards for that (the
// map's `relieved` list, protocol/overload-relief.ts), whether it quarantined itself (its heartbeat)
// and whether the leader refused that past the bound (the map's lists, protocol/quarantine-bound.ts), and the fleet's verdict
// counts (`verdicts`: the sum of the live members' heartbeat counts, protocol/verdict-counts.ts, with the
// members that did not report) — as the answering node sees them (a queue group: one node answers).
// It holds the latest view the node actor sent it (VIEW); `clusterStatus` is the pure answer.

import { fromCallback } from 'xstate';
import { shardsPerNode } from '../protocol/assignment-moves';
import type { ClusterView } from '../protocol/cluster-view';
import { sumCounts } from '../protocol/verdict-counts';
import type { Bus } from '../runtime/bus';
import type { Logger } from '../runtime/logger';
import type { Subjects } from '../runtime/subjects';

export interface StatusInput {
  bus: Bus;
  subjects: Subjects;
  view: ClusterView;
  log: Logger;
}

export type StatusEvent = { type: 'VIEW'; view: ClusterView };

export function clusterStatus(view: ClusterView) {
  const a = view.assignment;
  const perNode = a ? shardsPerNode(a.shards) : {};
  const clocks = view.clocks;
  /** Whole ms; null for a member with no estimate (too few heartbeats yet, or a version without sentAt). */
  const ms = (node: string, field: 'offsetMs' | 'skewMs') => {
    const c = clocks?.nodes.get(node);
    return c ? Math.round(c[field]) : null;
  };
  const damped = new Set(a?.damped ?? []);
  const relieved = new Set(a?.relieved ?? []);
  const refused = new Set(a?.quarantineRefused ?? []);
  const live = view.members.filter((m) => m.state === 'alive' || m.state === 'suspect');
  return {
    ok: true,
    answeredBy: view.node,
    leader: view.leader,
    term: view.leader?.term ?? null,
    epoch: a?.epoch ?? null,
    /** The skew bound (LOOKOUT_CLOCK_SKEW_WARN_MS) members' clockSkewMs is judged by. */
    clock: clocks ? { boundMs: clocks.boundMs } : null,
    /** The fleet's checks by verdict: summed over the live members that reported (`unreported`: those that did not). */
    verdicts: sumCounts(live),
    assignment: a ? { epoch: a.epoch, term: a.term, leader: a.leader, at: new Date(a.at).toISOString(), members: a.members, damped: a.damped ?? [], relieved: a.relieved ?? [], quarantined: a.quarantined ?? [], quarantineRefused: a.quarantineRefused ?? [] } : null,
    members: view.members.map((m) => ({
      node: m.node,
      state: m.state,
      incarnation: m.incarnation,
      startedAt: m.startedAt ? new Date(m.startedAt).toISOString() : null,
      version: m.version,
      shards: perNode[m.node] ?? { primary: 0, total: 0 },
      checks: m.checks,
      /** Its wall clock minus the answering node's (ms). */
      clockOffsetMs: ms(m.node, 'offsetMs'),
      /** Its wall clock minus the median of the live members' clocks (ms). */
      clockSkewMs: ms(m.node, 'skewMs'),
      damped: damped.has(m.node),
      /** It says it is overloaded (its heartbeat: protocol/overload.ts); false for versions that do not say. */
      overloaded: m.overloaded === true,
      /** Its worst event-loop lag of its last second (ms); null for versions that do not say. */
      lagMs: m.lagMs ?? null,
      /** The leader gives it fewer primary shards because it was overloaded (protocol/overload-relief.ts). */
      relieved: relieved.has(m.node),
      /** It says it quarantined itself (its heartbeat: protocol/quarantine.ts). */
      quarantined: m.quarantined === true,
      /** It did so past the bound: the leader keeps its shards with it (the map's quarantineRefused, protocol/quarantine-bound.ts). */
      quarantineRefused: refused.has(m.node),
      /** Its heartbeat says starting: its first map's slots are not all running yet (its load is not judged: protocol/overload-relief.ts). */
      starting: m.starting === true,
      /** A restart still loading its specs (its heartbeat says starting, an earlier life was heard): the next owners run its slots (protocol/takeover.ts). */
      returning: m.returning === true,
      /** The checks whose status it decides, by verdict (its heartbeat); null: it does not say (an older version). */
      verdicts: m.verdicts ?? null,
    })),
  };
}

export const clusterStatusQueue = (s: Subjects) => `${s.prefix}-cluster-status`;

export const clusterStatusResponder = fromCallback<StatusEvent, StatusInput>(({ input, receive }) => {
  const { bus, subjects: s } = input;
  const log = input.log.child({ actor: 'cluster-status' });
  let view = input.view;
  receive((e) => {
    if (e.type === 'VIEW') view = e.view;
  });
  return bus.subscribe(s.clusterStatus(), (m) => m.respond(clusterStatus(view)), {
    queue: clusterStatusQueue(s),
    onError: (err) => log.warn({ event: 'cluster_status_subscription_failed', err }, 'cluster.status subscription error'),
  });
});
