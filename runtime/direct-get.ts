// A stream subject's last message by a JetStream direct get, without nats.js's request machinery:
// one subscription on the node's inbox for all answers, one publish per lookup, and one timer for
// all deadlines. Through `nc.request` (what `jsm.direct.getMessage` does) each lookup built a
// request record, a random token, a promise, a timer and — on every answer, nats.js's own
// RequestOne.cancel — an Error with a captured stack; a node starting 100k checks makes ~86k such
// lookups (their resume state: runtime/result-history.ts) while its first probes are due
// (BENCHMARKS.md §2).
//
// Answers as `jsm.direct.getMessage(stream, { last_by_subj })` does (test/integration/direct-get.test.ts
// holds the two side by side): the message, or null when the subject has none (status 404); any
// other status, or no answer within the deadline, rejects with DirectGetError. The subject is part
// of the request subject (`$JS.API.DIRECT.GET.<stream>.<subject>`), so permissions can narrow it.

import type { JetStreamManager } from '@nats-io/jetstream';
import { createInbox, Empty, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';

/** How long a lookup waits for its answer (nats.js's JetStream API default). */
export const DIRECT_GET_TIMEOUT_MS = 5_000;

/** A stored message as the callers read it. */
export interface StoredMessage {
  /** Stream sequence. */
  seq: number;
  /** The server's time of storing it, ms since the epoch. */
  storedAt: number;
  data: Uint8Array;
  json<T>(): T;
}

/** Reads the last message of a subject of a stream. */
export interface LastMessages {
  last(stream: string, subject: string): Promise<StoredMessage | null>;
}

export type DirectGetErrorCode = 'timeout' | 'status' | 'closed';

export class DirectGetError extends Error {
  constructor(
    readonly code: DirectGetErrorCode,
    message: string,
    /** The answer's status code (code `status`). */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'DirectGetError';
  }
}

interface Waiter {
  resolve: (m: StoredMessage | null) => void;
  reject: (err: Error) => void;
  deadline: number;
}

function stored(m: Msg): StoredMessage {
  const h = m.headers!;
  return { seq: Number(h.last('Nats-Sequence')), storedAt: Date.parse(h.last('Nats-Time-Stamp')), data: m.data, json: <T>() => m.json<T>() };
}

export class DirectGets implements LastMessages {
  private readonly replyPrefix: string;
  private readonly sub: Subscription;
  /** By token, in the order asked: every deadline is now + the same timeout, so the first is the earliest. */
  private readonly waiting = new Map<number, Waiter>();
  private token = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix: string,
    private readonly timeoutMs: number = DIRECT_GET_TIMEOUT_MS,
  ) {
    // Unique per instance (nats.js's createInbox: `<prefix>.<nuid>`): every node of a cluster has
    // the same inbox prefix, and tokens count from 1 in each, so on `<prefix>.dg.*` the nodes took
    // each other's answers (a gained check resumed from another check's record, or from none).
    this.replyPrefix = `${createInbox(inboxPrefix)}.`;
    this.sub = nc.subscribe(`${this.replyPrefix}*`, { callback: (err, m) => (err ? this.close(err) : this.answer(m)) });
  }

  last(stream: string, subject: string): Promise<StoredMessage | null> {
    if (this.closed) return Promise.reject(new DirectGetError('closed', 'direct gets closed'));
    const token = ++this.token;
    return new Promise((resolve, reject) => {
      this.waiting.set(token, { resolve, reject, deadline: performance.now() + this.timeoutMs });
      this.arm();
      this.nc.publish(`$JS.API.DIRECT.GET.${stream}.${subject}`, Empty, { reply: `${this.replyPrefix}${token}` });
    });
  }

  /** Rejects what waits and stops hearing answers. */
  close(err?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.sub.unsubscribe();
    const why = new DirectGetError('closed', `direct gets closed${err ? `: ${err.message}` : ''}`);
    for (const w of this.waiting.values()) w.reject(why);
    this.waiting.clear();
  }

  private answer(m: Msg): void {
    const token = Number(m.subject.slice(this.replyPrefix.length));
    const w = this.waiting.get(token);
    if (!w) return; // answered after its deadline
    this.waiting.delete(token);
    const code = m.headers?.code ?? 0;
    if (code === 0 && m.headers) w.resolve(stored(m));
    else if (code === 404) w.resolve(null);
    else w.reject(new DirectGetError('status', `direct get answered ${code} ${m.headers?.description ?? ''}`.trim(), code));
  }

  /** One timer, for the earliest deadline. */
  private arm(): void {
    if (this.timer || this.waiting.size === 0) return;
    const first = this.waiting.values().next().value!;
    this.timer = setTimeout(() => this.expire(), Math.max(0, first.deadline - performance.now()));
    this.timer.unref?.();
  }

  private expire(): void {
    this.timer = null;
    const now = performance.now();
    for (const [token, w] of this.waiting) {
      if (w.deadline > now) break;
      this.waiting.delete(token);
      w.reject(new DirectGetError('timeout', `direct get not answered within ${this.timeoutMs} ms`));
    }
    this.arm();
  }
}

/** The same port over nats.js's JetStream manager (`jsm.direct.getMessage`): for callers without a connection of their own. */
export function jsmLastMessages(jsm: Pick<JetStreamManager, 'direct'>): LastMessages {
  return {
    async last(stream, subject) {
      const m = await jsm.direct.getMessage(stream, { last_by_subj: subject });
      return m && { seq: m.seq, storedAt: m.time.getTime(), data: m.data, json: <T>() => m.json<T>() };
    },
  };
}
