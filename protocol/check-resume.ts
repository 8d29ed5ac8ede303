// How a check gained by this node continues from its last published state: the resume state
// machine of one check-table entry (check-table.ts). Pure: the table feeds it what happened and
// carries out the action it names.
//
// A new owner must not restart a check's seq or flip its verdict. A planned move carries seq and
// verdict in the holder's release (handover.ts); a check without one (its owner died, nobody
// answered the claim, a check added later) looks up the newest message on `<prefix>.result.<id>`
// (ResumeState, records.ts: with its `degraded` / `flapping` flags, so the published verdict —
// published-verdict.ts — continues too) before applying its first outcome. Outcomes that finish before the
// lookup answers are parked and applied in order after it. The table now always answers with
// `recent: false` (nobody keeps probing by plan while we look up), so the re-lookup phases below
// are kept only as the legal transitions of the machine.
//
// Phases and the legal transitions (anything else leaves the phase as it is):
//
//   lookingUp ──answer: a recent state¹, no probe started yet──▶ awaitingFirstProbe   (wait)
//   lookingUp ──answer: none, not recent², or probed─────▶ resumed               (apply)
//   awaitingFirstProbe ──first due slot──▶ lookingUpAgain                            (lookup)
//   lookingUpAgain ──answer──▶ resumed                                               (apply)
//
//   ¹ recent: found while the previous owner is known to be still probing.
//   ² the check table never compares a found slot with its own clock (issue 11 §1).
//
// Deliberate no-ops are named too: `none` for a due slot that needs no lookup (lookingUp,
// lookingUpAgain, resumed), `ignore` for an answer nobody waits for (awaitingFirstProbe: the first
// answer was taken; resumed: the state is known — e.g. the answer to a check removed and set again).
// The verdict is known (outcomes apply at once, nothing parks) only in `resumed`.

import type { NormalizedPolicy } from '../checks/spec';
import type { ResumeState } from './records';
import { flagsOf, NO_FLAGS, publishedOf, type PublishedVerdict, type VerdictFlags } from './published-verdict';
import { initialVerdict, type VerdictState } from './verdict';

export const ResumePhase = {
  /** The lookup issued when the check was gained is out. */
  lookingUp: 'lookingUp',
  /** The previous owner was still probing: look the state up again at this node's first probe. */
  awaitingFirstProbe: 'awaitingFirstProbe',
  /** That second lookup is out. */
  lookingUpAgain: 'lookingUpAgain',
  /** The state is known (found, or a fresh start): outcomes apply directly. */
  resumed: 'resumed',
} as const;
export type ResumePhase = (typeof ResumePhase)[keyof typeof ResumePhase];

export type ResumeInput =
  /** The check's slot came due (and is still this node's). */
  | { type: 'due' }
  /** A lookup answered. `recent`: a state was found while its previous owner still probes. `probed`: a probe of this check already started here. */
  | { type: 'answer'; recent: boolean; probed: boolean };

export const ResumeAction = {
  /** Look the last published state up (again). */
  lookup: 'lookup',
  /** Keep the answer aside: the previous owner's last results are not in yet. */
  wait: 'wait',
  /** Take the answer: verdict, seq and published status from it (or a fresh start), then apply parked outcomes. */
  apply: 'apply',
  /** An answer nobody waits for: dropped. */
  ignore: 'ignore',
  /** A due slot that needs no lookup. */
  none: 'none',
} as const;
export type ResumeAction = (typeof ResumeAction)[keyof typeof ResumeAction];

export interface ResumeStep {
  phase: ResumePhase;
  action: ResumeAction;
}

/** One transition of the resume state machine (the table in the opening comment). */
export function resumeStep(phase: ResumePhase, input: ResumeInput): ResumeStep {
  switch (input.type) {
    case 'due':
      return phase === 'awaitingFirstProbe' ? { phase: 'lookingUpAgain', action: 'lookup' } : { phase, action: 'none' };
    case 'answer':
      switch (phase) {
        case 'lookingUp':
          return input.recent && !input.probed ? { phase: 'awaitingFirstProbe', action: 'wait' } : { phase: 'resumed', action: 'apply' };
        case 'lookingUpAgain':
          return { phase: 'resumed', action: 'apply' };
        case 'awaitingFirstProbe':
        case 'resumed':
          return { phase, action: 'ignore' };
        default: {
          const never: never = phase;
          throw new Error(`unknown resume phase ${String(never)}`);
        }
      }
    default: {
      const never: never = input;
      throw new Error(`unknown resume input ${JSON.stringify(never)}`);
    }
  }
}

/**
 * What a check continues from: the found state, or the policy's initial verdict with nothing
 * published. `seqGap`: seq numbers skipped (a takeover: takeoverSeqGap), so the next result's seq is
 * past any the previous holder may have published that the lookup did not see.
 */
export function continueFrom(state: ResumeState | null, policy: NormalizedPolicy, seqGap = 0): { verdict: VerdictState; seq: number; published: PublishedVerdict | 'unknown' } & VerdictFlags {
  if (state) {
    const flags = flagsOf(state);
    return { verdict: { status: state.status, history: state.history }, seq: state.seq + seqGap, published: publishedOf(state.status, flags), ...flags };
  }
  return { verdict: initialVerdict(policy), seq: seqGap, published: 'unknown', ...NO_FLAGS };
}

/**
 * How many seq numbers a takeover skips. The holder taken over without a release (held dead) may
 * have published results the result stream did not show yet — or may still be alive behind a
 * frozen link, publishing under the old map until it notices. Both last at most `unseenWindowMs`
 * (until the others declared it dead, plus until it notices its own link dead: a few NATS pings),
 * so at most one result per interval of that window, plus one in flight. Skipping that many keeps
 * its late results from sharing a seq with ours; consumers see a gap, never a repeat. Clock-free:
 * durations of this node's own settings only. 0: no window (no gap).
 */
export function takeoverSeqGap(intervalMs: number, unseenWindowMs: number): number {
  return unseenWindowMs > 0 ? Math.ceil(unseenWindowMs / intervalMs) + 1 : 0;
}
