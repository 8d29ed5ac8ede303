// One process per node id. Two processes started with the same LOOKOUT_NODE_ID would both probe
// the same checks, and one's leave would read as the other's. Each process draws an `instance` id
// at start and carries it in every heartbeat; a node id is claimed before the node starts:
//
//   claim    — request `<prefix>._node.claim.<node>`; a running process with that id answers
//              with its instance, and the newcomer refuses to start (DuplicateNodeId).
//              No answer (nobody there, or the holder is paused or cut off) → the claim holds.
//   running  — a heartbeat carrying our node id and another instance means the claim missed
//              (both started at once, or the holder was unreachable). Exactly one must go, and
//              both must agree which without comparing clocks: the one with the greater
//              instance id stops (`yieldsTo`), without announcing a leave (its node id lives on
//              in the other process).

import { randomBytes } from 'node:crypto';
import type { Bus } from '../runtime/bus';
import type { Subjects } from '../runtime/subjects';

export const DUPLICATE_NODE_ID = 'duplicate_node_id';

export class DuplicateNodeId extends Error {
  readonly code = DUPLICATE_NODE_ID;
  constructor(
    readonly node: string,
    readonly other: string,
  ) {
    super(`node id ${JSON.stringify(node)} is already used by another running process (instance ${other}); give each process its own LOOKOUT_NODE_ID`);
    this.name = 'DuplicateNodeId';
  }
}

/** A fresh instance id (16 hex digits). */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
}

/** When two live processes share a node id, the one with the greater instance id stops. */
export function yieldsTo(mine: string, other: string): boolean {
  return other < mine;
}

export const claimSubject = (s: Subjects, node: string): string => s.internal('claim', node);

export interface ClaimReply {
  node: string;
  instance: string;
}

/** Ask whether another process holds `node`; resolves when the claim holds, throws DuplicateNodeId. */
export async function claimNodeId(bus: Bus, s: Subjects, node: string, instance: string, timeoutMs: number): Promise<void> {
  let reply: unknown;
  try {
    reply = (await bus.request(claimSubject(s, node), { node, instance }, timeoutMs)).json();
  } catch {
    return; // no responders, or a timeout: nobody (reachable) holds the id
  }
  const r = reply as Partial<ClaimReply> | undefined;
  if (r && typeof r.instance === 'string' && r.instance !== instance) throw new DuplicateNodeId(node, r.instance);
}

/** Answer claims for our node id (the membership actor runs this). Returns the unsubscribe. */
export function answerClaims(bus: Bus, s: Subjects, node: string, instance: string, onClaim: (other: string) => void): () => void {
  return bus.subscribe(claimSubject(s, node), (m) => {
    const claim = m.json() as Partial<ClaimReply> | undefined;
    if (typeof claim?.instance !== 'string' || claim.instance === instance) return;
    onClaim(claim.instance);
    m.respond({ node, instance } satisfies ClaimReply);
  });
}
