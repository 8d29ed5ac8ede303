// Live updates for the status page: Server-Sent Events (GET /api/events, routed by
// runtime/status-page.ts). One subscription to `<prefix>.status.>` and one to `<prefix>.cluster.>`
// is held while at least one client listens; each message becomes one event for every client:
//
//   event: status   data: {checkId, from, to, at, node, reason, held}   (a verdict change)
//   event: cluster  data: {event, node, at}                             (leader, member, assignment, …)
//
// Messages are hostile input: only a valid check id and a few bounded fields are passed on,
// re-encoded as JSON (which never holds a raw newline, so an event cannot break the framing).
// Bounded: at most `maxClients` clients (the caller refuses the next), and at most
// `maxBufferedBytes` waiting in one client's buffer — a client that reads slower is dropped (it
// reconnects and reloads what it shows). A comment line every `pingMs` keeps proxies from closing
// an idle stream. stop() ends every stream and unsubscribes (the node stops).

import type { Bus, BusMsg } from './bus';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';
import type { Subjects } from './subjects';

export const SSE_MAX_CLIENTS = 32;
export const SSE_MAX_BUFFERED_BYTES = 256 * 1024;
export const SSE_PING_MS = 15_000;
/** A message larger than this is not passed on (a status message is a few hundred bytes). */
const MAX_MESSAGE_BYTES = 16 * 1024;
const MAX_FIELD_CHARS = 512;
/** Drops logged per minute at most; the rest are counted into the next line. */
const DROP_LOGS_PER_MINUTE = 5;

/** Where an event stream is written: the HTTP response (a fake in unit tests). */
export interface EventSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
  end(): void;
  destroy(): void;
  once(event: 'close', fn: () => void): unknown;
}

export interface StatusEventsOptions {
  bus: Bus;
  subjects: Subjects;
  clock: Clock;
  log: Logger;
  maxClients?: number;
  maxBufferedBytes?: number;
  pingMs?: number;
  /** Told the number of clients whenever it changes (a gauge). */
  onClients?(n: number): void;
  /** Told each client dropped, and why (a counter). */
  onDropped?(why: 'slow'): void;
}

export interface StatusEvents {
  /** Would add() take one more client now? */
  accepting(): boolean;
  /** Start streaming to `sink`; false (nothing written) when the bound is reached or it stopped. */
  add(sink: EventSink): boolean;
  clients(): number;
  stop(): void;
}

const text = (v: unknown): string | null => (typeof v === 'string' ? v.slice(0, MAX_FIELD_CHARS) : null);
const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** The object of a message, or null (too large, not JSON, not an object). */
function objectOf(m: BusMsg): Record<string, unknown> | null {
  if (m.data.length > MAX_MESSAGE_BYTES) return null;
  const v = m.json();
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

export function startStatusEvents(o: StatusEventsOptions): StatusEvents {
  const s = o.subjects;
  const maxClients = o.maxClients ?? SSE_MAX_CLIENTS;
  const maxBuffered = o.maxBufferedBytes ?? SSE_MAX_BUFFERED_BYTES;
  const pingMs = o.pingMs ?? SSE_PING_MS;
  const sinks = new Set<EventSink>();
  let subs: (() => void)[] = [];
  let ping: TimerHandle | null = null;
  let stopped = false;
  let dropLogs: number[] = [];
  let unlogged = 0;
  const clusterBase = s.clusterWildcard().slice(0, -1); // `<prefix>.cluster.`

  const changed = () => o.onClients?.(sinks.size);

  const logDrop = () => {
    const now = o.clock.monotonic();
    dropLogs = dropLogs.filter((t) => now - t < 60_000);
    if (dropLogs.length >= DROP_LOGS_PER_MINUTE) return void unlogged++;
    dropLogs.push(now);
    o.log.warn({ event: 'status_page_client_dropped', why: 'slow', maxBufferedBytes: maxBuffered, clients: sinks.size, alsoDroppedUnlogged: unlogged }, 'status page client dropped: it reads events slower than they come');
    unlogged = 0;
  };

  const remove = (sink: EventSink) => {
    if (!sinks.delete(sink)) return;
    changed();
    if (sinks.size === 0) idle();
  };

  const send = (chunk: string) => {
    for (const sink of sinks) {
      if (sink.writableLength + Buffer.byteLength(chunk) > maxBuffered) {
        remove(sink);
        sink.destroy();
        o.onDropped?.('slow');
        logDrop();
        continue;
      }
      sink.write(chunk);
    }
  };

  const onStatus = (m: BusMsg) => {
    const checkId = s.checkIdOf(m.subject);
    const msg = checkId && objectOf(m);
    if (!checkId || !msg) return;
    send(frame('status', { checkId, from: text(msg.from), to: text(msg.to), at: text(msg.at), node: text(msg.node), reason: text(msg.reason), held: text(msg.held) }));
  };

  const onCluster = (m: BusMsg) => {
    if (m.subject === s.clusterStatus() || !m.subject.startsWith(clusterBase)) return; // requests, not events
    const event = m.subject.slice(clusterBase.length);
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(event)) return;
    const msg = objectOf(m) ?? {};
    send(frame('cluster', { event, node: text(msg.node), at: text(msg.at) }));
  };

  const armPing = () => {
    ping = o.clock.setTimeout(() => {
      send(': ping\n\n');
      if (sinks.size > 0) armPing();
    }, pingMs);
  };

  /** The first client: subscribe and start pinging. */
  const busy = () => {
    const onError = (err: unknown) => o.log.warn({ event: 'status_page_subscription_failed', err }, 'status page subscription error');
    subs = [o.bus.subscribe(s.statusWildcard(), onStatus, { onError }), o.bus.subscribe(s.clusterWildcard(), onCluster, { onError })];
    armPing();
  };

  /** No client left: nothing to listen for. */
  const idle = () => {
    subs.forEach((off) => off());
    subs = [];
    if (ping !== null) o.clock.clearTimeout(ping);
    ping = null;
  };

  const accepting = () => !stopped && sinks.size < maxClients;
  return {
    accepting,
    add(sink) {
      if (!accepting()) return false;
      sinks.add(sink);
      if (sinks.size === 1) busy();
      changed();
      sink.once('close', () => remove(sink));
      sink.write('retry: 3000\n\n');
      return true;
    },
    clients: () => sinks.size,
    stop() {
      stopped = true;
      for (const sink of [...sinks]) {
        remove(sink);
        sink.end();
      }
      idle();
    },
  };
}
