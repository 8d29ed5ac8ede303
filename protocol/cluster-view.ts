// What this node knows about the cluster: a pure reducer over the events its children send the
// node actor (members from membership, terms and leadership from the leader, maps from the
// follower). The node keeps the latest view in its context and passes it by message (VIEW) to
// whoever answers for it — the cluster.status responder — instead of sharing a mutable record.

import type { ClockReport } from './clock-offset';
import type { AssignmentRecord } from './records';
import type { Member } from './failure-detector';

export interface ClusterView {
  node: string;
  members: Member[];
  /** Members that hold shards (the failure detector's live(): alive and suspect). */
  live: string[];
  /** The current leader as last seen (from the lease key, or ourselves). */
  leader: { node: string; term: number } | null;
  leading: boolean;
  assignment: AssignmentRecord | null;
  /** Members' clock offsets and skews as membership last estimated them (display only). */
  clocks: ClockReport | null;
}

export type ViewEvent =
  | { type: 'MEMBERS'; members: Member[]; live: string[]; clocks?: ClockReport }
  | { type: 'TERM_SEEN'; term: number; holder: string }
  | { type: 'ELECTED'; term: number }
  | { type: 'DEPOSED' }
  | { type: 'ASSIGNED'; record: AssignmentRecord };

export function emptyView(node: string): ClusterView {
  return { node, members: [], live: [], leader: null, leading: false, assignment: null, clocks: null };
}

export function reduceView(view: ClusterView, e: ViewEvent): ClusterView {
  switch (e.type) {
    case 'MEMBERS':
      return { ...view, members: e.members, live: e.live, clocks: e.clocks ?? view.clocks };
    case 'TERM_SEEN':
      // A term read from the key never replaces a newer one we know (our own election, say).
      if (view.leader && view.leader.term > e.term) return view;
      return { ...view, leader: { node: e.holder, term: e.term } };
    case 'ELECTED':
      return { ...view, leader: { node: view.node, term: e.term }, leading: true };
    case 'DEPOSED':
      // Who leads now is unknown until the lease is read again (TERM_SEEN); never ourselves.
      return { ...view, leading: false, leader: view.leader?.node === view.node ? null : view.leader };
    case 'ASSIGNED':
      return { ...view, assignment: e.record };
  }
}

/** Highest leader term this view knows of (from the lease or from the followed map). */
export function knownTerm(view: ClusterView): number {
  return Math.max(view.leader?.term ?? 0, view.assignment?.term ?? 0);
}
