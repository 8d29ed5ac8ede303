// Real probe targets for tests: every server listens on 127.0.0.1, port 0 (the OS picks), counts
// what it sees, and closes with `close()` (open connections are cut). Nothing here sleeps; the
// only timers are server behaviours (a delayed answer, a drip).
//
//   startHttpTarget()        configurable HTTP(S) server: per-path status / body / headers / delay /
//                            drip / streamed size, settable at runtime; logs requests and hits
//   startDripTarget()        HTTP: headers, then one body byte every 100 ms forever
//   startHugeBodyTarget()    HTTP: a 50 MiB streamed body
//   startTcpTarget()         TCP(+TLS): banner, echo, close-after-banner, close-on-data
//   startSilentTarget()      TCP: accepts and never answers
//   closedPort()             a port nobody listens on (connection refused)
//   selfSignedCert()         key + cert for CN=localhost (SAN DNS:localhost, IP:127.0.0.1)
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

const HOST = '127.0.0.1';
const noop = (): void => {};

/** How the HTTP target answers a path. Body variants: `body`, `dripEveryMs`, `streamBytes`. */
export interface RouteBehaviour {
  /** Default 200. */
  status?: number;
  /** Default "ok". */
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Answer only after this many ms. */
  delayMs?: number;
  /** Send the headers, then one body byte every this many ms, never ending. */
  dripEveryMs?: number;
  /** Stream this many bytes of "x" (honouring backpressure) instead of `body`. */
  streamBytes?: number;
}

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Distinct per client connection (1, 2, ...): equal ids mean a reused socket. */
  connection: number;
  /** Wall-clock ms the request arrived. */
  at: number;
}

export interface HttpTarget {
  /** Origin without trailing slash, e.g. "http://127.0.0.1:40123" (https for a TLS target). */
  url: string;
  port: number;
  /** Set how `path` (exact pathname, or "*" for every other path) is answered from now on. */
  set(path: string, behaviour: RouteBehaviour): void;
  /** Requests seen for a pathname (query ignored); all requests when omitted. */
  hits(path?: string): number;
  /** Every request, in arrival order. */
  readonly requests: readonly ReceivedRequest[];
  /** TCP connections accepted. */
  readonly connections: number;
  /** TLS only: the SNI of each connection, false when the client sent none. */
  readonly servernames: readonly (string | false)[];
  close(): Promise<void>;
}

export interface HttpTargetOptions {
  /** Serve HTTPS with selfSignedCert(). */
  tls?: boolean;
  /** Initial behaviours by path ("*" for the fallback, default 200 "ok"). */
  routes?: Record<string, RouteBehaviour>;
}

export async function startHttpTarget(options: HttpTargetOptions = {}): Promise<HttpTarget> {
  const routes = new Map<string, RouteBehaviour>(Object.entries(options.routes ?? {}));
  const requests: ReceivedRequest[] = [];
  const servernames: (string | false)[] = [];
  const socketIds = new WeakMap<net.Socket, number>();
  let connections = 0;
  let socketsSeen = 0;

  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const at = Date.now();
    req.on('error', noop);
    res.on('error', noop);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let connection = socketIds.get(req.socket);
      if (connection === undefined) socketIds.set(req.socket, (connection = ++socketsSeen));
      const received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), connection, at };
      requests.push(received);
      const behaviour = routes.get(pathnameOf(received.url)) ?? routes.get('*') ?? {};
      if (behaviour.delayMs === undefined) return answer(res, behaviour);
      const timer = setTimeout(() => answer(res, behaviour), behaviour.delayMs);
      res.on('close', () => clearTimeout(timer));
    });
  };

  let server: http.Server | https.Server;
  if (options.tls) {
    const { key, cert } = await selfSignedCert();
    const secure = https.createServer({ key, cert }, handler);
    secure.on('secureConnection', (socket: tls.TLSSocket) => servernames.push(socket.servername ?? false));
    secure.on('tlsClientError', noop);
    server = secure;
  } else {
    server = http.createServer(handler);
  }
  server.on('connection', () => connections++);
  server.on('clientError', (_err, socket) => socket.destroy());
  const port = await listen(server);
  return {
    url: `${options.tls ? 'https' : 'http'}://${HOST}:${port}`,
    port,
    set: (p, behaviour) => void routes.set(p, behaviour),
    hits: (p) => (p === undefined ? requests.length : requests.filter((r) => pathnameOf(r.url) === p).length),
    requests,
    get connections() {
      return connections;
    },
    servernames,
    close: () => {
      server.closeAllConnections();
      return closeServer(server);
    },
  };
}

function pathnameOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function answer(res: http.ServerResponse, b: RouteBehaviour): void {
  res.writeHead(b.status ?? 200, b.headers);
  if (b.dripEveryMs !== undefined) {
    res.flushHeaders();
    const timer = setInterval(() => res.write('x'), b.dripEveryMs);
    res.on('close', () => clearInterval(timer));
  } else if (b.streamBytes !== undefined) {
    streamBytes(res, b.streamBytes);
  } else {
    res.end(b.body ?? 'ok');
  }
}

const STREAM_CHUNK = Buffer.alloc(64 * 1024, 'x');

/** Write `total` bytes in 64 KiB chunks, waiting for 'drain'; stops when the client goes away. */
function streamBytes(res: http.ServerResponse, total: number): void {
  let left = total;
  const pump = (): void => {
    while (left > 0 && !res.destroyed) {
      const chunk = STREAM_CHUNK.subarray(0, Math.min(left, STREAM_CHUNK.length));
      left -= chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

/** HTTP target whose every answer is 200 headers, then one body byte every 100 ms forever. */
export function startDripTarget(): Promise<HttpTarget> {
  return startHttpTarget({ routes: { '*': { dripEveryMs: 100 } } });
}

/** HTTP target whose every answer is a streamed body of `bytes` (default 50 MiB). */
export function startHugeBodyTarget(bytes = 50 * 1024 * 1024): Promise<HttpTarget> {
  return startHttpTarget({ routes: { '*': { streamBytes: bytes } } });
}

export interface TcpTargetOptions {
  /** Sent to each client on connect. */
  banner?: string;
  /** Close the connection right after the banner. */
  closeAfterBanner?: boolean;
  /** Echo every byte back. */
  echo?: boolean;
  /** Close the connection as soon as the client sends anything (no answer). */
  closeOnData?: boolean;
  /** Serve TLS with selfSignedCert(). */
  tls?: boolean;
}

export interface TcpTarget {
  port: number;
  /** "127.0.0.1:<port>", the form a tcp check's target takes. */
  target: string;
  /** Connections accepted. */
  readonly connections: number;
  /** Everything clients sent, concatenated (UTF-8). */
  readonly received: string;
  close(): Promise<void>;
}

export async function startTcpTarget(options: TcpTargetOptions = {}): Promise<TcpTarget> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let received = '';
  const onSocket = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('error', noop).on('close', () => sockets.delete(socket));
    socket.on('data', (data: Buffer) => {
      received += data.toString('utf8');
      if (options.closeOnData) socket.destroy();
      else if (options.echo) socket.write(data);
    });
    if (options.banner !== undefined) socket.write(options.banner);
    if (options.closeAfterBanner) socket.end();
  };
  let server: net.Server;
  if (options.tls) {
    const { key, cert } = await selfSignedCert();
    server = tls.createServer({ key, cert }, onSocket).on('tlsClientError', noop);
    server.on('connection', () => connections++);
  } else {
    server = net.createServer(onSocket).on('connection', () => connections++);
  }
  const port = await listen(server);
  return {
    port,
    target: `${HOST}:${port}`,
    get connections() {
      return connections;
    },
    get received() {
      return received;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      return closeServer(server);
    },
  };
}

/** TCP target that accepts connections and never sends a byte. */
export function startSilentTarget(): Promise<TcpTarget> {
  return startTcpTarget();
}

/** A port that was free a moment ago and has no listener: connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

let certPromise: Promise<{ key: string; cert: string }> | undefined;

/**
 * A self-signed key + certificate for CN=localhost (SAN DNS:localhost, IP:127.0.0.1), made once
 * per test process with the `openssl` CLI in a temp dir that is removed right away.
 */
export function selfSignedCert(): Promise<{ key: string; cert: string }> {
  certPromise ??= (async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lookout-cert-'));
    try {
      const keyFile = path.join(dir, 'key.pem');
      const certFile = path.join(dir, 'cert.pem');
      // prettier-ignore
      await promisify(execFile)('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile,
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-days', '1',
      ]).catch((err: Error) => {
        throw new Error(`selfSignedCert needs the openssl CLI: ${err.message}`);
      });
      return { key: await readFile(keyFile, 'utf8'), cert: await readFile(certFile, 'utf8') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return certPromise;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * A resolver that knows no name: "unresolvable host" tests use it, so they send no DNS query off
 * this machine (the system resolver would ask the configured name server).
 */
export const resolverKnowingNothing = async (host: string): Promise<string[]> => {
  throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });
};

/**
 * A host name the system resolver fails on without sending a query: a 64-character label is not a
 * valid DNS name, so glibc refuses to build the packet (checked with strace). For tests where a
 * real node resolves, and no stub resolver can be injected.
 */
export const UNRESOLVABLE_HOST = `${'a'.repeat(64)}.invalid`;
