// Check runner: one actor per owned (shard, rank). It holds the shard's CheckTable and carries out
// what the table decides (runner-directives.ts): arms the node's shared timer queue, runs probes,
// publishes results and transitions. No per-check actor, no per-check timer. A (shard, rank)
// changes hands by message (protocol/handover.ts; the runner's side in runner-handover.ts), never
// at a wall-clock instant.
//
// States (what an operator reads in the logs) and the legal transitions:
//   claiming  — gained from a live (or unknown) holder: listen for its release, claim, wait
//               ──release──▶ running (seq, verdict and next slot from it)
//               ──no responders, or silent for LOOKOUT_CLAIM_WAIT_MS──▶ running (result stream)
//   running   — probing; answers claims ──claim──▶ releasing ──a map that moves the slot──▶ moved
//               (a claim from a node this one holds dead or still starting is answered `held`:
//               probing on for it until a view that hears it running moves the slot)
//               (a fresh or taken-over start comes straight here, from the result stream; a
//               takeover also sends one takeover claim: a holder that had the slot without
//               owning it answers with its release, counted as a late release)
//   moved     — still probing until the new owner's claim ──claim, or LOOKOUT_CLAIM_WAIT_MS──▶ releasing
//   releasing — starts nothing new; in-flight probes finish and publish (grace period) ──▶ released
//   released  — the release is published and kept to answer late claims ──keep time──▶ stopped
//               (releasing or released, a claim from a node other than the first claimant is
//               answered `taken`: the release goes to one claimant only)
//   draining  — the node stops without a handover: in-flight probes may finish, then stopped
//   stopped   — final (the parent hears xstate.done.actor.<id>)

import { setup } from 'xstate';
import { CheckTable } from '../protocol/check-table';
import { claimAttemptMs, MOVED_WAITS, movedWait, releaseKeepMs, staleRelease as isStale } from '../protocol/handover';
import type { ReleaseRecord, ResumeState } from '../protocol/records';
import { QuorumTable } from '../protocol/quorum-table';
import { applyEvent, carryOut } from './runner-directives';
import { quorumStop } from './runner-quorum';
import { pushDisownAll } from './runner-push';
import { answerClaims, answerHeld, answerTaken, claimDecision, nextOf, takeForeignRelease, expectedHolder, fromExpectedHolder, keptAnswer, listenForReleases, loadChecks, noteClaimed, noteTaken, publishRelease, sendClaim, stallOf, startFromStream, stopListening, streamMode, unheldSince } from './runner-handover';
import type { RunnerContext, RunnerEvent, RunnerInput } from './runner-ports';
import { InFlightStops } from '../checks/probe-stop';

export type { RunnerEvent, RunnerInput, RunnerPorts, RunnerStart } from './runner-ports';

/** The release an event carries: heard on `.release`, or a claim's `released` answer. */
const releaseOf = (e: RunnerEvent): ReleaseRecord | null => (e.type === 'RELEASE' ? e.release : e.type === 'CLAIM_RESULT' && e.answer?.answer === 'released' ? e.answer.release : null);

/**
 * The first check of a runner that started with none, where its start was a claim from a live
 * holder: the holder may still probe it (moved, waiting for our claim), so claim now. Its release
 * comes on `.release` and is taken like a late one (takeForeignRelease): the check, not probed here
 * yet, continues from it; else the probes both ran are counted. A loaded CI run: a node leaving by
 * SIGTERM probed on for 3 s beside the new owner, whose shard watch had not delivered the specs yet.
 */
function claimLate(context: RunnerContext): void {
  if (context.claimLateUntil === 0) return;
  const due = context.ports.clock.monotonic() < context.claimLateUntil;
  context.claimLateUntil = 0;
  if (!due) return;
  context.log.info({ event: 'claim_late', holder: expectedHolder(context) }, 'the first check came after the runner started: claiming it from the previous holder now');
  sendClaim(context, false);
}

/** Events a probing runner hands to its table. */
const PROBING = {
  CHECK_SET: { actions: 'apply' },
  CHECK_REMOVE: { actions: 'apply' },
  DUE: { actions: 'apply' },
  PROBE_DONE: { actions: 'apply' },
  RESUMED: { actions: 'apply' },
  EPOCH: { actions: 'apply' },
  VANTAGE_RESULT: { actions: 'apply' },
  QUORUM_RESUMED: { actions: 'apply' },
  CLAIM_RESULT: { actions: 'keptRelease' },
} as const;

