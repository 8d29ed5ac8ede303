// The message bus as actors see it: publish, subscribe (optionally in a queue group), request and
// respond, with JSON payloads decoded once. A narrow port (nats.js's Heartbeat depends on three
// methods, not the connection): actors that talk to other nodes take a Bus, the process gives them
// `natsBus(nc)`, and unit tests give them an in-memory hub (test/helpers/fake-bus.ts).

import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { NoResponders, RequestTimeout } from '../protocol/errors';

/** A payload that did not decode as JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** A payload as sent: JSON, UTF-8 (the shapes are in protocol/records.ts). */
export function encode(msg: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(msg));
}

export interface BusMsg {
  subject: string;
  /** The raw payload (size limits and hostile input are judged on these bytes). */
  data: Uint8Array;
  /** The payload decoded as JSON, once (NOT_JSON when it does not parse; undefined when empty). */
  json(): unknown;
  /** True when the sender waits for a reply. */
  readonly wantsReply: boolean;
  /** Reply to the sender (nothing happens when it did not ask for one). */
  respond(payload: unknown): void;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one subscriber of the group. */
  queue?: string;
  /** A subscription-level error (e.g. a permissions violation). */
  onError?(err: unknown): void;
}

export interface Bus {
  publish(subject: string, payload: unknown): void;
  /** Returns the unsubscribe function. */
  subscribe(subject: string, onMsg: (m: BusMsg) => void, opts?: SubscribeOptions): () => void;
  /**
   * One request, one reply (decoded). Rejects with a `no_responders` error (NoResponders) when
   * nobody listens on the subject, `request_timeout` (RequestTimeout) when nobody answered in time.
   */
  request(subject: string, payload: unknown, timeoutMs: number): Promise<BusMsg>;
}

/** Decode once, remember the result. */
export function lazyJson(data: Uint8Array): () => unknown {
  let decoded: { v: unknown } | null = null;
  return () => {
    if (decoded) return decoded.v;
    let v: unknown;
    if (data.length === 0) v = undefined;
    else {
      try {
        v = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
      } catch {
        v = NOT_JSON;
      }
    }
    decoded = { v };
    return v;
  };
}

/**
 * `link`: the connection's life a request came in on (undefined: replies always go out). A reply
 * to a request received before a reconnect is dropped: the server grants a responder the right to
 * answer a client's inbox per connection (`allow_responses`), so the late reply would be a
 * permission violation where roles are enforced; the requester's timeout covers it either way.
 */
function wrap(m: Msg, link?: { at: number; now: () => number }): BusMsg {
  return {
    subject: m.subject,
    data: m.data,
    json: lazyJson(m.data),
    wantsReply: !!m.reply,
    respond: (payload) => {
      if (m.reply && (!link || link.at === link.now())) m.respond(encode(payload));
    },
  };
}

export function natsBus(nc: NatsConnection): Bus {
  // Lives of the connection: one more per reconnect.
  let life = 0;
  void (async () => {
    for await (const s of nc.status()) if (s.type === 'reconnect') life++;
  })().catch(() => {});
  const now = () => life;
  return {
    publish: (subject, payload) => nc.publish(subject, encode(payload)),
    subscribe(subject, onMsg, opts = {}) {
      const sub = nc.subscribe(subject, {
        ...(opts.queue ? { queue: opts.queue } : {}),
        callback: (err, m) => {
          if (err) return opts.onError?.(err);
          onMsg(wrap(m, { at: life, now }));
        },
      });
      return () => sub.unsubscribe();
    },
    request: async (subject, payload, timeoutMs) => {
      try {
        return wrap(await nc.request(subject, encode(payload), { timeout: timeoutMs }));
      } catch (err) {
        throw requestError(err, subject, timeoutMs);
      }
    },
  };
}

/**
 * nats.js's request errors as Lookout's: a RequestError whose cause is a NoRespondersError (the
 * server's 503 status: nobody subscribed) is `no_responders`; a TimeoutError (bare or as the cause)
 * is `request_timeout`. Judged by `isNoResponders()` and error names, not `instanceof` (a second
 * copy of nats-core would break it). Anything else is passed on as it is.
 */
export function requestError(err: unknown, subject: string, timeoutMs: number): unknown {
  const e = err as { name?: unknown; cause?: { name?: unknown }; isNoResponders?: () => boolean } | null;
  if (typeof e?.isNoResponders === 'function' && e.isNoResponders()) return new NoResponders(subject, { cause: err });
  if (e?.name === 'NoResponders' || e?.cause?.name === 'NoResponders') return new NoResponders(subject, { cause: err });
  if (e?.name === 'TimeoutError' || e?.cause?.name === 'TimeoutError') return new RequestTimeout(subject, timeoutMs, { cause: err });
  return err;
}
