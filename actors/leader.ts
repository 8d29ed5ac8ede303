// Leader election on a KV lease. The decisions are in protocol/lease.ts; this actor only reads and
// writes the key and keeps time with the injected clock.
//
// States (the words an operator reads in the logs):
//   follower.reading   → read the lease key
//   follower.deciding  → followerMove(): wait, create (key absent), or take over (lease expired);
//                        an overloaded node defers while a member could lead instead
//                        (protocol/overload-leadership.ts candidacy: leader_candidacy_deferred)
//   follower.waiting   → poll again after pollMs
//   follower.acquiring → the compare-and-set write; won → leading, lost → waiting
//   leading.renewing   → update(key, {holder, term}, lastRevision); a conflict means another node
//                        holds the lease now: step down at once
//   leading.holding    → wait for the next renewal; if the lease runs out by our own monotonic
//                        clock first (a pause, a NATS outage), step down before anyone can win
//   handingOver        → this leader said it is overloaded and a member could lead instead
//                        (overloadStepDown): it stops acting as leader, then deletes the key with
//                        compare-and-set on its own revision, and follows
//   releasing          → graceful shutdown: delete the key (if still ours) so a follower takes over
//                        on its next poll instead of waiting out the lease
//   stopped            → final
//
// The parent sends MEMBERS (the failure detector's member list, this node's own entry included)
// for the overload decisions. The parent hears ELECTED {term, validUntil}, LEASE_HELD {term,
// validUntil} after every renewal, DEPOSED {term, reason} and TERM_SEEN {term} (a term read from
// the key, used to fence assignment maps). `validUntil` is the monotonic instant the lease runs out by this node's own clock: the
// assigner, told by message, writes no map after it.

import { and, assign, fromPromise, sendParent, setup } from 'xstate';
import { ErrorCode, errorCode, hasCode } from '../protocol/errors';
import { followerMove, leaseEndsAt, leaseLeft, observe, renewDelay, type LeaseConfig, type LeaseView } from '../protocol/lease';
import { candidacy, freeFor, healthyPeers, overloadStepDown, type LeadershipConfig, type Standing } from '../protocol/overload-leadership';
import type { LeaseRecord } from '../protocol/records';
import type { Clock } from '../runtime/clock';
import type { LeaseStore, Versioned } from '../runtime/cluster-store';
import type { Logger } from '../runtime/logger';

export interface LeaderInput {
  store: LeaseStore;
  node: string;
  cfg: LeaseConfig;
  /** This node's overload counts for leadership once it has run this long (LOOKOUT_OVERLOAD_RELIEF_MS; overload-leadership.ts ownLoad). */
  startHoldMs: number;
  clock: Clock;
  log: Logger;
  /** Public leader events (`<prefix>.cluster.leader`). */
  announce(event: { event: 'elected' | 'stepped_down'; node: string; term: number; reason?: string }): void;
}

export type LeaderEvent = { type: 'RELEASE' } | { type: 'MEMBERS'; members: readonly Standing[] };

export type LeaderOutput =
  | { type: 'ELECTED'; term: number; validUntil: number }
  | { type: 'LEASE_HELD'; term: number; validUntil: number }
  | { type: 'DEPOSED'; term: number; reason: string }
  | { type: 'TERM_SEEN'; term: number; holder: string };

interface LeaderContext extends LeaderInput {
  view: LeaseView | null;
  term: number;
  revision: number;
  /** Monotonic time the last successful write was sent. */
  lastWriteAt: number;
  stepDownReason: string;
  /** The member list as last sent by the parent (overload-leadership.ts reads it). */
  members: readonly Standing[];
  /** Monotonic instant of the last step-down for overload. */
  lastStepDownAt: number;
  /** Revision of the key the last candidacy log line was about (one line per opening). */
  notedRevision: number;
}

/**
 * Floor of the wait before a renewal. After a failed renewal renewDelay() is 0 (the renewal is
 * overdue): the next attempt goes at once, but not in a busy loop of 0 ms timers while the store
 * fails fast (≤ 100 attempts a second, each far shorter than any lease).
 */
export const MIN_RENEW_DELAY_MS = 10;

interface WriteResult {
  revision: number;
  sentAt: number;
}

/** What the overload rules of leadership are timed by (overload-leadership.ts). */
const leadership = (ctx: LeaderContext): LeadershipConfig => ({ leaseMs: ctx.cfg.leaseMs, startHoldMs: ctx.startHoldMs });

/** The overload rules' view of this follower now (overload-leadership.ts candidacy). */
const candidacyNow = (ctx: LeaderContext) => {
  const now = ctx.clock.monotonic();
  return candidacy(ctx.node, ctx.members, freeFor(ctx.view, now, ctx.cfg), now, leadership(ctx));
};

