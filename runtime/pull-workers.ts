// Workers that pull from a shared durable consumer one message at a time: each worker asks for
// one message (`next`, a pull request that waits up to PULL_EXPIRES_MS), handles it, then asks
// again. A node therefore holds only messages it is working on — none wait in a client-side
// buffer while their ack wait runs out — and how many it holds is the worker count. A failing
// pull (the consumer or stream missing, NATS away) is logged once per run of failures and retried
// after a growing pause.

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
  const pause = (ms: number) => new Promise<void>((r) => o.clock.setTimeout(r, ms));

  const loop = async (): Promise<void> => {
    while (!stopped) {
      let m: JsMsg | null;
      try {
        consumer ??= o.consumer();
        m = await (await consumer).next({ expires: PULL_EXPIRES_MS });
        if (failures > 0) o.log.info({ event: 'notify_pull_recovered', stage: o.name, failures }, 'pulling works again');
        failures = 0;
      } catch (err) {
        consumer = null;
        if (failures++ === 0) o.log.warn({ event: 'notify_pull_failed', stage: o.name, err }, 'pulling from the shared consumer failed; retrying');
        await pause(Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 5)));
        continue;
      }
      if (!m || stopped) {
        if (m) m.nak(); // taken while stopping: straight back to the others
        continue;
      }
      const h = o.handle(m).catch((err: unknown) => o.log.error({ event: 'notify_handler_failed', stage: o.name, err }, 'handling a message failed (it is redelivered after the ack wait)'));
      handling.add(h);
      await h;
      handling.delete(h);
    }
  };

  for (let i = 0; i < o.workers; i++) void loop();
  return {
    async stop() {
      stopped = true;
      await Promise.all([...handling]);
    },
  };
}
