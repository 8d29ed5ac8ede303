// The timed connector shared by the HTTP and TCP probes: dns.lookup → net.connect → optional
// TLS, recording phase durations and stopping on an AbortSignal; usable directly or as an
// undici `connect` function.
import dns from 'node:dns';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import type { PhaseTimings } from './outcome';

/** TLS settings of one connection; also the identity of an HTTP connection pool entry. */
export interface TlsProfile {
  verify: boolean;
  /** SNI and certificate name; default: the target host name (no SNI for an IP literal). */
  servername?: string;
}

/** Timings a probe collects; the connector adds to dns / connect / tls (summed over redirect hops). */
export type ProbeTimings = Omit<PhaseTimings, 'total'>;

/** Per-probe state the connector reports into and stops on. */
export interface ConnectContext {
  timings: ProbeTimings;
  signal?: AbortSignal;
}

export interface ConnectTarget {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  port: number;
  /** Wrap the TCP socket in TLS when set. */
  tls?: TlsProfile;
  /** ALPN protocols offered in the TLS handshake (HTTP: ['http/1.1']). */
  alpn?: string[];
}

const noop = (): void => {};

/** Milliseconds since `start`, rounded to 0.01 ms. */
export function msSince(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}

function addPhase(timings: ProbeTimings, phase: 'dns' | 'connect' | 'tls', start: number): void {
  timings[phase] = Math.round(((timings[phase] ?? 0) + msSince(start)) * 100) / 100;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** Run `start` until it settles or `signal` aborts (then `onAbort` cleans up and we reject). */
function untilAbort<T>(
  signal: AbortSignal | undefined,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => void,
  onAbort: () => void = noop,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const abort = (): void => {
      onAbort();
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', abort, { once: true });
    const unlink = (): void => signal?.removeEventListener('abort', abort);
    start(
      (v) => (unlink(), resolve(v)),
      (e) => (unlink(), reject(e)),
    );
  });
}

/** Resolve a host to its addresses, in resolver order; IP literals skip the lookup. */
async function resolveTimed(host: string, ctx: ConnectContext): Promise<string[]> {
  if (net.isIP(host)) return [host];
  const start = performance.now();
  // dns.lookup cannot be cancelled: on abort we only stop waiting for it.
  const found = await untilAbort<dns.LookupAddress[]>(ctx.signal, (resolve, reject) =>
    dns.lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
  addPhase(ctx.timings, 'dns', start);
  return found.map((a) => a.address);
}

/** Wait for `event` (connect / secureConnect); destroy the socket on error or abort. */
function settle(socket: net.Socket, event: 'connect' | 'secureConnect', signal?: AbortSignal): Promise<void> {
  return untilAbort<void>(
    signal,
    (resolve, reject) => {
      const onError = (err: Error): void => {
        socket.off(event, onReady);
        socket.destroy();
        reject(err);
      };
      const onReady = (): void => {
        socket.off('error', onError);
        resolve();
      };
      socket.once(event, onReady).once('error', onError);
    },
    () => socket.destroy(),
  );
}

/** Errors after which the next address of a multi-address host is worth a try. */
const TRY_NEXT_ADDRESS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'EAFNOSUPPORT']);

/**
 * Resolve, connect and (optionally) handshake, adding dns / connect / tls durations to
 * `ctx.timings`. Addresses are tried in resolver order (a `localhost` that lists ::1 first still
 * reaches a server bound to 127.0.0.1). Rejects with the underlying error, or the signal's reason.
 * Every socket carries a no-op 'error' listener, so a late error is never unhandled; callers add
 * their own listener to learn about errors.
 */
export async function connectTimed(target: ConnectTarget, ctx: ConnectContext): Promise<net.Socket> {
  const addresses = await resolveTimed(target.host, ctx);
  const start = performance.now();
  let socket: net.Socket | undefined;
  let lastError: unknown;
  for (const address of addresses) {
    const attempt = net.connect({ host: address, port: target.port }).on('error', noop).setNoDelay(true);
    try {
      await settle(attempt, 'connect', ctx.signal);
      socket = attempt;
      break;
    } catch (err) {
      lastError = err;
      if (ctx.signal?.aborted || !TRY_NEXT_ADDRESS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
    }
  }
  if (!socket) throw lastError;
  addPhase(ctx.timings, 'connect', start);
  if (!target.tls) return socket;

  const tlsStart = performance.now();
  const servername = target.tls.servername ?? (net.isIP(target.host) ? undefined : target.host);
  const secure = tls
    .connect({
      socket,
      // `host` is the name the certificate is checked against when no servername is given.
      host: target.host,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: target.tls.verify,
      ...(target.alpn ? { ALPNProtocols: target.alpn } : {}),
    })
    .on('error', noop);
  try {
    await settle(secure, 'secureConnect', ctx.signal);
  } catch (err) {
    socket.destroy();
    throw err;
  }
  addPhase(ctx.timings, 'tls', tlsStart);
  return secure;
}

/**
 * An undici `connect` function over connectTimed. `context` is read at each connect, so a pooled
 * Client reports into whichever probe is running when it (re)connects.
 */
export function undiciConnector(tlsProfile: TlsProfile, context: () => ConnectContext): buildConnector.connector {
  return (opts, callback) => {
    const https = opts.protocol === 'https:';
    const target: ConnectTarget = {
      host: opts.hostname,
      port: Number(opts.port) || (https ? 443 : 80),
      ...(https ? { tls: tlsProfile, alpn: ['http/1.1'] } : {}),
    };
    connectTimed(target, context()).then(
      (socket) => callback(null, socket),
      // Passed through as is: `instanceof Error` is false for errors from another realm (Jest).
      (err: unknown) => callback(err as Error, null),
    );
  };
}

