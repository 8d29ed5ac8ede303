// Confirm from elsewhere (issue 13 §2): before a single-vantage check is declared down, its owner
// asks another live node to probe it once (request/reply on `<prefix>._node.<peer>.confirm`,
// runtime/confirm-bus.ts). If that node sees the target healthy, the verdict does not flip: the
// failure is published as a result that carries the disagreement, and kept out of the verdict's
// history (like an inconclusive one). If it fails there too — or nobody could be asked — the
// failure counts as it always did. Only a change to down is confirmed, so a real outage costs one
// extra probe per check; a node whose own network is broken costs one per failing probe, which the
// responders bound (one probe per check per half interval, a node-wide rate).
//
// Pure: when to ask, whom, what an answer means, the responder's reuse of a recent answer, and the
// wire forms (hostile input, parsed with bounds).

import type { FailureReason } from '../checks/outcome';
import { FailureReason as Reasons } from '../checks/outcome';
import type { FlapThresholds, NormalizedPolicy } from '../checks/spec';
import { fnv1a32 } from './hash';
import { flapPercent, nextFlapping } from './flapping';
import type { PublishedVerdict as Published } from './published-verdict';
import { applyOutcome, type VerdictState } from './verdict';

/** The confirming request waits the check's timeout plus this (the probe runs there for up to the timeout). */
export const CONFIRM_REPLY_MARGIN_MS = 250;
/** The most checks a responder remembers an answer for (oldest forgotten first). */
export const CONFIRM_REUSE_MAX = 10_000;

/** Why a failure counted without another node's view. */
export type Unconfirmed = 'no_peer' | 'budget' | 'no_answer' | 'busy' | 'unknown_check' | 'inconclusive' | 'aborted' | 'quarantined';

/** What the confirmation of one failure found: published on the result (and on a status to down). */
export interface Confirmation {
  /** The node asked (null: nobody was asked). */
  by: string | null;
  /** agreed: it failed there too; disagreed: healthy there (the verdict holds); unconfirmed: no view from elsewhere. */
  outcome: 'agreed' | 'disagreed' | 'unconfirmed';
  why?: Unconfirmed;
  /** The confirming probe's failure reason (agreed). */
  reason?: FailureReason;
  latencyMs?: number;
}

export interface ConfirmRequest {
  checkId: string;
  /** The asking node. */
  from: string;
}

/** A responder's answer. `probed`: the outcome of its probe (maybe reused from another ask); `refused`: it did not probe. */
export type ConfirmReply =
  | { type: 'probed'; node: string; ok: boolean; reason: FailureReason | null; latencyMs: number }
  | { type: 'refused'; node: string; why: Extract<Unconfirmed, 'busy' | 'unknown_check' | 'inconclusive' | 'quarantined'> };

/** The verdict state a failure would be applied to. */
export interface PublishedVerdict {
  verdict: VerdictState;
  published: Published | 'unknown';
  /** Flapping now (flapping.ts); absent: not. */
  flapping?: boolean;
}

/**
 * Ask before counting this failure? Only for a check that confirms, a failure that counts (not
 * passed, not inconclusive), and only when it would announce down — not when the check is, or
 * with this failure becomes, flapping (`flap`: the spec's thresholds): that announces `flapping`.
 */
export function wantsConfirmation(confirm: boolean, policy: NormalizedPolicy, state: PublishedVerdict, ok: boolean, reason: FailureReason | null, flap?: FlapThresholds): boolean {
  if (!confirm || ok || reason === Reasons.inconclusive || state.published === 'down') return false;
  const next = applyOutcome(policy, state.verdict, false);
  if (next.status !== 'down') return false;
  return !(flap && nextFlapping(state.flapping ?? false, flapPercent(next.history), flap));
}

