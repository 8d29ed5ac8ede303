// Workers that pull from a shared durable consumer: each worker asks for up to `batch` messages
// (one pull request that waits up to PULL_EXPIRES_MS; its messages are handled one after another
// as they arrive), then asks again. A node holds at most workers × batch messages, so with batch 1
// (the default: a webhook call can take its whole ack wait) none waits in a client-side buffer
// while its ack wait runs out; a stage whose handling is quick (routing a verdict change) takes
// more per pull: each pull is a subscription, a request and an unsubscription (nats.js `next` is a
// fetch of one), and at a fleet's start every check's first verdict is a message (at 1,667 changes
// per second over 10 nodes the route stage's pulls one at a time were ~11% of a node's busy time).
// A failing pull (the consumer or stream missing, NATS away) is logged once per run of failures
// and retried after a growing pause.

import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Clock } from './clock';
import type { Logger } from './logger';

/** How long one pull waits for a message before asking again. */
export const PULL_EXPIRES_MS = 5_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 10_000;

/** A message's payload as JSON, or null when it does not parse. */
export function jsonOf(m: JsMsg): unknown {
  try {
    return m.json();
  } catch {
    return null;
  }
}

export interface PullWorkersOptions {
  name: string;
  workers: number;
  /** Messages one pull asks for (default 1). */
  batch?: number;
  consumer(): Promise<Consumer>;
  handle(m: JsMsg): Promise<void>;
  clock: Clock;
  log: Logger;
}

export interface PullWorkers {
  /** Stop asking; resolves when no handler runs (pulls in progress end at their expiry, unwaited). */
  stop(): Promise<void>;
}

export function startPullWorkers(o: PullWorkersOptions): PullWorkers {
  let stopped = false;
  let consumer: Promise<Consumer> | null = null;
  let failures = 0;
  const handling = new Set<Promise<void>>();
  const pulls = new Set<{ stop(): void }>();
  const pause = (ms: number) => new Promise<void>((r) => o.clock.setTimeout(r, ms));
  const batch = Math.max(1, o.batch ?? 1);

  const recovered = () => {
    if (failures > 0) o.log.info({ event: 'notify_pull_recovered', stage: o.name, failures }, 'pulling works again');
    failures = 0;
  };
  const handle = async (m: JsMsg): Promise<void> => {
    const h = o.handle(m).catch((err: unknown) => o.log.error({ event: 'notify_handler_failed', stage: o.name, err }, 'handling a message failed (it is redelivered after the ack wait)'));
    handling.add(h);
    await h;
    handling.delete(h);
  };

  const loop = async (): Promise<void> => {
    while (!stopped) {
      try {
        consumer ??= o.consumer();
        const pull = await (await consumer).fetch({ max_messages: batch, expires: PULL_EXPIRES_MS });
        pulls.add(pull);
        try {
          for await (const m of pull) {
            recovered();
            // Taken while stopping: straight back to the others.
            if (stopped) m.nak();
            else await handle(m);
          }
          recovered(); // a pull that expired empty worked too
        } finally {
          pulls.delete(pull);
        }
      } catch (err) {
        consumer = null;
        if (failures++ === 0) o.log.warn({ event: 'notify_pull_failed', stage: o.name, err }, 'pulling from the shared consumer failed; retrying');
        await pause(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 5)));
      }
    }
  };

  for (let i = 0; i < o.workers; i++) void loop();
  return {
    async stop() {
      stopped = true;
      for (const p of pulls) p.stop();
      await Promise.all([...handling]);
    },
  };
}
