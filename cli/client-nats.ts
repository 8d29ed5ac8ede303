// How a client command talks to NATS: connect like the node does (NATS_* settings,
// runtime/nats.ts) but give up quickly, and JSON request/reply; every transport failure becomes a
// one-line CommandError (exit code 1).

import { createConnection } from 'node:net';
import { connect, errors, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { connectionOptions } from '../runtime/nats';
import { UsageError, type ClientSettings } from './client-args';
import { CommandError } from './spec-files';

/** Connect once (each server tried once, no waiting for a server to appear); `reconnect` keeps a watch alive for ~30 s of outage. */
export async function connectClient(s: ClientSettings, reconnect: boolean): Promise<NatsConnection> {
  let opts;
  try {
    opts = connectionOptions(s, 'lookout-cli');
  } catch (err) {
    throw new UsageError(`cannot read NATS credentials: ${(err as Error).message}`);
  }
  Object.assign(opts, { waitOnFirstConnect: false, maxReconnectAttempts: reconnect ? 60 : 0, reconnect, timeout: s.timeoutMs });
  await anyReachable(opts.servers as string[], s);
  try {
    return await connect(opts);
  } catch (err) {
    throw new CommandError(`cannot connect to NATS at ${s.natsUrl}: ${describeNatsError(err)}`);
  }
}

/**
 * Fail fast when no server greets us (NATS sends INFO on connect) within the timeout. nats.js never
 * destroys a dial still pending when its connect timeout fires, and that socket would keep this
 * process alive until the OS gives up on it (minutes, for a host that drops packets).
 */
async function anyReachable(servers: string[], s: ClientSettings): Promise<void> {
  const tryOne = (server: string) =>
    new Promise<void>((resolve, reject) => {
      let url: URL;
      try {
        url = new URL(/^[a-z]+:\/\//.test(server) ? server : `nats://${server}`);
      } catch {
        return resolve(); // nats.js reports what it makes of it
      }
      const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
      const sock = createConnection({ host, port: Number(url.port || 4222) });
      const done = (err?: Error) => {
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err);
        else resolve();
      };
      const timer = setTimeout(() => done(new Error(`no answer within ${s.timeoutMs} ms`)), s.timeoutMs);
      sock.once('data', (d: Buffer) => done(d.subarray(0, 5).toString() === 'INFO ' ? undefined : new Error('the server did not greet like a NATS server')));
      sock.once('error', (err) => done(err));
      sock.once('close', () => done(new Error('connection closed before the server greeted')));
    });
  try {
    await Promise.any(servers.map(tryOne));
  } catch (err) {
    const first = (err as AggregateError).errors?.[0] ?? err;
    throw new CommandError(`cannot connect to NATS at ${s.natsUrl}: ${describeNatsError(first)}`);
  }
}

export function describeNatsError(err: unknown): string {
  const e = err as Error & { code?: string; cause?: unknown };
  const cause = e?.cause as (Error & { code?: string }) | undefined;
  const code = e?.code ?? cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (e instanceof errors.TimeoutError) return 'timed out';
  return (e?.message || cause?.message || String(err)).replace(/\s+/g, ' ');
}

/** JSON request/reply; transport failures become one-line CommandErrors. */
export async function request(nc: NatsConnection, subject: string, body: string, timeoutMs: number): Promise<{ raw: string; reply: any }> {
  let m: Msg;
  try {
    m = await nc.request(subject, body, { timeout: timeoutMs });
  } catch (err) {
    if (err instanceof errors.NoRespondersError || (err instanceof errors.RequestError && err.isNoResponders())) {
      throw new CommandError(`no Lookout node answered on ${subject} — is a node running?`);
    }
    if (err instanceof errors.TimeoutError) throw new CommandError(`no reply on ${subject} within ${timeoutMs} ms`);
    throw new CommandError(`request on ${subject} failed: ${describeNatsError(err)}`);
  }
  const raw = m.string();
  try {
    return { raw, reply: JSON.parse(raw) };
  } catch {
    throw new CommandError(`the reply on ${subject} is not JSON: ${raw.slice(0, 200)}`);
  }
}

export function replyError(reply: any): string {
  const e = reply?.error ?? {};
  return `${e.code ?? 'error'}${e.path ? ` at ${e.path}` : ''}: ${e.message ?? JSON.stringify(reply)}`;
}