/** The confirmation an answer (null: none within the wait) from `peer` makes. */
export function confirmationOf(peer: string, reply: ConfirmReply | null): Confirmation {
  if (reply === null) return { by: peer, outcome: 'unconfirmed', why: 'no_answer' };
  if (reply.type === 'refused') return { by: peer, outcome: 'unconfirmed', why: reply.why };
  if (reply.ok) return { by: peer, outcome: 'disagreed', latencyMs: reply.latencyMs };
  return { by: peer, outcome: 'agreed', latencyMs: reply.latencyMs, ...(reply.reason ? { reason: reply.reason } : {}) };
}

/** A failure another node saw healthy keeps the verdict as it was. */
export function keepsVerdict(c: Confirmation | undefined): boolean {
  return c?.outcome === 'disagreed';
}

/** A member as the picker sees it. */
export interface PeerCandidate {
  node: string;
  state: string;
  overloaded?: boolean;
  /** It quarantined itself (quarantine.ts): its view of the targets is in doubt, it vouches for nobody. */
  quarantined?: boolean;
}

/**
 * The node to ask about `checkId`: an alive member other than us, not overloaded (its probes
 * would be inconclusive) and not quarantined (its network is in doubt), the same one for a check while the membership stays (so its reuse works),
 * spread over the members by the check's hash. Null: nobody.
 */
export function pickPeer(checkId: string, members: readonly PeerCandidate[], self: string): string | null {
  const candidates = members.filter((m) => m.node !== self && m.state === 'alive' && m.overloaded !== true && m.quarantined !== true).map((m) => m.node);
  if (candidates.length === 0) return null;
  candidates.sort();
  return candidates[fnv1a32(checkId) % candidates.length]!;
}

/**
 * A responder's recent answers per check: an ask within half the check's (shortest) interval of the last
 * probe gets that probe's answer again, so however many nodes ask, a check costs at most one
 * confirming probe per half interval. Times are monotonic ms.
 */
export class ConfirmReuse {
  private readonly answers = new Map<string, { at: number; reply: ConfirmReply }>();

  constructor(private readonly max = CONFIRM_REUSE_MAX) {}

  get(checkId: string, now: number, intervalMs: number): ConfirmReply | null {
    const a = this.answers.get(checkId);
    return a && now - a.at < intervalMs / 2 ? a.reply : null;
  }

  put(checkId: string, now: number, reply: ConfirmReply): void {
    this.answers.delete(checkId);
    this.answers.set(checkId, { at: now, reply });
    if (this.answers.size > this.max) this.answers.delete(this.answers.keys().next().value!);
  }

  get size(): number {
    return this.answers.size;
  }
}

const ID_MAX = 256;
const NODE_MAX = 128;

/** A request from the wire, or null when malformed. */
export function parseConfirmRequest(raw: unknown): ConfirmRequest | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { checkId, from } = raw as Record<string, unknown>;
  if (typeof checkId !== 'string' || checkId.length === 0 || checkId.length > ID_MAX) return null;
  if (typeof from !== 'string' || from.length === 0 || from.length > NODE_MAX) return null;
  return { checkId, from };
}

const REFUSALS: readonly string[] = ['busy', 'unknown_check', 'inconclusive', 'quarantined'];

/** An answer from the wire (it must come from `peer`), or null when malformed. */
export function parseConfirmReply(raw: unknown, peer: string): ConfirmReply | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const r = raw as Record<string, unknown>;
  if (r.node !== peer) return null;
  if (r.type === 'refused') return typeof r.why === 'string' && REFUSALS.includes(r.why) ? { type: 'refused', node: peer, why: r.why as 'busy' } : null;
  if (r.type !== 'probed' || typeof r.ok !== 'boolean') return null;
  const latencyMs = typeof r.latencyMs === 'number' && Number.isFinite(r.latencyMs) && r.latencyMs >= 0 ? r.latencyMs : 0;
  const reason = !r.ok && typeof r.reason === 'string' && Object.hasOwn(Reasons, r.reason) ? (r.reason as FailureReason) : null;
  return { type: 'probed', node: peer, ok: r.ok, reason, latencyMs };
}
