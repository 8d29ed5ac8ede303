// The transition stream `<prefix>_transitions` over `<prefix>.status.>`: every verdict change the
// cluster publishes, kept for LOOKOUT_TRANSITIONS_MAX_AGE_MS (30 days), at most
// LOOKOUT_TRANSITIONS_PER_CHECK per check (a flapping check keeps its newest) and
// LOOKOUT_TRANSITIONS_MAX_BYTES in all (the oldest go first). JetStream captures the status
// messages as they are published: it costs the nodes no extra write. Read by the state API
// (actors/state-api.ts) with direct gets: the newest change of a check is one; a window walks the
// check's retained changes (at most LOOKOUT_TRANSITIONS_PER_CHECK gets). A check's retained
// results (at most LOOKOUT_RESULTS_PER_CHECK) are walked the same way in the result stream.

import type { JetStreamManager, StoredMsg, StreamConfig } from '@nats-io/jetstream';
import type { FailureReason } from '../checks/outcome';
import { resultVerdictOf, verdictOf, type StoredResultView, type Transition } from '../protocol/check-state';
import { isCount } from '../protocol/resume-record';
import type { Config } from './config';
import { boundedStreamConfig, ensureStream } from './storage-limits';
import { subjectMessages } from './subject-walk';
import type { Subjects } from './subjects';


export type TransitionStreamConfig = Pick<Config, 'kvReplicas' | 'transitionsMaxAgeMs' | 'transitionsPerCheck' | 'transitionsMaxBytes'>;

export function transitionStreamConfig(s: Subjects, cfg: TransitionStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return boundedStreamConfig({ name: s.transitionStream(), subject: s.statusWildcard(), perSubject: cfg.transitionsPerCheck, maxAgeMs: cfg.transitionsMaxAgeMs, maxBytes: cfg.transitionsMaxBytes, replicas: cfg.kvReplicas });
}

export async function ensureTransitionStream(jsm: JetStreamManager, s: Subjects, cfg: TransitionStreamConfig): Promise<void> {
  await ensureStream(jsm, transitionStreamConfig(s, cfg), 'LOOKOUT_TRANSITIONS_MAX_BYTES');
}

/** What the state API reads of a check's history. */
export interface CheckHistory {
  /** The newest retained change of `id`, or null. */
  lastChange(id: string): Promise<Transition | null>;
  /** The retained changes of `id`, oldest first (its newest is lastChange's). */
  changes(id: string): Promise<Transition[]>;
  /** The retained results of `id` (every vantage). */
  results(id: string): Promise<StoredResultView[]>;
  /** Drop the verdict changes of a deleted check. */
  purge(id: string): Promise<void>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A stored status message as a change, or null when it is not one. */
export function transitionOf(data: unknown, storedAt: number): Transition | null {
  if (data === null || typeof data !== 'object') return null;
  const m = data as Record<string, unknown>;
  const to = verdictOf(m.to);
  if (to === 'unknown') return null;
  return { from: verdictOf(m.from), to, storedAt, at: str(m.at) ?? new Date(storedAt).toISOString(), node: str(m.node), reason: str(m.reason) as FailureReason | null, message: str(m.message) };
}

/** A stored result as the state shows it, or null when it is not one. */
export function resultViewOf(data: unknown, storedAt: number): StoredResultView | null {
  if (data === null || typeof data !== 'object') return null;
  const r = data as Record<string, unknown>;
  if (typeof r.ok !== 'boolean' || !isCount(r.seq)) return null;
  return {
    ok: r.ok,
    status: resultVerdictOf(r),
    at: str(r.at) ?? new Date(storedAt).toISOString(),
    node: str(r.node) ?? '',
    vantage: isCount(r.vantage) ? r.vantage : 0,
    latencyMs: typeof r.latencyMs === 'number' ? r.latencyMs : 0,
    reason: str(r.reason) as FailureReason | null,
    message: str(r.message),
    seq: r.seq,
    epoch: isCount(r.epoch) ? r.epoch : 0,
    storedAt,
  };
}

const decode = <T>(m: StoredMsg, as: (data: unknown, storedAt: number) => T | null): T | null => {
  try {
    return as(m.json(), m.time.getTime());
  } catch {
    return null;
  }
};

const decodeAll = <T>(ms: StoredMsg[], as: (data: unknown, storedAt: number) => T | null): T[] => ms.map((m) => decode(m, as)).filter((x): x is T => x !== null);

export function streamCheckHistory(jsm: JetStreamManager, s: Subjects, maxChanges: number): CheckHistory {
  const transitions = s.transitionStream();
  return {
    async lastChange(id) {
      const m = await jsm.direct.getMessage(transitions, { last_by_subj: s.status(id) });
      return m ? decode(m, transitionOf) : null;
    },
    async changes(id) {
      return decodeAll(await subjectMessages(jsm, transitions, s.status(id), { max: maxChanges }), transitionOf);
    },
    async results(id) {
      return decodeAll(await subjectMessages(jsm, s.resultStream(), s.result(id)), resultViewOf);
    },
    async purge(id) {
      await jsm.streams.purge(transitions, { filter: s.status(id) });
    },
  };
}
