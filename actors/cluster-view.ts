// What this node knows about the cluster, kept by the node actor from its children's events and
// read by the `cluster.status` responder. A plain record: written in one place, read in one place.

import type { AssignmentRecord } from './assignment-record';
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
}

export function emptyView(node: string): ClusterView {
  return { node, members: [], live: [], leader: null, leading: false, assignment: null };
}
