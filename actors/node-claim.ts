// Claiming a node id over the bus (the rules, and who yields, are in protocol/node-identity.ts):
//
//   claim    — request `<prefix>._node.claim.<node>`; a running process with that id answers
//              with its instance, and the newcomer refuses to start (DuplicateNodeId).
//              No answer (nobody there, or the holder is paused or cut off) → the claim holds.
//   answer   — the membership actor of a running process answers claims for its own node id.

import { randomBytes } from 'node:crypto';
import { DuplicateNodeId } from '../protocol/node-identity';
import type { Bus } from '../runtime/bus';
import type { Subjects } from '../runtime/subjects';

/** A fresh instance id (16 hex digits). */
export function newInstanceId(): string {
  return randomBytes(8).toString('hex');
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
