// The check table's vocabulary (check-table.ts): the directives it returns for the runner to
// carry out, one check's entry, how a check starts, and the table's options. Types only.

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { CatchUpPacer } from './catch-up-pacer';
import type { ProbeRun } from './check-messages';
import type { ResumePhase } from './check-resume';
import type { ResultMessage, ResumeState, StatusMessage } from './records';
import type { PublishedVerdict } from './published-verdict';
import type { VerdictState } from './verdict';

/** What the table asks the runner to do (`schedule` and `unschedule` name a check; the runner keys its timers). */
export type Directive =
  | { type: 'schedule'; id: string; at: number }
  | { type: 'unschedule'; id: string }
  /** Look the check's last published state up. `perVantage`: in its vantage's resume record too (resume-record.ts). */
  | { type: 'resume'; id: string; rank: number; perVantage: boolean }
  /** `intervalMs`: the interval of the slot grid the probe runs on (state-interval.ts). */
  | { type: 'probe'; id: string; token: number; spec: NormalizedSpec; intervalMs: number }
  | { type: 'abort'; id: string; token: number }
  /** Ask another node to probe once before this failure counts (confirm.ts); the probe stays in flight until the answer. */
  | { type: 'confirm'; id: string; token: number; spec: NormalizedSpec; outcome: ProbeOutcome }
  | { type: 'result'; msg: ResultMessage }
  | { type: 'status'; msg: StatusMessage }
  /** Keep the state a result left for its vantage (replicas > 1 only): published after the result. */
  | { type: 'keepState'; id: string; rank: number; state: ResumeState }
  | { type: 'skipped'; id: string; slot: number; count: number };

/** A probe running: its slot, start and token (an outcome with another token is stale). */
export type InFlight = ProbeRun & { token: number };

/** An outcome that finished before the resume lookup answered. */
export type Parked = { inFlight: InFlight; spec: NormalizedSpec; outcome: ProbeOutcome };

/**
 * One check's probes since it last started probing here (protocol/overlap.ts counts what ran twice
 * from it), as `RunnerNotes` keeps them in the table's entry, fields prefixed `ran`: the timer
 * queue's resume count when the stretch began (a hold ends a stretch: the queue has resumed since),
 * the first and last start on the wall clock in ms since the runner's `wallOrigin` (whole ms,
 * rounded up), how many (0: no probe yet), the interval of the last. Small integers all, in the
 * entry itself: an object per check cost ~6 MB at 100k checks, and a field holding ms since 1970 or
 * a fraction of a ms boxes a number per field and check (BENCHMARKS.md §2).
 */
export interface ProbeStretch {
  resumes: number;
  first: number;
  last: number;
  n: number;
  intervalMs: number;
}

/**
 * What the check runner notes per check beside the table's own state (actors/runner-directives.ts
 * noteProbe, the RESUMED event), read at a handover. Kept in the table's entry, read and written in
 * place: at 100k checks two more maps keyed by id cost ~7 MB (BENCHMARKS.md §2).
 */
export interface RunnerNotes {
  /** The probes of the check's current stretch here (ProbeStretch); ranN 0: none yet. */
  ranN: number;
  ranResumes: number;
  ranFirst: number;
  ranLast: number;
  ranIntervalMs: number;
  /** The seq it resumed from when it started from the result stream (a late release counts duplicates from it); null: it did not. */
  resumedSeq: number | null;
}

/** The check's current stretch as one record (read at a handover), or null before its first probe. */
export function stretchOf(notes: RunnerNotes | undefined): ProbeStretch | null {
  return notes && notes.ranN > 0 ? { resumes: notes.ranResumes, first: notes.ranFirst, last: notes.ranLast, n: notes.ranN, intervalMs: notes.ranIntervalMs } : null;
}

export interface CheckEntry extends RunnerNotes {
  spec: NormalizedSpec;
  /**
   * Slot of the next scheduled probe (its label), in ms from the table's slot base (check-table.ts
   * slotOf: a small integer, where the label itself would be a boxed number), and the interval it
   * was computed with (`slotInterval`: the spec's intervalMs or a state-dependent one, state-interval.ts).
   */
  slotOff: number;
  /** This node's clock − the slot labels' clock (0 unless continued from a skewed holder's release). */
  shift: number;
  slotInterval: number;
  /** The next probe is a catch-up probe off the slot grid. */
  catchUp: boolean;
  inFlight: (InFlight & { spec: NormalizedSpec }) | null;
  /** null until the resume phase is `resumed` (the last published state is being looked up). */
  verdict: VerdictState | null;
  /** Where the check is in continuing from its last published state (check-resume.ts). */
  resume: ResumePhase;
  /** Outcomes that finished before the lookup did; applied in order once it returns (rare: allocated on demand). */
  parked: Parked[] | null;
  seq: number;
  /** Seq numbers to skip when the state is resumed (a takeover: check-resume.ts takeoverSeqGap). */
  seqGap: number;
  /** The verdict the last status message announced (published-verdict.ts), and the flags it is derived with. */
  published: PublishedVerdict | 'unknown';
  degraded: boolean;
  flapping: boolean;
  /**
   * Rounds skipped since the last probe started here (it was still running, or the process fell
   * behind): announced on the next probe's result, never on the one before them.
   */
  skipped: number;
  /** A probe started here (a boolean, not its time: a time stored per probe would box a new number each time). */
  probed: boolean;
}

/**
 * How a check new to the table starts: `fresh` on its next slot; `takeover` (its owner is gone)
 * with one paced catch-up probe; `deadTakeover` (its owner is held dead: it may have published
 * unseen, or still publish behind a frozen link) the same, and its seq skips takeoverSeqGap;
 * `restartTakeover` (its owner restarted: a new life is heard, the old one died moments ago) on its
 * next slot, seq skipped like `deadTakeover` — no catch-up: the old life's last probe is likely in
 * the current interval (a restart is heard well within one), and a catch-up there ran the slot twice,
 * uncounted (no release comes from a life that is gone: the long `flapping` run of 2026-12-02).
 */
export type StartMode = 'fresh' | 'takeover' | 'deadTakeover' | 'restartTakeover';

export interface TableOptions {
  nodeId: string;
  /** This node's rank in the shard's owner list (0: the primary). */
  rank: number;
  jitterMs: number;
  /** A number in [0, 1): injected so tests are deterministic. */
  random: () => number;
  /** Node-wide pacing of catch-up probes (shared by every table of the node). */
  catchUps: CatchUpPacer;
  /** A takeover's unseen window (check-resume.ts takeoverSeqGap); absent or 0: seq continues without a gap. */
  takeoverUnseenMs?: number;
  /** LOOKOUT_PANIC_GROUP_LABEL (panic-groups.ts): status messages name the check's group. Absent or '': none. */
  groupLabel?: string;
}

