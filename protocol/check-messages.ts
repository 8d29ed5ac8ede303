// What one probe outcome publishes: the verdict step and the wire messages built from it — a
// result message for every outcome, a status message when the verdict changes (records.ts has
// the shapes and their public-contract rule). Pure: the check table (check-table.ts) passes the
// check's verdict state in and stores what comes back.
//
//   outcome → verdict policy (verdict.ts) + flags (published-verdict.ts) → seq + 1 → result { …, seq, slot, intervalMs, history, skipped, degraded?, flapping? }
//           → published verdict (up / degraded / down / flapping) ≠ last published? → status { from, to, seq }
//
// seq counts a check's results per rank (the `vantage` field) and continues across handover and restart
// (check-resume.ts); `skipped` counts the rounds dropped between the previous probe and this one
// (rounds dropped while a probe runs, or because it started late, go on the next probe's result); a status message names the failure only on a change to down
// (the breached threshold on a change to degraded, the percent state change on one to flapping).
//
// An inconclusive outcome (the node's own stall, not the target: overload.ts) is published as a
// result with the next seq and the verdict and history as they were: it never enters the history,
// never changes the verdict and never makes a status message. So is a failure another node saw
// healthy (confirm.ts, `disagreed`); any confirmation is carried on the result, and on the status
// message of a change to down. And so is a failure that would announce down while the fleet is in
// panic (panic.ts): its result says `held: "panic"`. While the node is quarantined (quarantine.ts)
// no verdict change at all is announced: the result says `held: "quarantine"`.

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { ResultMessage, StatusMessage } from './records';
import { keepsVerdict, type Confirmation } from './confirm';
import { isInconclusive } from './overload';
import { withGroup } from './panic-groups';
import { changeCause, flagFields, NO_FLAGS, stepPublished, type PublishedVerdict } from './published-verdict';
import type { VerdictState } from './verdict';

/** Who publishes: the same for every check of a table. */
export interface Publisher {
  nodeId: string;
  /** Assignment epoch under which the probe ran. */
  epoch: number;
  /** This node's rank among the shard's owners (published as `vantage`). */
  rank: number;
  /** LOOKOUT_PANIC_GROUP_LABEL: a status message names the check's group (panic-groups.ts). Absent or '': none. */
  groupLabel?: string;
}

/**
 * The probe that produced the outcome: its slot, the instant it started (wall clock, ms), the
 * rounds skipped between the previous probe started here and this one (published as `skipped`),
 * and the interval it ran at.
 */
export interface ProbeRun {
  slot: number;
  startedAt: number;
  skipped: number;
  /** The interval of the slot grid the probe ran on (state-interval.ts; published as `intervalMs`). */
  intervalMs: number;
}

/** A check's published state, before or after one outcome. */
export interface PublishedState {
  verdict: VerdictState;
  seq: number;
  /** The verdict the last status message announced ('unknown' before the first). */
  published: PublishedVerdict | 'unknown';
  /** The flags beside the policy's verdict (published-verdict.ts); absent: false. */
  degraded?: boolean;
  flapping?: boolean;
}

export interface OutcomeMessages {
  next: PublishedState;
  result: ResultMessage;
  /** Null when the verdict did not change. */
  status: StatusMessage | null;
}

/** Why verdict changes are held now: `panic` holds changes to down, `quarantine` every change; true is `panic`. */
export type VerdictHold = boolean | 'panic' | 'quarantine';

