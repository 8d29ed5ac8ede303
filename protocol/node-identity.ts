// Node identity: one process per node id. Two processes started with the same LOOKOUT_NODE_ID
// would both probe the same checks, and one's leave would read as the other's. Each process draws
// an `instance` id at start and carries it in every heartbeat. This file holds the pure rules; the
// claim over the bus (request at start, answer while running) is actors/node-claim.ts.
//
//   claim    — a running process with our node id answers the newcomer's claim with its
//              instance, and the newcomer refuses to start (DuplicateNodeId).
//   running  — a heartbeat carrying our node id and another instance means the claim missed
//              (both started at once, or the holder was unreachable). Exactly one must go, and
//              both must agree which without comparing clocks: the one with the greater
//              instance id stops (`yieldsTo`), without announcing a leave (its node id lives on
//              in the other process).

import { ErrorCode, LookoutError } from './errors';

export class DuplicateNodeId extends LookoutError {
  readonly code = ErrorCode.duplicate_node_id;
  constructor(
    readonly node: string,
    readonly other: string,
  ) {
    super(`node id ${JSON.stringify(node)} is already used by another running process (instance ${other}); give each process its own LOOKOUT_NODE_ID`);
  }
}

/** When two live processes share a node id, the one with the greater instance id stops. */
export function yieldsTo(mine: string, other: string): boolean {
  return other < mine;
}