export const leaderMachine = setup({
  types: {
    context: {} as LeaderContext,
    input: {} as LeaderInput,
    events: {} as LeaderEvent,
  },
  actors: {
    read: fromPromise<Versioned<LeaseRecord>, LeaseStore>(({ input }) => input.read()),
    acquire: fromPromise<WriteResult, { ctx: LeaderContext }>(async ({ input: { ctx } }) => {
      const move = followerMove(ctx.view, ctx.clock.monotonic(), ctx.cfg);
      const record: LeaseRecord = { holder: ctx.node, term: null };
      const sentAt = ctx.clock.monotonic();
      if (move.type === 'create') return { revision: await ctx.store.create(record), sentAt };
      if (move.type === 'takeover') return { revision: await ctx.store.update(record, move.revision), sentAt };
      throw new Error('nothing to acquire');
    }),
    renew: fromPromise<WriteResult, { ctx: LeaderContext }>(async ({ input: { ctx } }) => {
      const sentAt = ctx.clock.monotonic();
      const revision = await ctx.store.update({ holder: ctx.node, term: ctx.term }, ctx.revision);
      return { revision, sentAt };
    }),
    release: fromPromise<void, { ctx: LeaderContext }>(({ input: { ctx } }) => ctx.store.release(ctx.revision)),
  },
  actions: {
    stepDown: assign(({ context }, params: { reason: string; healthy?: string[] }) => {
      context.log.warn({ event: 'leader_stepped_down', term: context.term, reason: params.reason, ...(params.healthy ? { healthy: params.healthy } : {}) }, 'no longer leader');
      context.announce({ event: 'stepped_down', node: context.node, term: context.term, reason: params.reason });
      return { stepDownReason: params.reason, view: null };
    }),
    noteCandidacy: assign(({ context }) => {
      const revision = context.view?.revision ?? 0;
      const c = candidacyNow(context);
      if (c.reason === 'clear' || revision === context.notedRevision) return {};
      const fields = { event: c.stand ? 'leader_candidacy' : 'leader_candidacy_deferred', reason: c.reason, healthy: c.healthy, revision };
      if (c.stand) context.log.warn(fields, `overloaded, standing for the lease anyway (${c.reason})`);
      else context.log.info(fields, 'overloaded: not standing for the lease while another member could lead');
      return { notedRevision: revision };
    }),
    tellParentDeposed: sendParent(({ context }): LeaderOutput => ({ type: 'DEPOSED', term: context.term, reason: context.stepDownReason })),
  },
  guards: {
    leaseFree: ({ context }) => followerMove(context.view, context.clock.monotonic(), context.cfg).type !== 'wait',
    stands: ({ context }) => candidacyNow(context).stand,
    shouldStepDown: ({ context, event }) =>
      event.type === 'MEMBERS' && overloadStepDown(context.node, event.members, context.clock.monotonic(), context.lastStepDownAt, leadership(context)).stepDown,
    conflict: ({ event }) => hasCode((event as { error?: unknown }).error, ErrorCode.cas_conflict),
    leaseGone: ({ context }) => leaseLeft(context.lastWriteAt, context.clock.monotonic(), context.cfg) <= 0,
  },
  delays: {
    poll: ({ context }) => context.cfg.pollMs,
    renewDelay: ({ context }) => Math.max(MIN_RENEW_DELAY_MS, renewDelay(context.lastWriteAt, context.clock.monotonic(), context.cfg)),
    leaseLeft: ({ context }) => Math.max(0, leaseLeft(context.lastWriteAt, context.clock.monotonic(), context.cfg)),
  },
}).createMachine({
  id: 'leader',
  context: ({ input }) => ({ ...input, log: input.log.child({ actor: 'leader' }), view: null, term: 0, revision: 0, lastWriteAt: -Infinity, stepDownReason: '', members: [], lastStepDownAt: -Infinity, notedRevision: 0 }),
  initial: 'follower',
  on: { MEMBERS: { actions: assign({ members: ({ event }) => event.members }) } },
  states: {
    follower: {
      initial: 'reading',
      on: { RELEASE: '#leader.stopped' },
      states: {
        reading: {
          invoke: {
            src: 'read',
            input: ({ context }) => context.store,
            onDone: {
              target: 'deciding',
              actions: [
                assign({ view: ({ context, event }) => observe(context.view, event.output, context.clock.monotonic()) }),
                sendParent(({ event }): LeaderOutput | { type: 'IGNORED' } =>
                  event.output.record?.term != null ? { type: 'TERM_SEEN', term: event.output.record.term, holder: event.output.record.holder } : { type: 'IGNORED' },
                ),
              ],
            },
            onError: {
              target: 'waiting',
              actions: ({ context, event }) => context.log.warn({ event: 'lease_read_failed', code: errorCode(event.error), err: event.error }, 'cannot read the lease'),
            },
          },
        },
        deciding: {
          always: [
            { guard: and(['leaseFree', 'stands']), target: 'acquiring', actions: 'noteCandidacy' },
            { guard: 'leaseFree', target: 'waiting', actions: 'noteCandidacy' },
            { target: 'waiting' },
          ],
        },
        waiting: {
          after: { poll: 'reading' },
        },
        acquiring: {
          invoke: {
            src: 'acquire',
            input: ({ context }) => ({ ctx: context }),
            onDone: {
              target: '#leader.leading',
              actions: assign(({ event }) => ({ term: event.output.revision, revision: event.output.revision, lastWriteAt: event.output.sentAt })),
            },
            onError: {
              target: 'waiting',
              actions: ({ context, event }) =>
                hasCode(event.error, ErrorCode.cas_conflict)
                  ? context.log.info({ event: 'lease_race_lost', code: ErrorCode.cas_conflict, revision: context.view?.revision }, 'lost the lease race')
                  : context.log.warn({ event: 'lease_write_failed', code: errorCode(event.error), err: event.error }, 'lease write failed'),
            },
          },
        },
      },
    },
    leading: {
      entry: [
        ({ context }) => {
          context.log.info({ event: 'leader_elected', term: context.term }, 'elected leader');
          context.announce({ event: 'elected', node: context.node, term: context.term });
        },
        sendParent(({ context }): LeaderOutput => ({ type: 'ELECTED', term: context.term, validUntil: leaseEndsAt(context.lastWriteAt, context.cfg) })),
      ],
      initial: 'renewing', // the first renewal writes the term into the record
      on: { RELEASE: { target: 'releasing', actions: [{ type: 'stepDown', params: { reason: 'released' } }, 'tellParentDeposed'] } },
      states: {
        holding: {
          on: {
            MEMBERS: [
              {
                guard: 'shouldStepDown',
                target: '#leader.handingOver',
                actions: [
                  assign({ members: ({ event }) => event.members, lastStepDownAt: ({ context }) => context.clock.monotonic() }),
                  { type: 'stepDown', params: ({ context }) => ({ reason: 'overloaded', healthy: healthyPeers(context.node, context.members, context.clock.monotonic(), context.startHoldMs) }) },
                  'tellParentDeposed',
                ],
              },
              { actions: assign({ members: ({ event }) => event.members }) },
            ],
          },
          after: {
            leaseLeft: { target: '#leader.follower', actions: [{ type: 'stepDown', params: { reason: 'lease expired' } }, 'tellParentDeposed'] },
            // Timers that were due while the process was paused fire in any order: check the lease first.
            renewDelay: [
              { guard: 'leaseGone', target: '#leader.follower', actions: [{ type: 'stepDown', params: { reason: 'lease expired' } }, 'tellParentDeposed'] },
              { target: 'renewing' },
            ],
          },
        },
        renewing: {
          invoke: {
            src: 'renew',
            input: ({ context }) => ({ ctx: context }),
            onDone: {
              target: 'holding',
              actions: [
                assign(({ event }) => ({ revision: event.output.revision, lastWriteAt: event.output.sentAt })),
                sendParent(({ context }): LeaderOutput => ({ type: 'LEASE_HELD', term: context.term, validUntil: leaseEndsAt(context.lastWriteAt, context.cfg) })),
              ],
            },
            onError: [
              { guard: 'conflict', target: '#leader.follower', actions: [{ type: 'stepDown', params: { reason: 'lease taken by another node' } }, 'tellParentDeposed'] },
              {
                target: 'holding',
                actions: ({ context, event }) => context.log.warn({ event: 'lease_renew_failed', code: errorCode(event.error), err: event.error }, 'lease renewal failed; retrying'),
              },
            ],
          },
          after: {
            leaseLeft: { target: '#leader.follower', actions: [{ type: 'stepDown', params: { reason: 'lease expired' } }, 'tellParentDeposed'] },
          },
        },
      },
    },
    handingOver: {
      on: { RELEASE: 'stopped' },
      invoke: {
        src: 'release',
        input: ({ context }) => ({ ctx: context }),
        onDone: 'follower',
        onError: {
          target: 'follower',
          actions: ({ context, event }) => context.log.info({ event: 'lease_handover_failed', code: errorCode(event.error), err: event.error }, 'could not delete the lease key (it moved on, or the store is down): the lease runs out instead'),
        },
      },
    },
    releasing: {
      invoke: {
        src: 'release',
        input: ({ context }) => ({ ctx: context }),
        onDone: 'stopped',
        onError: 'stopped',
      },
    },
    stopped: { type: 'final' },
  },
});

/** True while the actor may act as leader: in `leading` and with lease left by its own clock. */
export function actsAsLeader(snapshot: { matches(v: unknown): boolean; context: LeaderContext }): boolean {
  const c = snapshot.context;
  return snapshot.matches('leading') && leaseLeft(c.lastWriteAt, c.clock.monotonic(), c.cfg) > 0;
}
