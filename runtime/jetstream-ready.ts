// Opening the buckets and the result stream when JetStream is not ready yet. A node started
// together with its NATS servers (docker compose, a fresh 3-server cluster) can find JetStream
// still electing its meta leader: requests time out or come back "temporarily unavailable". That
// is a reason to wait, not to exit. A permanent problem (no JetStream, a store too small, a
// permission refused) still stops the node at once with its own message.

import { messageOf } from '../protocol/errors';
import type { Logger } from './logger';

/** An error JetStream gives while it is coming up (or briefly without a leader). */
export function isJetStreamNotReady(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: unknown } | null;
  const text = `${e?.name ?? ''} ${e?.message ?? String(err)}`;
  if (/insufficient|permission|not enabled/i.test(text)) return false;
  return /timeout|timed out|temporarily unavailable|no responders|\b503\b|leader/i.test(text);
}

/** First wait for JetStream: a meta leader is usually elected within a few hundred ms. */
export const READY_FIRST_WAIT_MS = 250;
/** Longest wait between attempts: a node started long before its servers tries every 5 s. */
export const READY_MAX_WAIT_MS = 5_000;

/** Delay before attempt n+1: READY_FIRST_WAIT_MS doubling, at most READY_MAX_WAIT_MS. */
export function readyBackoff(attempt: number): number {
  return Math.min(READY_MAX_WAIT_MS, READY_FIRST_WAIT_MS * 2 ** Math.min(attempt - 1, 5));
}

/** Run `open` until it succeeds or fails for a reason other than JetStream not being ready. */
export async function whenJetStreamReady<T>(open: () => Promise<T>, log: Logger, wait: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (err) {
      if (!isJetStreamNotReady(err)) throw err;
      const delayMs = readyBackoff(attempt);
      log.warn({ event: 'jetstream_not_ready', attempt, delayMs, error: messageOf(err) }, 'JetStream not ready yet: retrying');
      await wait(delayMs);
    }
  }
}
