// An in-memory message bus with NATS's semantics where actors depend on them: subject wildcards
// (`*` one token, `>` the rest), queue groups (one member of a group gets each message), request /
// reply through an inbox, asynchronous delivery (a microtask later, in publish order), and
// payloads that travel as bytes (so what a subscriber decodes is what a real peer would send).
// Several connections share one hub, like several nodes on one NATS; a connection can be cut off.

import { NoResponders, RequestTimeout } from '../../protocol/errors';
import { lazyJson, type Bus, type BusMsg, type SubscribeOptions } from '../../runtime/bus';

interface Sub {
  conn: FakeConnection;
  subject: string;
  queue?: string;
  onMsg(m: BusMsg): void;
}

export interface Published {
  from: string;
  subject: string;
  /** The payload as a peer decodes it. */
  msg: any;
}

export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== '*' && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export class FakeHub {
  private readonly subs: Sub[] = [];
  private inboxes = 0;
  private rr = 0;
  /** Every message published by any connection, in order. */
  readonly log: Published[] = [];

  connect(name: string): FakeConnection {
    return new FakeConnection(this, name);
  }

  /** Messages published on subjects matching `pattern`, decoded. */
  published(pattern: string): Published[] {
    return this.log.filter((p) => subjectMatches(pattern, p.subject));
  }

  /** Let every queued delivery (and what it triggers) run. */
  async settle(rounds = 10): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
  }

  /** @internal */
  add(sub: Sub): () => void {
    this.subs.push(sub);
    return () => {
      const i = this.subs.indexOf(sub);
      if (i >= 0) this.subs.splice(i, 1);
    };
  }

  /** @internal */
  nextInbox(): string {
    return `_INBOX.fake.${++this.inboxes}`;
  }

  /** @internal Whether a connected subscriber listens on `subject` (NATS answers a request without one with no-responders). */
  hasSubscriber(subject: string): boolean {
    return this.subs.some((s) => s.conn.connected && subjectMatches(s.subject, subject));
  }

  /** @internal Deliver to plain subscribers and one member of each queue group. */
  deliver(from: FakeConnection, subject: string, data: Uint8Array, reply: string | undefined): void {
    if (!from.connected) return;
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(data).toString('utf8'));
    } catch {
      decoded = Buffer.from(data).toString('utf8');
    }
    this.log.push({ from: from.name, subject, msg: decoded });
    const targets: Sub[] = [];
    const groups = new Map<string, Sub[]>();
    for (const s of this.subs) {
      if (!s.conn.connected || !subjectMatches(s.subject, subject)) continue;
      if (s.queue === undefined) targets.push(s);
      else groups.set(s.queue, [...(groups.get(s.queue) ?? []), s]);
    }
    for (const members of groups.values()) targets.push(members[this.rr++ % members.length]!);
    for (const s of targets) {
      const msg: BusMsg = {
        subject,
        data,
        json: lazyJson(data),
        wantsReply: reply !== undefined,
        respond: (payload) => {
          if (reply !== undefined) s.conn.publishBytes(reply, encodeJson(payload));
        },
      };
      queueMicrotask(() => s.onMsg(msg));
    }
  }
}

function encodeJson(payload: unknown): Uint8Array {
  return payload instanceof Uint8Array ? payload : Buffer.from(JSON.stringify(payload));
}

export class FakeConnection implements Bus {
  connected = true;

  constructor(
    private readonly hub: FakeHub,
    readonly name: string,
  ) {}

  publish(subject: string, payload: unknown): void {
    this.publishBytes(subject, encodeJson(payload));
  }

  /** Publish raw bytes (a malformed payload, or what a non-Lookout client sends). */
  publishBytes(subject: string, data: Uint8Array | string, reply?: string): void {
    this.hub.deliver(this, subject, typeof data === 'string' ? Buffer.from(data) : data, reply);
  }

  subscribe(subject: string, onMsg: (m: BusMsg) => void, opts: SubscribeOptions = {}): () => void {
    return this.hub.add({ conn: this, subject, ...(opts.queue ? { queue: opts.queue } : {}), onMsg });
  }

  request(subject: string, payload: unknown, timeoutMs: number): Promise<BusMsg> {
    return this.requestBytes(subject, encodeJson(payload), timeoutMs);
  }

  /**
   * A request whose payload is raw bytes. Nobody subscribed: rejects with NoResponders at once (as
   * NATS does). Times out with RequestTimeout on a real timer (tests keep it short).
   */
  requestBytes(subject: string, data: Uint8Array | string, timeoutMs = 1000): Promise<BusMsg> {
    const inbox = this.hub.nextInbox();
    if (this.connected && !this.hub.hasSubscriber(subject)) return Promise.reject(new NoResponders(subject));
    return new Promise<BusMsg>((resolve, reject) => {
      const timer = setTimeout(() => {
        unsub();
        reject(new RequestTimeout(subject, timeoutMs));
      }, timeoutMs);
      const unsub = this.subscribe(inbox, (m) => {
        clearTimeout(timer);
        unsub();
        resolve(m);
      });
      this.publishBytes(subject, data, inbox);
    });
  }

  /** Cut this connection off (it neither sends nor receives) or bring it back. */
  setConnected(up: boolean): void {
    this.connected = up;
  }
}