/** Apply one outcome of check `id` (probed with `spec`) to its state, and build what to publish. */
export function outcomeMessages(id: string, spec: NormalizedSpec, run: ProbeRun, o: ProbeOutcome, state: PublishedState, by: Publisher, confirmation?: Confirmation, hold: VerdictHold = false): OutcomeMessages {
  const seq = state.seq + 1;
  const at = new Date(run.startedAt).toISOString();
  const kept = (held?: 'panic' | 'quarantine'): OutcomeMessages => {
    const result = withConfirmation(resultMessage(id, spec, run, o, state.verdict, seq, at, by, { degraded: state.degraded ?? false, flapping: state.flapping ?? false }), confirmation);
    if (held) result.held = held;
    return { next: { ...state, seq }, result, status: null };
  };
  if (isInconclusive(o) || keepsVerdict(confirmation)) return kept();
  const flags = { degraded: state.degraded ?? false, flapping: state.flapping ?? false };
  const step = stepPublished(spec, { verdict: state.verdict, ...flags }, o);
  const to = step.to;
  // The panic guard (panic.ts) holds a change to down: the verdict stays, the result says why.
  if ((hold === true || hold === 'panic') && to === 'down' && state.published !== 'down') return kept('panic');
  // A quarantined node (quarantine.ts) announces no verdict change: its view of the targets is in doubt.
  if (hold === 'quarantine' && to !== state.published) return kept('quarantine');
  const result = withConfirmation(resultMessage(id, spec, run, o, step.verdict, seq, at, by, step), confirmation);
  const changed = to !== state.published;
  return {
    next: { verdict: step.verdict, seq, published: to, degraded: step.degraded, flapping: step.flapping },
    result,
    status: changed ? withGroup(withConfirmation(statusMessage(id, state.published, to, changeCause(spec, step, o), seq, at, by), confirmation), spec, by.groupLabel) : null,
  };
}

function withConfirmation<M extends { confirmation?: Confirmation }>(msg: M, confirmation: Confirmation | undefined): M {
  if (confirmation) msg.confirmation = confirmation;
  return msg;
}

/** `<prefix>.result.<id>`: one per probe. Optional HTTP fields only when the probe measured them. */
export function resultMessage(id: string, spec: NormalizedSpec, run: ProbeRun, o: ProbeOutcome, verdict: VerdictState, seq: number, at: string, by: Publisher, flags = NO_FLAGS): ResultMessage {
  return {
    checkId: id,
    ok: o.ok,
    status: verdict.status,
    latencyMs: o.latencyMs,
    reason: o.reason,
    message: o.message,
    node: by.nodeId,
    at,
    epoch: by.epoch,
    seq,
    vantage: by.rank,
    kind: spec.kind,
    target: spec.target,
    slot: run.slot,
    intervalMs: run.intervalMs,
    timings: o.timings,
    ...(o.httpStatus !== undefined ? { httpStatus: o.httpStatus } : {}),
    ...(o.bodyBytes !== undefined ? { bodyBytes: o.bodyBytes } : {}),
    ...(o.truncated !== undefined ? { truncated: o.truncated } : {}),
    ...(o.redirects !== undefined ? { redirects: o.redirects } : {}),
    ...(o.cert !== undefined ? { cert: o.cert } : {}),
    ...(o.dns !== undefined ? { dns: o.dns } : {}),
    ...(o.step !== undefined ? { step: o.step } : {}),
    ...(o.grpc !== undefined ? { grpc: o.grpc } : {}),
    ...(o.push !== undefined ? { push: o.push } : {}),
    ...(o.stallMs !== undefined ? { stallMs: o.stallMs } : {}),
    history: verdict.history,
    skipped: run.skipped,
    ...flagFields(verdict.status, flags),
  };
}

/** `<prefix>.status.<id>`: the published verdict changed; `cause` is published-verdict.ts changeCause. */
export function statusMessage(id: string, from: PublishedVerdict | 'unknown', to: PublishedVerdict, cause: Pick<StatusMessage, 'reason' | 'message'>, seq: number, at: string, by: Publisher): StatusMessage {
  return {
    checkId: id,
    from,
    to,
    at,
    node: by.nodeId,
    epoch: by.epoch,
    seq,
    vantage: by.rank,
    reason: cause.reason,
    message: cause.message,
  };
}

/**
 * The log level of a published verdict change. A check's first verdict `up` (from `unknown`) is
 * debug: a node starting with 100k checks would otherwise write 100k info lines (~25 MB) in its
 * first interval, none of which tells an operator of an incident; the status is still published and
 * counted (lookout_verdict_transitions_total). Every other change, a first `down` included, is info.
 */
export function verdictChangeLevel(from: string, to: string): 'info' | 'debug' {
  return from === 'unknown' && to === 'up' ? 'debug' : 'info';
}
