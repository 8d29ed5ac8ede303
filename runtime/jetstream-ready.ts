// Opening the buckets and the result stream when JetStream is not ready yet. A node started
// together with its NATS servers (docker compose, a fresh 3-server cluster) can find JetStream
// still electing its meta leader: requests time out or come back "temporarily unavailable". That
// is a reason to wait, not to exit. A permanent problem (no JetStream, a store too small, a
// permission refused) still stops the node at once with its own message.
//
// Nodes started together also race to create the same streams and buckets: the add that loses
// finds the stream made meanwhile ("stream name already in use", or on nats-server 2.9 "subjects
// overlap with an existing stream"), and on a 3-server cluster a stream another node has just
// created can be briefly "not found" (the skew-kill chaos scenario: a node exited at start with
// "stream not found"). Opening again finds it; only CREATION_RACE_ATTEMPTS times, so a real overlap
// with an operator's own stream still stops the node with its message.

import { messageOf } from '../protocol/errors';
import type { Logger } from './logger';

/** An error JetStream gives while it is coming up (or briefly without a leader). */
export function isJetStreamNotReady(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: unknown } | null;
  const text = `${e?.name ?? ''} ${e?.message ?? String(err)}`;
  if (/insufficient|permission|not enabled/i.test(text)) return false;
  return /timeout|timed out|temporarily unavailable|no responders|\b503\b|leader/i.test(text);
}

/** An add that may have lost a creation race to another node (opening again finds the stream). */
export function isCreationRace(err: unknown): boolean {
  const e = err as { message?: string } | null;
  return /subjects overlap with an existing stream|stream name already in use|stream not found/i.test(e?.message ?? String(err));
}

/** Attempts that may end in a creation race before it counts as a real conflict. */
export const CREATION_RACE_ATTEMPTS = 3;

/** First wait for JetStream: a meta leader is usually elected within a few hundred ms. */
export const READY_FIRST_WAIT_MS = 250;
/** Longest wait between attempts: a node started long before its servers tries every 5 s. */
export const READY_MAX_WAIT_MS = 5_000;

/** Delay before attempt n+1: READY_FIRST_WAIT_MS doubling, at most READY_MAX_WAIT_MS. */
export function readyBackoff(attempt: number): number {
  return Math.min(READY_MAX_WAIT_MS, READY_FIRST_WAIT_MS * 2 ** Math.min(attempt - 1, 5));
}

/** What to do about JetStream missing on the server: the error the node stops with. */
export const JETSTREAM_HINT = 'JetStream is not enabled on the NATS server: Lookout keeps its specs, maps and results in JetStream. Start nats-server with -js (and -sd <store dir>), or add `jetstream { store_dir: "…" }` to its config; for a NATS account, enable JetStream for it';

/** The error as the node reports it: JetStream missing gets the hint how to enable it. */
export function explainJetStreamError(err: unknown): unknown {
  return /jetstream (is )?not enabled/i.test(messageOf(err)) ? new Error(`${messageOf(err)}. ${JETSTREAM_HINT}`, { cause: err }) : err;
}

/** Run `open` until it succeeds or fails for a reason other than JetStream not being ready. */
export async function whenJetStreamReady<T>(open: () => Promise<T>, log: Logger, wait: (ms: number) => Promise<void>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await open();
    } catch (err) {
      const raced = isCreationRace(err) && attempt < CREATION_RACE_ATTEMPTS;
      if (!raced && !isJetStreamNotReady(err)) throw explainJetStreamError(err);
      const delayMs = readyBackoff(attempt);
      if (raced) log.warn({ event: 'stream_creation_raced', attempt, delayMs, error: messageOf(err) }, 'another node created a stream at the same time: opening again');
      else log.warn({ event: 'jetstream_not_ready', attempt, delayMs, error: messageOf(err) }, 'JetStream not ready yet: retrying');
      await wait(delayMs);
    }
  }
}
