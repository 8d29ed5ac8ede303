// Assignment follower: every node watches the stored map and follows the newest acceptable one
// (protocol/assignment-record.ts judgeMap: nothing from a term older than the highest term seen,
// nothing not newer than what we follow). A periodic re-read backs the watch up across reconnects.
// While NATS is unreachable the node keeps the last map it followed (AP for checking). On REREAD
// (the pause guard, after a pause) it reads the map at once, follows it if newer, and then answers
// MAP_REREAD with the epoch it follows — after any ASSIGNED that read produced.

import { fromCallback } from 'xstate';
import { judgeMap, slotsOf, type Slot } from '../protocol/assignment-record';
import { errorCode } from '../protocol/errors';
import type { AssignmentRecord } from '../protocol/records';
import type { Clock, TimerHandle } from '../runtime/clock';
import type { AssignmentStore, Versioned } from '../runtime/cluster-store';
import type { Logger } from '../runtime/logger';

export interface FollowerInput {
  store: AssignmentStore;
  node: string;
  clock: Clock;
  log: Logger;
  /** Re-read period backing up the watch. */
  rereadMs: number;
}

export type FollowerEvent = { type: 'TERM_SEEN'; term: number } | { type: 'REREAD' };

/** The answer to REREAD: the map was read (and followed if newer), or could not be. */
export type MapReread = { type: 'MAP_REREAD'; ok: boolean; epoch: number | null; code?: string };

/** Floor of the re-read period (1 s), for short leases (the test profile's is 1.2 s). */
export const ASSIGNMENT_REREAD_MIN_MS = 1_000;

/**
 * The re-read period: one lease (LOOKOUT_LEASE_MS), at least ASSIGNMENT_REREAD_MIN_MS. The re-read
 * only backs up the watch (one lost across a reconnect), so a map the watch missed is followed
 * within one lease, the time a change of leader takes anyway, at one KV read per lease per node.
 */
export function assignmentRereadMs(leaseMs: number): number {
  return Math.max(ASSIGNMENT_REREAD_MIN_MS, leaseMs);
}

export interface Assigned {
  type: 'ASSIGNED';
  record: AssignmentRecord;
  slots: Slot[];
}

export const assignmentFollower = fromCallback<FollowerEvent, FollowerInput>(({ input, sendBack, receive }) => {
  const { store, node, clock } = input;
  const log = input.log.child({ actor: 'assignment-follower' });
  let current: AssignmentRecord | null = null;
  let maxTerm = 0;
  let stopWatch: (() => void) | null = null;
  let timer: TimerHandle | null = null;
  let stopped = false;

  const consider = (v: Versioned<AssignmentRecord>) => {
    const rec = v.record;
    if (!rec) return;
    const verdict = judgeMap(current, maxTerm, rec);
    if (verdict === 'stale_term') {
      log.warn({ event: 'assignment_stale_term', term: rec.term, epoch: rec.epoch, leader: rec.leader, maxTerm }, 'ignoring an assignment from an older term');
      return;
    }
    if (verdict === 'not_newer') return;
    current = rec;
    maxTerm = Math.max(maxTerm, rec.term);
    const slots = slotsOf(rec, node);
    log.info({ event: 'assignment_followed', term: rec.term, epoch: rec.epoch, leader: rec.leader, slots: slots.length, members: rec.members.length }, 'following assignment');
    sendBack({ type: 'ASSIGNED', record: rec, slots } satisfies Assigned);
  };

  const reread = () => {
    store.read().then(consider, (err: unknown) => log.debug({ event: 'assignment_reread_failed', code: errorCode(err), err }, 'assignment re-read failed'));
    if (!stopped) timer = clock.setTimeout(reread, input.rereadMs);
  };

  store
    .watch(consider, (err) => log.warn({ event: 'assignment_watch_ended', code: errorCode(err), err }, 'assignment watch ended'))
    .then(
      (stop) => {
        if (stopped) stop();
        else stopWatch = stop;
      },
      (err: unknown) => log.warn({ event: 'assignment_watch_failed', code: errorCode(err), err }, 'cannot watch the assignment; relying on re-reads'),
    );
  timer = clock.setTimeout(reread, input.rereadMs);

  receive((e) => {
    if (e.type === 'REREAD') {
      store.read().then(
        (v) => {
          consider(v);
          sendBack({ type: 'MAP_REREAD', ok: true, epoch: current?.epoch ?? null } satisfies MapReread);
        },
        (err: unknown) => sendBack({ type: 'MAP_REREAD', ok: false, epoch: current?.epoch ?? null, code: errorCode(err) ?? 'error' } satisfies MapReread),
      );
      return;
    }
    if (e.type === 'TERM_SEEN' && e.term > maxTerm) {
      maxTerm = e.term;
      log.info({ event: 'leader_term_seen', term: e.term }, 'newer leader term seen');
    }
  });

  return () => {
    stopped = true;
    stopWatch?.();
    if (timer !== null) clock.clearTimeout(timer);
  };
});
