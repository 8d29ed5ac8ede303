// Host one actor under test in a parent that records what it sends back, on a manual clock; step
// time in small increments and let promise/microtask work (bus deliveries) run between steps.

import pino from 'pino';
import { createActor, createMachine, sendTo, type AnyActorLogic, type AnyActorRef } from 'xstate';
import { ManualClock } from '../../runtime/clock';

export const silentLog = pino({ level: 'silent' });

export interface Hosted<E> {
  /** Every event the actor sent to its parent, with the monotonic time it arrived. */
  events: (E & { at: number })[];
  send(event: { type: string; [k: string]: unknown }): void;
  child(): AnyActorRef;
  stop(): void;
}

export function host<E extends { type: string }>(logic: AnyActorLogic, input: unknown, clock: ManualClock): Hosted<E> {
  const events: (E & { at: number })[] = [];
  const parent = createActor(
    createMachine({
      invoke: { id: 'child', src: logic, input },
      on: {
        '*': { actions: ({ event }) => events.push({ ...(event as E), at: clock.monotonic() }) },
        FORWARD: { actions: sendTo('child', ({ event }) => (event as unknown as { event: E }).event) },
      },
    }),
    { clock },
  );
  parent.start();
  return {
    events,
    send: (event) => parent.send({ type: 'FORWARD', event } as never),
    child: () => parent.getSnapshot().children.child as AnyActorRef,
    stop: () => parent.stop(),
  };
}

/** Let queued microtasks and immediates run (bus deliveries, resolved promises). */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

/** Advance the clock by `ms` in `step` increments, flushing between steps. */
export async function run(clock: ManualClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush(2);
  }
}