/** Events a runner that starts nothing new (releasing, draining) still takes: in-flight probes publish. */
const FINISHING = {
  PROBE_DONE: { actions: 'apply' },
  RESUMED: { actions: 'apply' },
  EPOCH: { actions: 'apply' },
} as const;

export const checkRunnerMachine = setup({
  types: { context: {} as RunnerContext, input: {} as RunnerInput, events: {} as RunnerEvent },
  actions: {
    noteNextOwner: ({ context, event }) => {
      context.nextOwner = event.type === 'STOP' ? (event.nextOwner ?? null) : null;
      context.movedWaits = 0;
    },
    noteMovedWait: ({ context }) => {
      if (context.movedWaits++ === 0) context.log.info({ event: 'move_claim_late', nextOwner: context.nextOwner, waitedMs: context.ports.claimWaitMs }, 'the new owner is alive but has not claimed yet: probing on until it does');
    },
    loadFromStream: ({ context }) => {
      startFromStream(context, streamMode(context, null));
      context.log.debug({ event: 'runner_started', checks: context.table.size, start: context.start.type }, 'runner started');
      // A claim start with no checks yet (the shard's watch has not delivered them): claim when the first comes.
      if (context.start.type === 'claim' && context.start.holder !== null && context.table.size === 0) context.claimLateUntil = context.ports.clock.monotonic() + MOVED_WAITS * context.ports.claimWaitMs;
    },
    startClaim: ({ context, self }) => {
      context.silentSince = context.ports.clock.monotonic();
      context.silentStall = context.claimStall = stallOf(context);
      listenForReleases(context);
      sendClaim(context);
      context.log.debug({ event: 'claim_sent', holder: expectedHolder(context) }, 'claiming from the previous holder');
      // Claim again every attempt's time until an answer or the end of the wait (CLAIM_RETRY judges it).
      // The judgement waits for the I/O already received: after a stall (a busy node applying a large
      // map) timers run before the socket is read, and an answer that arrived during the stall would
      // otherwise be taken for silence.
      const judge = () => {
        if (self.getSnapshot().status !== 'active' || !self.getSnapshot().matches('claiming')) return;
        self.send({ type: 'CLAIM_RETRY' });
        context.ports.clock.setTimeout(tick, claimAttemptMs(context.ports.claimWaitMs));
      };
      const tick = () => void setImmediate(judge);
      context.ports.clock.setTimeout(tick, claimAttemptMs(context.ports.claimWaitMs));
    },
    holderAlive: ({ context, event }) => {
      // The holder answered `releasing` (or `held`: it runs the slot for us until it hears us
      // running; or `taken`: it released to another claimant): it is alive, the wait for its
      // release starts again — or for the answer of the node it released to (noteTaken).
      if (event.type === 'CLAIM_RESULT' && event.event === 'held' && context.heldWaits++ === 0) {
        context.log.info({ event: 'claim_held_by_holder' }, 'the holder runs the slot until it hears this node running: waiting for its release');
      }
      if (nextOf(context, event) === 'waitRelease') {
        context.silentSince = context.ports.clock.monotonic();
        context.silentStall = stallOf(context);
      }
      if (event.type === 'CLAIM_RESULT') noteTaken(context, event.answer);
    },
    retryClaim: ({ context, event }) => nextOf(context, event) === 'retry' && sendClaim(context),
    takeRelease: ({ context, event }) => loadChecks(context, 'fresh', releaseOf(event)),
    claimFallback: ({ context, event }) => {
      const next = nextOf(context, event);
      const holder = expectedHolder(context);
      const mode = streamMode(context, next);
      const unheld = mode === 'fresh' ? unheldSince(context, next) : undefined;
      if (next === 'unanswered') context.log.warn({ event: 'claim_unanswered', holder, waitedMs: context.ports.claimWaitMs }, 'the previous holder did not answer the claim: starting from the result stream');
      else context.log.info({ event: 'claim_no_responders', holder, mode, ...(unheld !== undefined ? { unheldMs: Math.max(0, context.ports.clock.now() - unheld) } : {}) }, 'nobody holds the slot: starting from the result stream');
      startFromStream(context, mode, unheld);
    },
    // The holder answered with a release from before the map that named it: someone else may
    // have held the slot since (protocol/handover.ts staleRelease). From the stream, seq skipped
    // past what a holder still probing may publish, and a takeover claim to find it.
    staleFallback: ({ context, event }) => {
      const release = releaseOf(event);
      context.log.warn({ event: 'release_stale', from: release?.node ?? null, releaseEpoch: release?.epoch ?? null, since: context.start.type === 'claim' ? (context.start.since ?? null) : null }, 'the holder answered with a release older than the map that named it: starting from the result stream');
      startFromStream(context, 'deadTakeover');
    },
    holdSpec: ({ context, event }) => {
      if (event.type === 'CHECK_SET') context.pending.set(event.spec.id, event.spec);
      if (event.type === 'CHECK_REMOVE') context.pending.delete(event.id);
      if (event.type === 'EPOCH') context.table.epoch = event.epoch;
    },
    // A holder's late release, or a provisional taker's (we were held dead): counted and taken (runner-handover.ts).
    hold: ({ context }) => {
      answerClaims(context);
      listenForReleases(context);
    },
    apply: ({ context, event }) => {
      const added = event.type === 'CHECK_SET' && !context.table.has(event.spec.id);
      applyEvent(context, event);
      if (added) claimLate(context);
    },
    answerHeld: ({ context, event }) => event.type === 'CLAIM' && answerHeld(context, event.claim, event.answer),
    answerTaken: ({ context, event }) => event.type === 'CLAIM' && answerTaken(context, event.claim, event.answer),
    answerReleasing: ({ context, event }) => {
      if (event.type !== 'CLAIM') return;
      event.answer({ answer: 'releasing' });
      noteClaimed(context, event.claim);
    },
    answerKept: ({ context, event }) => {
      if (event.type !== 'CLAIM' || claimDecision(context, 'released', event.claim) !== 'answerRelease') return;
      const answer = keptAnswer(context);
      if (!answer) return;
      event.answer(answer);
      noteClaimed(context, event.claim);
    },
    heardRelease: ({ context, event }, params: { probing: boolean }) => event.type === 'RELEASE' && takeForeignRelease(context, event.release, params.probing),
    // The answer to a takeover claim: a holder's kept release, taken like a late one (runner-handover.ts askTakeover).
    keptRelease: ({ context, event }) => event.type === 'CLAIM_RESULT' && event.answer?.answer === 'released' && takeForeignRelease(context, event.answer.release, true),
    stopScheduling: ({ context }) => {
      // The table keeps its entries for in-flight probes and the release: the slot's next owner counts them from now.
      // Its checks' lookups still queued would answer a cleared table: dropped (runtime/result-history.ts).
      context.ports.history.forget(context.resumed);
      context.uncount();
      context.ports.metrics.addChecks(-context.table.size);
      carryOut(context, context.table.clear());
      quorumStop(context);
      context.log.debug({ event: 'runner_draining', checks: context.table.size, inFlight: context.aborts.size }, 'runner stops scheduling');
    },
    publishRelease: ({ context }) => publishRelease(context),
    abandon: ({ context }) => {
      if (context.aborts.size > 0) context.log.warn({ event: 'probes_abandoned', abandoned: context.aborts.size }, 'grace period over: abandoning in-flight probes');
      context.aborts.abortAll();
    },
  },
  guards: {
    waitOnMoved: ({ context }) => movedWait(context.movedWaits, context.nextOwner !== null && context.ports.peerAlive?.(context.nextOwner) === true) === 'wait',
    // A runner with no checks has nothing to continue: it starts at once (checks added later look their state up).
    claims: ({ context }) => context.start.type === 'claim' && context.pending.size > 0,
    idle: ({ context }) => context.aborts.size === 0 && !context.table.hasParked(),
    handover: ({ event }) => event.type === 'STOP' && event.handover === true,
    takesRelease: ({ context, event }) => nextOf(context, event) === 'takeRelease',
    fromStream: ({ context, event }) => ['fromStream', 'unanswered'].includes(nextOf(context, event) ?? ''),
    fromHolder: ({ context, event }) => event.type === 'RELEASE' && fromExpectedHolder(context, event.release),
    // A release from the holder (an answer, or heard on `.release`) made before the map that named it.
    staleRelease: ({ context, event }) => {
      const release = releaseOf(event);
      if (!release || context.start.type !== 'claim') return false;
      if (event.type === 'RELEASE' && !fromExpectedHolder(context, release)) return false;
      return isStale(release, context.start.since);
    },
    claimReleases: ({ context, event }, params: { phase: 'running' | 'moved' }) => event.type === 'CLAIM' && claimDecision(context, params.phase, event.claim) === 'release',
    claimHeld: ({ context, event }, params: { phase: 'running' | 'moved' }) => event.type === 'CLAIM' && claimDecision(context, params.phase, event.claim) === 'answerHeld',
    claimAnswered: ({ context, event }) => event.type === 'CLAIM' && claimDecision(context, 'releasing', event.claim) === 'answerReleasing',
    claimTaken: ({ context, event }, params: { phase: 'releasing' | 'released' }) => event.type === 'CLAIM' && claimDecision(context, params.phase, event.claim) === 'answerTaken',
    // The map reached us while the pause guard held the queue: release now rather than probe on
    // (our late slots would run under the old epoch after the new owner took over).
    handoverAtOnce: ({ event }) => event.type === 'STOP' && event.handover === true && event.atOnce === true,
  },
  delays: {
    grace: ({ context }) => context.ports.graceMs,
    keep: ({ context }) => releaseKeepMs(context.ports.claimWaitMs),
    claimWait: ({ context }) => context.ports.claimWaitMs,
  },
}).createMachine({
  id: 'checkRunner',
  context: ({ input, self }) => {
    const { ports } = input;
    const table = new CheckTable({ nodeId: ports.nodeId, rank: input.rank, jitterMs: ports.jitterMs, random: ports.random, catchUps: ports.catchUps, takeoverUnseenMs: ports.takeoverUnseenMs ?? 0, groupLabel: ports.panicGroupLabel ?? '' });
    table.epoch = input.epoch;
    const send = (e: RunnerEvent) => {
      const snap = self.getSnapshot();
      if (snap.status !== 'active') return;
      // While simply running, a due slot and a finished probe change no state (running has no
      // eventless transition): they go to the table directly, not through the machine — one XState
      // dispatch per probe was ~5% of a probe's CPU (issue 12). Every other state takes them as events.
      if ((e.type !== 'DUE' && e.type !== 'PROBE_DONE') || snap.value !== 'running') return self.send(e);
      try {
        applyEvent(snap.context, e);
      } catch (err) {
        // Not thrown into the timer queue (it would stop arming for every runner) nor into a probe's promise.
        snap.context.log.error({ event: 'runner_event_failed', type: e.type, check: e.id, err }, 'a running check runner failed to apply an event');
      }
    };
    let told = false;
    const quorum = input.rank === 0 ? new QuorumTable(ports.nodeId, ports.panicGroupLabel ?? '') : null;
    // The shard's primary decides its checks' status: it counts them (runtime/verdict-tally.ts).
    const uncount = quorum && ports.verdictTally ? ports.verdictTally.add({ countVerdicts: (into) => table.countVerdicts(into, (id) => quorum.verdictOf(id)) }) : () => {};
    const log = ports.log.child({ actor: 'check-runner', shard: input.shard, rank: input.rank });
    return {
      shard: input.shard,
      rank: input.rank,
      gen: input.gen,
      wallOrigin: Math.floor(ports.clock.now()),
      ports,
      log,
      table,
      quorum,
      quorumUnsubs: new Map(),
      quorumReleased: null,
      due: { onDue: (id: string, at: number, now: number) => send({ type: 'DUE', id, at, now }) },
      // One answer function for every resume lookup of this runner: at a start every check waits in
      // the lookup queue, and a closure per lookup was ~100 bytes more per check (BENCHMARKS.md §2).
      resumed: (id: string, err: unknown, state: ResumeState | null) => {
        if (err) log.warn({ event: 'check_resume_failed', check: id, err }, 'could not read last result; starting the check fresh');
        send({ type: 'RESUMED', id, state });
      },
      aborts: new InFlightStops(),
      pending: new Map(input.specs.map((s) => [s.id, s])),
      start: input.start ?? { type: 'fresh' },
      attempt: 0,
      silentSince: 0,
      silentStall: 0,
      claimStall: 0,
      unsubs: [],
      continuedFrom: null,
      hearsReleases: false,
      kept: null,
      claimedBy: null,
      takenAnswers: 0,
      stopWhenReleased: false,
      nextOwner: null,
      movedWaits: 0,
      heldAnswers: 0,
      heldWaits: 0,
      dropPublishes: false,
      claimLateUntil: 0,
      uncount,
      onHandedOver: () => {
        if (!told) input.onHandedOver?.();
        told = true;
      },
      send,
    };
  },
  initial: 'starting',
  states: {
    starting: {
      always: [{ guard: 'claims', target: 'claiming' }, { target: 'running', actions: 'loadFromStream' }],
    },
    claiming: {
      entry: 'startClaim',
      on: {
        CLAIM_RESULT: [
          { guard: 'staleRelease', target: 'running', actions: 'staleFallback' },
          { guard: 'takesRelease', target: 'running', actions: 'takeRelease' },
          { guard: 'fromStream', target: 'running', actions: 'claimFallback' },
          { actions: 'holderAlive' },
        ],
        RELEASE: [
          { guard: 'staleRelease', target: 'running', actions: 'staleFallback' },
          { guard: 'fromHolder', target: 'running', actions: 'takeRelease' },
        ],
        CLAIM_RETRY: [{ guard: 'fromStream', target: 'running', actions: 'claimFallback' }, { actions: 'retryClaim' }],
        CHECK_SET: { actions: 'holdSpec' },
        CHECK_REMOVE: { actions: 'holdSpec' },
        EPOCH: { actions: 'holdSpec' },
        STOP: 'stopped',
      },
    },
    running: {
      entry: 'hold',
      on: {
        ...PROBING,
        CLAIM: [
          { guard: { type: 'claimReleases', params: { phase: 'running' } }, target: 'releasing', actions: 'answerReleasing' },
          { guard: { type: 'claimHeld', params: { phase: 'running' } }, actions: 'answerHeld' },
        ],
        RELEASE: { actions: { type: 'heardRelease', params: { probing: true } } },
        STOP: [{ guard: 'handoverAtOnce', target: 'releasing' }, { guard: 'handover', target: 'moved', actions: 'noteNextOwner' }, { target: 'draining' }],
      },
    },
    moved: {
      // The map gave the slot to another node: keep probing until its claim (it claims as soon as
      // it has the map, so no slot falls between the two), or release on our own after the wait.
      entry: ({ context }) => context.log.debug({ event: 'runner_moved' }, 'slot moved: probing until claimed'),
      // No checks: the new owner has nothing to claim either (it starts at once), so release now.
      always: { guard: ({ context }) => context.table.size === 0, target: 'releasing' },
      on: {
        ...PROBING,
        CLAIM: [
          { guard: { type: 'claimReleases', params: { phase: 'moved' } }, target: 'releasing', actions: 'answerReleasing' },
          { guard: { type: 'claimHeld', params: { phase: 'moved' } }, actions: 'answerHeld' },
        ],
        RELEASE: { actions: { type: 'heardRelease', params: { probing: true } } },
        // The node stops: release now (a claimant already listening gets it), then stop.
        STOP: [
          { guard: ({ event }) => event.handover !== true, target: 'releasing', actions: ({ context }) => void (context.stopWhenReleased = true) },
          { guard: 'handoverAtOnce', target: 'releasing' },
        ],
      },
      // No claim within a claim wait: wait on while the new owner lives (it loads the shard's specs
      // before it claims), at most MOVED_WAITS times; then release on our own.
      after: { claimWait: [{ guard: 'waitOnMoved', target: 'moved', reenter: true, actions: 'noteMovedWait' }, { target: 'releasing' }] },
    },
    releasing: {
      entry: 'stopScheduling',
      always: { guard: 'idle', target: 'released' },
      after: { grace: { target: 'released', actions: 'abandon' } },
      on: {
        ...FINISHING,
        CLAIM: [
          { guard: 'claimAnswered', actions: 'answerReleasing' },
          { guard: { type: 'claimTaken', params: { phase: 'releasing' } }, actions: 'answerTaken' },
        ],
        RELEASE: { actions: { type: 'heardRelease', params: { probing: false } } },
        // The node stops while we release: finish the release, then stop rather than keep it.
        STOP: { guard: ({ event }) => event.handover !== true, actions: ({ context }) => void (context.stopWhenReleased = true) },
      },
    },
    released: {
      entry: 'publishRelease',
      always: { guard: ({ context }) => context.stopWhenReleased, target: 'stopped' },
      after: { keep: 'stopped' },
      on: {
        CLAIM: [{ guard: { type: 'claimTaken', params: { phase: 'released' } }, actions: 'answerTaken' }, { actions: 'answerKept' }],
        RELEASE: { actions: { type: 'heardRelease', params: { probing: false } } },
        // The node stops: a late claim finds no responders and starts from the result stream.
        STOP: { guard: ({ event }) => event.handover !== true, target: 'stopped' },
      },
    },
    draining: {
      entry: 'stopScheduling',
      always: { guard: 'idle', target: 'stopped' },
      after: { grace: { target: 'stopped', actions: 'abandon' } },
      on: FINISHING,
    },
    stopped: {
      type: 'final',
      entry: ({ context }) => {
        context.ports.history.forget(context.resumed);
        stopListening(context);
        context.uncount();
        quorumStop(context);
        pushDisownAll(context);
        context.log.debug({ event: 'runner_stopped' }, 'runner stopped');
      },
    },
  },
});
