// The message bus as actors see it: publish, subscribe (optionally in a queue group), request and
// respond, with JSON payloads decoded once. A narrow port (nats.js's Heartbeat depends on three
// methods, not the connection): actors that talk to other nodes take a Bus, the process gives them
// `natsBus(nc)`, and unit tests give them an in-memory hub (test/helpers/fake-bus.ts).

import type { Msg, NatsConnection } from '@nats-io/transport-node';

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
  /** One request, one reply (decoded); rejects on timeout or when nobody listens. */
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

function wrap(m: Msg): BusMsg {
  return {
    subject: m.subject,
    data: m.data,
    json: lazyJson(m.data),
    wantsReply: !!m.reply,
    respond: (payload) => {
      if (m.reply) m.respond(encode(payload));
    },
  };
}

export function natsBus(nc: NatsConnection): Bus {
  return {
    publish: (subject, payload) => nc.publish(subject, encode(payload)),
    subscribe(subject, onMsg, opts = {}) {
      const sub = nc.subscribe(subject, {
        ...(opts.queue ? { queue: opts.queue } : {}),
        callback: (err, m) => {
          if (err) return opts.onError?.(err);
          onMsg(wrap(m));
        },
      });
      return () => sub.unsubscribe();
    },
    request: async (subject, payload, timeoutMs) => wrap(await nc.request(subject, encode(payload), { timeout: timeoutMs })),
  };
}
