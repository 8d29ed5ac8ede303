// Pause guard: after a pause (protocol/pause.ts: the process did not run, or was cut off from NATS,
// for about as long as it takes the cluster to declare it dead) the node does not probe or publish
// until it knows which checks it still owns.
//
//   clear ──PAUSED──▶ holding: the timer queue is held (nothing fires), the node told PAUSE_HOLD
//   holding: flush NATS (a round trip proves the link), then ask the node to re-read the map
//            (MAP_REREAD_REQUEST → the assignment follower re-reads and applies whatever is newer,
//            then answers MAP_REREAD) ──▶ clear: resume the queue (pause_confirmed)
//   holding: a failed or timed-out step is retried every retryMs; another PAUSED meanwhile starts
//            the confirmation again; after confirmMaxMs it resumes on the last map (pause_unconfirmed)
//
// The node applies a map that arrives while held `atOnce` (node-view.ts → shard-owner → runner):
// the slots of a shard it lost while away stop at once instead of running late under the old
// epoch; probes it ran after the handover instant (cut off, not paused) still count as duplicates.

import { fromCallback } from 'xstate';
import { errorCode } from '../protocol/errors';
import type { ConfirmTimings, PauseSource } from '../protocol/pause';
import type { Clock, TimerHandle } from '../runtime/clock';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import type { MapReread } from './assignment-follower';

/** What the guard holds: the node's timer queue (runtime/timer-queue.ts). */
export interface Holdable {
  hold(): void;
  resume(): void;
}

export interface PauseGuardInput {
  queue: Holdable;
  /** One round trip to the NATS server; rejects (or never settles) while it cannot be made. */
  flush(): Promise<void>;
  clock: Clock;
  log: Logger;
  metrics: Pick<Metrics, 'pauses'>;
  timings: ConfirmTimings;
}

/** A pause was detected (runtime/pause-detector.ts), or the follower answered a re-read. */
export type PauseGuardEvent = { type: 'PAUSED'; gapMs: number; source: PauseSource } | MapReread;

export type PauseGuardEmitted =
  | { type: 'PAUSE_HOLD' }
  | { type: 'MAP_REREAD_REQUEST' }
  | { type: 'PAUSE_RELEASE'; confirmed: boolean };

export const pauseGuard = fromCallback<PauseGuardEvent, PauseGuardInput>(({ input, sendBack, receive }) => {
  const { clock, queue, timings } = input;
  const log = input.log.child({ actor: 'pause-guard' });
  let holding = false;
  let heldSince = 0;
  let pausedMs = 0;
  let attempts = 0;
  /** Bumped per attempt: answers to an older attempt are ignored. */
  let round = 0;
  let awaitingMap = false;
  let again = false;
  let stepTimer: TimerHandle | null = null;
  let retryTimer: TimerHandle | null = null;
  let deadline: TimerHandle | null = null;
  let lastFailure = '';

  const clear = (t: TimerHandle | null) => {
    if (t !== null) clock.clearTimeout(t);
    return null;
  };

  const release = (confirmed: boolean, epoch: number | null) => {
    stepTimer = clear(stepTimer);
    retryTimer = clear(retryTimer);
    deadline = clear(deadline);
    holding = false;
    awaitingMap = false;
    const heldMs = Math.round(clock.monotonic() - heldSince);
    if (confirmed) log.info({ event: 'pause_confirmed', pausedMs: Math.round(pausedMs), heldMs, attempts, epoch }, 'pause over: map re-read, resuming');
    else log.warn({ event: 'pause_unconfirmed', pausedMs: Math.round(pausedMs), heldMs, attempts, reason: lastFailure }, 'pause over: could not re-read the map; resuming on the last one');
    queue.resume();
    sendBack({ type: 'PAUSE_RELEASE', confirmed });
  };

  const fail = (r: number, reason: string) => {
    if (r !== round || !holding) return;
    stepTimer = clear(stepTimer);
    awaitingMap = false;
    lastFailure = reason;
    log.debug({ event: 'pause_confirm_retry', reason, attempts }, 'cannot confirm ownership yet; retrying');
    retryTimer = clock.setTimeout(attempt, timings.retryMs);
  };

  const attempt = () => {
    retryTimer = null;
    if (!holding) return;
    const r = ++round;
    again = false;
    attempts++;
    stepTimer = clock.setTimeout(() => fail(r, 'nats flush timed out'), timings.stepTimeoutMs);
    input.flush().then(
      () => {
        if (r !== round || !holding) return;
        stepTimer = clear(stepTimer);
        awaitingMap = true;
        stepTimer = clock.setTimeout(() => fail(r, 'map re-read timed out'), timings.stepTimeoutMs);
        sendBack({ type: 'MAP_REREAD_REQUEST' });
      },
      (err: unknown) => fail(r, `nats flush failed: ${errorCode(err) ?? String(err)}`),
    );
  };

  receive((e) => {
    switch (e.type) {
      case 'PAUSED':
        input.metrics.pauses.inc({ source: e.source });
        log.warn({ event: 'pause_detected', gapMs: Math.round(e.gapMs), source: e.source, holding }, 'paused past the threshold: holding probes until the map is re-read');
        pausedMs += e.gapMs;
        if (holding) {
          again = true;
          return;
        }
        holding = true;
        pausedMs = e.gapMs;
        attempts = 0;
        heldSince = clock.monotonic();
        queue.hold();
        sendBack({ type: 'PAUSE_HOLD' });
        deadline = clock.setTimeout(() => release(false, null), timings.confirmMaxMs);
        attempt();
        return;
      case 'MAP_REREAD':
        if (!holding || !awaitingMap) return;
        if (!e.ok) {
          fail(round, `map re-read failed: ${e.code ?? 'error'}`);
          return;
        }
        stepTimer = clear(stepTimer);
        awaitingMap = false;
        // Paused again while confirming: what we read may predate the new pause.
        if (again) attempt();
        else release(true, e.epoch);
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown event ${JSON.stringify(never)}`);
      }
    }
  });

  return () => {
    clear(stepTimer);
    clear(retryTimer);
    clear(deadline);
    // Stopping the node: leave nothing held (the queue stops on its own at shutdown).
    if (holding) queue.resume();
  };
});
