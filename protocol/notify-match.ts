// Routing: which notifiers a verdict change goes to, and the one name each delivery has. Pure.
//
// A status message is a notification when it is a change (`from` ≠ `to`: a quorum message that only
// says the quorum was lost or formed again is not), its `to` is in the notifier's `on`, and it is not
// a check's first verdict `unknown → up` (a new check coming up is no news; `unknown → down` is). The
// check must match the notifier's id globs (any, when none) and carry every label it names.
//
// Degraded and flapping (published-verdict.ts) are opt-in per notifier (`on`). A notifier whose `on`
// lacks `degraded` reads degraded as up: up ↔ degraded is no news to it, degraded → down is a down
// and down → degraded an up. A notifier without `flapping` is not told of a change to flapping, and
// is told of the change out of it to a verdict in its `on` (flapping → down is a down).

import { isPublishedVerdict } from './published-verdict';
import { labelsMatch } from './state-query';
import type { NormalizedNotifier, NotifyOn } from './notifier';

/** What routing reads of a status message (protocol/records.ts StatusMessage, QuorumStatusMessage). */
export interface StatusView {
  checkId: string;
  from: string;
  to: string;
  at: string;
  node: string | null;
  epoch: number;
  seq: number;
  reason: string | null;
  message: string | null;
}

/** Why a status message is not routed at all, or null when it is a notifiable change. */
export type NotNotifiable = 'not_a_change' | 'first_verdict_up';

export function notifiable(m: Pick<StatusView, 'from' | 'to'>): NotNotifiable | null {
  if (m.from === m.to) return 'not_a_change';
  if (m.from === 'unknown' && m.to === 'up') return 'first_verdict_up';
  return null;
}

/**
 * `*` matches any run of characters (none included), `?` exactly one; everything else itself.
 * Iterative with one backtrack point: O(|glob| × |id|) at worst, no regex (ids and globs are
 * ≤ 128 characters).
 */
export function globMatch(glob: string, id: string): boolean {
  let g = 0;
  let i = 0;
  let star = -1;
  let mark = 0;
  while (i < id.length) {
    if (g < glob.length && (glob[g] === '?' || glob[g] === id[i])) {
      g++;
      i++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      mark = i;
    } else if (star >= 0) {
      g = star + 1;
      i = ++mark;
    } else return false;
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** The notifier takes changes of this check (ids and labels); `labels` are the spec's. */
export function matchesCheck(n: Pick<NormalizedNotifier, 'match'>, checkId: string, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (n.match.ids !== null && !n.match.ids.some((g) => globMatch(g, checkId))) return false;
  return labelsMatch(labels, n.match.labels);
}

/** The notifier's `on` takes this change (degraded read as up without `degraded` in it). */
export function wantsChange(on: readonly NotifyOn[], m: Pick<StatusView, 'from' | 'to'>): boolean {
  const fold = (v: string): string => (v === 'degraded' && !on.includes('degraded') ? 'up' : v);
  const from = fold(m.from);
  const to = fold(m.to);
  return notifiable({ from, to }) === null && on.includes(to as NotifyOn);
}

/** The notifiers a notifiable change goes to. */
export function routeChange(notifiers: readonly NormalizedNotifier[], m: StatusView, labels: Readonly<Record<string, string>> | undefined): NormalizedNotifier[] {
  if (notifiable(m) !== null) return [];
  return notifiers.filter((n) => wantsChange(n.on, m) && matchesCheck(n, m.checkId, labels));
}

/**
 * The delivery's name: `<notifier>:<check>:<epoch>:<seq>`. Unique per (notifier, transition):
 * JetStream's Nats-Msg-Id of the delivery job (a redelivered transition publishes the same job,
 * deduplicated) and the Lookout-Delivery header receivers may deduplicate on.
 */
export function deliveryId(notifier: string, m: Pick<StatusView, 'checkId' | 'epoch' | 'seq'>): string {
  return `${notifier}:${m.checkId}:${m.epoch}:${m.seq}`;
}

/** A status message as routing reads it, or null when it is not one (hostile input: the subject is public). */
export function statusViewOf(data: unknown): StatusView | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const m = data as Record<string, unknown>;
  const str = (v: unknown, max = 1024): string | null => (typeof v === 'string' && v.length <= max ? v : null);
  const count = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);
  const checkId = str(m.checkId, 128);
  const from = str(m.from, 16);
  const to = isPublishedVerdict(m.to) ? m.to : null;
  const epoch = count(m.epoch);
  const seq = count(m.seq);
  if (!checkId || !/^[A-Za-z0-9_-]+$/.test(checkId) || from === null || to === null || epoch === null || seq === null) return null;
  return { checkId, from, to, at: str(m.at, 64) ?? '', node: str(m.node, 128), epoch, seq, reason: str(m.reason, 64), message: str(m.message) };
}
