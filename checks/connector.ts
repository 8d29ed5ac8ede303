// The timed connector shared by the HTTP and TCP probes: lookup → address policy → net.connect →
// optional TLS, recording phase durations and stopping on an AbortSignal; usable directly or as an
// undici `connect` function (every HTTP connection and every redirect hop goes through it).
//
// The address policy is applied here, at connect time, to the very addresses the socket connects
// to: a name is resolved once, each address it resolved to is decided, and only allowed addresses
// are dialled (by address, so nothing re-resolves in between: DNS rebinding gains nothing).
import dns from 'node:dns';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { buildConnector } from 'undici';
import { normalizeHostName, showEndpoint, type AddressPolicy, type Decision } from './address-policy';
import { decideAddressKept, decideHostKept } from './address-decisions';
import { readCertInfo } from './cert-expiry';
import { skipInterimResponses } from './http-interim';
import { caContext } from './tls-ca';
import type { CertInfo, PhaseTimings } from './outcome';

/** TLS settings of one connection; also the identity of an HTTP connection pool entry. */
export interface TlsProfile {
  verify: boolean;
  /** SNI and certificate name; default: the target host name (no SNI for an IP literal). */
  servername?: string;
  /** Trust anchors (PEM) that replace the node's trust store (checks/tls-ca.ts). */
  ca?: string;
}

/** Timings a probe collects; the connector adds to dns / connect / tls (summed over redirect hops). */
export type ProbeTimings = Omit<PhaseTimings, 'total'>;

/** Resolve a host name to its addresses, in resolver order (a port: tests inject a stub). */
export type LookupFn = (host: string) => Promise<string[]>;

/** The system resolver (getaddrinfo through dns.lookup, as net.connect would use). */
export const systemLookup: LookupFn = (host) =>
  new Promise((resolve, reject) => dns.lookup(host, { all: true }, (err, found) => (err ? reject(err) : resolve(found.map((a) => a.address)))));

/** Per-probe state the connector reports into and stops on. */
export interface ConnectContext {
  timings: ProbeTimings;
  signal?: AbortSignal;
  /** Addresses this probe may connect to. */
  policy: AddressPolicy;
  lookup: LookupFn;
  /**
   * Told of every TCP socket as it is created, before it connects: a probe without `signal` stops
   * a connect in progress by destroying that socket with an error (checks/http-lean.ts).
   */
  onSocket?: (socket: net.Socket) => void;
  /** Set by every TLS handshake: the peer certificate's expiry (checks/cert-expiry.ts). */
  cert?: CertInfo;
  /** The HTTP version of the latest final response head read (`1.0`, `1.1`), set by checks/http-interim.ts. */
  httpVersion?: string;
}

/** A connect refused by the address policy; nothing was sent to the address. */
export class AddressDeniedError extends Error {
  readonly code = 'LOOKOUT_ADDRESS_DENIED';
  constructor(
    readonly host: string,
    readonly port: number,
    readonly decision: Extract<Decision, { denied: true }>,
  ) {
    const where = showEndpoint(decision.address, port);
    // "db.internal → 127.0.0.2:80 is denied: …" when the address came from a name (or a non-canonical literal).
    const via = decision.address === normalizeHostName(host) ? '' : `${host} → `;
    super(`${via}${where} is denied: ${decision.rule}`);
    this.name = 'AddressDeniedError';
  }
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

/**
 * The addresses of `host` this probe may connect to, in resolver order. An IP literal (in any
 * form, normalised) skips the lookup. Rejects with AddressDeniedError when the host is a denied
 * name or every address it resolves to is denied.
 */
export async function allowedAddresses(host: string, port: number, ctx: ConnectContext): Promise<string[]> {
  const before = decideHostKept(ctx.policy, host, port);
  if (before?.denied) throw new AddressDeniedError(host, port, before);
  if (before) return [before.address];
  const start = performance.now();
  // A lookup cannot be cancelled: on abort we only stop waiting for it.
  const found = await untilAbort<string[]>(ctx.signal, (resolve, reject) => void ctx.lookup(host).then(resolve, reject));
  addPhase(ctx.timings, 'dns', start);
  if (found.length === 0) throw Object.assign(new Error(`${host} has no address`), { code: 'ENOTFOUND', hostname: host });
  const decisions = found.map((address) => decideAddressKept(ctx.policy, address, port));
  const allowed = decisions.filter((d) => !d.denied).map((d) => d.address);
  const denied = decisions.find((d): d is Extract<Decision, { denied: true }> => d.denied);
  if (allowed.length === 0 && denied) throw new AddressDeniedError(host, port, denied);
  return allowed;
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
 * Resolve, check against the address policy, connect and (optionally) handshake, adding dns /
 * connect / tls durations to `ctx.timings`. Allowed addresses are tried in resolver order (a
 * `localhost` that lists ::1 first still reaches a server bound to 127.0.0.1). Rejects with
 * AddressDeniedError, the underlying error, or the signal's reason.
 * Every socket carries a no-op 'error' listener, so a late error is never unhandled; callers add
 * their own listener to learn about errors.
 */
export async function connectTimed(target: ConnectTarget, ctx: ConnectContext): Promise<net.Socket> {
  const addresses = await allowedAddresses(target.host, target.port, ctx);
  const start = performance.now();
  let socket: net.Socket | undefined;
  let lastError: unknown;
  for (const address of addresses) {
    const attempt = net.connect({ host: address, port: target.port }).on('error', noop).setNoDelay(true);
    ctx.onSocket?.(attempt);
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
  return target.tls ? startTls(socket, { ...target, tls: target.tls }, ctx) : socket;
}

/**
 * Handshake TLS over a connected socket (right after connect, or in the middle of a conversation:
 * a tcp dialog's STARTTLS), adding the tls duration to `ctx.timings` and the peer certificate's
 * expiry to `ctx.cert`. Rejects with the handshake's error (the socket is destroyed) or the
 * signal's reason.
 */
export async function startTls(socket: net.Socket, target: ConnectTarget & { tls: TlsProfile }, ctx: ConnectContext): Promise<tls.TLSSocket> {
  const tlsStart = performance.now();
  const servername = target.tls.servername ?? (net.isIP(target.host) ? undefined : target.host);
  const secure = tls
    .connect({
      socket,
      // `host` is the name the certificate is checked against when no servername is given.
      host: target.host,
      ...(servername ? { servername } : {}),
      rejectUnauthorized: target.tls.verify,
      ...(target.tls.ca !== undefined ? { secureContext: caContext(target.tls.ca) } : {}),
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
  const cert = readCertInfo(secure);
  if (cert) ctx.cert = cert;
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
      // undici would drop the connection on an interim 100 it did not ask for (checks/http-interim.ts).
      // The final head's HTTP version goes to the probe running when it arrives (expectVersions).
      (socket) => callback(null, skipInterimResponses(socket, (version) => (context().httpVersion = version))),
      // Passed through as is: `instanceof Error` is false for errors from another realm (Jest).
      (err: unknown) => callback(err as Error, null),
    );
  };
}

