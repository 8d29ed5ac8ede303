// `lookout demo-target`: a small HTTP service with endpoints whose health is known in advance, so a
// newcomer (docker compose, `lookout dev`) sees every kind of verdict without an outside service.
// The example specs in examples/specs/ probe it through `${DEMO_URL}`.
//
// Endpoints (GET or HEAD; any other method gets 405):
//
//   /                index: this list as JSON
//   /healthy         200 {"status":"ok"}
//   /failing         503 {"status":"failing"}
//   /slow            200 {"status":"ok","delayMs":n} after 3 s; ?ms=N (0 … 120000) sets the delay
//   /flapping        alternates between 200 {"status":"ok"} and 503 {"status":"failing"} every
//                    20 s (?seconds=N, 1 … 3600). The phase follows the wall clock (healthy in even
//                    periods since the Unix epoch), so every node probing it sees the same answer
//                    and a check with a short interval shows a verdict change within a minute.
//   /json            200 JSON with nested fields, for json-path assertions:
//                    {"status":"ok","service":"demo","version":"1.4.2",
//                     "checks":[{"name":"db","healthy":true,"latencyMs":3},{"name":"cache","healthy":true,"latencyMs":1}],
//                     "meta":{"region":"local","dotted.key":"yes","uptimeSeconds":n}}
//   /auth            200 {"status":"ok","user":"demo"} with "Authorization: Bearer demo-token",
//                    otherwise 401 (shows http.headers)
//   /status/<code>   answers with that status (100 … 599, 1xx/204/304 without a body; 3xx carry
//                    "Location: /healthy") — shows http.expectStatus codes and classes
//
// Every answer carries `cache-control: no-store` and `connection: close` is honoured.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readArgv } from '../runtime/argv';
import { ConfigError } from '../runtime/config';

export const DEMO_DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  slowMs: 3_000,
  slowMaxMs: 120_000,
  flapSeconds: 20,
  flapMaxSeconds: 3_600,
  token: 'demo-token',
} as const;

const ENDPOINTS: Record<string, string> = {
  '/healthy': '200 {"status":"ok"}',
  '/failing': '503 {"status":"failing"}',
  '/slow': `200 after ${DEMO_DEFAULTS.slowMs} ms; ?ms=N (0..${DEMO_DEFAULTS.slowMaxMs}) sets the delay`,
  '/flapping': `healthy and unhealthy (503) in turn, every ${DEMO_DEFAULTS.flapSeconds} s; ?seconds=N (1..${DEMO_DEFAULTS.flapMaxSeconds})`,
  '/json': 'JSON with nested fields for json-path checks ($.status, $.checks[0].healthy, $.meta["dotted.key"])',
  '/auth': `200 with "Authorization: Bearer ${DEMO_DEFAULTS.token}", otherwise 401`,
  '/status/<code>': 'answers with that status code (100..599)',
};

const USAGE = `Usage: lookout demo-target [--port N] [--host ADDR]

Runs the demo HTTP target that the example specs (examples/specs) probe.

  --port N       port to listen on (default: env DEMO_PORT, else ${DEMO_DEFAULTS.port}; 0 picks a free port)
  --host ADDR    address to listen on (default ${DEMO_DEFAULTS.host})

Endpoints:
${Object.entries(ENDPOINTS)
  .map(([p, d]) => `  ${p.padEnd(16)} ${d}`)
  .join('\n')}

Logs one JSON line {"msg":"demo target listening","port":N,...} once it listens; exits 0 on SIGTERM/SIGINT.
`;

export interface DemoTargetOptions {
  host?: string;
  port?: number;
  /** Flapping period in ms (default 20 s); ?seconds= overrides it per request. */
  flapMs?: number;
  /** Clock for /flapping (tests). */
  now?: () => number;
}

export interface DemoTarget {
  port: number;
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:8080 (a wildcard host becomes 127.0.0.1). */
  url: string;
  close(): Promise<void>;
}

/** Parse an integer query parameter within [min, max]; undefined when absent, null when invalid. */
function intParam(params: URLSearchParams, name: string, min: number, max: number): number | undefined | null {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) return null;
  const n = Number(raw);
  return n >= min && n <= max ? n : null;
}

/** Healthy in even periods since the Unix epoch, unhealthy in odd ones. */
export function flappingHealthy(nowMs: number, periodMs: number): boolean {
  return Math.floor(nowMs / periodMs) % 2 === 0;
}

export async function startDemoTarget(opts: DemoTargetOptions = {}): Promise<DemoTarget> {
  const host = opts.host ?? DEMO_DEFAULTS.host;
  const now = opts.now ?? Date.now;
  const defaultFlapMs = opts.flapMs ?? DEMO_DEFAULTS.flapSeconds * 1000;
  const started = now();
  const pending = new Set<NodeJS.Timeout>();

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo');
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      const noBody = status < 200 || status === 204 || status === 304 || body === undefined;
      const text = noBody ? '' : JSON.stringify(body) + '\n';
      res.writeHead(status, {
        'cache-control': 'no-store',
        ...(noBody ? {} : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }),
        ...headers,
      });
      res.end(req.method === 'HEAD' ? undefined : text);
    };
    const bad = (message: string) => send(400, { error: message });
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { error: 'method not allowed' }, { allow: 'GET, HEAD' });

    const path = url.pathname;
    if (path === '/') return send(200, { service: 'lookout demo target', endpoints: ENDPOINTS });
    if (path === '/healthy') return send(200, { status: 'ok' });
    if (path === '/failing') return send(503, { status: 'failing' });
    if (path === '/slow') {
      const ms = intParam(url.searchParams, 'ms', 0, DEMO_DEFAULTS.slowMaxMs);
      if (ms === null) return bad(`ms must be an integer from 0 to ${DEMO_DEFAULTS.slowMaxMs}`);
      const delay = ms ?? DEMO_DEFAULTS.slowMs;
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (!res.destroyed) send(200, { status: 'ok', delayMs: delay });
      }, delay);
      pending.add(timer);
      res.once('close', () => {
        clearTimeout(timer);
        pending.delete(timer);
      });
      return;
    }
    if (path === '/flapping') {
      const seconds = intParam(url.searchParams, 'seconds', 1, DEMO_DEFAULTS.flapMaxSeconds);
      if (seconds === null) return bad(`seconds must be an integer from 1 to ${DEMO_DEFAULTS.flapMaxSeconds}`);
      const periodMs = seconds === undefined ? defaultFlapMs : seconds * 1000;
      const t = now();
      const healthy = flappingHealthy(t, periodMs);
      const nextChangeInMs = periodMs - (t % periodMs);
      return send(healthy ? 200 : 503, { status: healthy ? 'ok' : 'failing', periodMs, nextChangeInMs });
    }
    if (path === '/json') {
      return send(200, {
        status: 'ok',
        service: 'demo',
        version: '1.4.2',
        checks: [
          { name: 'db', healthy: true, latencyMs: 3 },
          { name: 'cache', healthy: true, latencyMs: 1 },
        ],
        meta: { region: 'local', 'dotted.key': 'yes', uptimeSeconds: Math.floor((now() - started) / 1000) },
      });
    }
    if (path === '/auth') {
      if (req.headers.authorization === `Bearer ${DEMO_DEFAULTS.token}`) return send(200, { status: 'ok', user: 'demo' });
      return send(401, { error: 'missing or wrong bearer token' }, { 'www-authenticate': 'Bearer realm="demo"' });
    }
    const m = /^\/status\/(\d{3})$/.exec(path);
    if (m) {
      const code = Number(m[1]);
      if (code < 100 || code > 599) return bad('status must be from 100 to 599');
      // Informational codes cannot be a final answer in Node; report them as 200 with a note.
      if (code < 200) return send(200, { status: code, note: '1xx cannot be a final status' });
      return send(code, { status: code }, code >= 300 && code < 400 ? { location: '/healthy' } : {});
    }
    return send(404, { error: 'not found', endpoints: Object.keys(ENDPOINTS) });
  });
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new ConfigError(`demo target: port ${opts.port ?? DEMO_DEFAULTS.port} on ${host} is already in use`) : err),
    );
    server.listen(opts.port ?? DEMO_DEFAULTS.port, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' || host === '' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const t of pending) clearTimeout(t);
        pending.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

function parsePort(raw: string, source: string): number {
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) throw new ConfigError(`${source}: expected an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

export function parseDemoArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): { help: true } | { help: false; host: string; port: number } {
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const envPort = env.DEMO_PORT !== undefined && env.DEMO_PORT !== '' ? parsePort(env.DEMO_PORT, 'DEMO_PORT') : DEMO_DEFAULTS.port;
  const { flags } = readArgv(
    argv,
    { port: { type: 'string' }, host: { type: 'string' } },
    (p) =>
      new ConfigError(
        p.kind === 'missing-value'
          ? `demo-target: ${p.flag} needs a value`
          : `demo-target: unknown argument ${JSON.stringify(p.kind === 'unexpected-positional' ? p.value : p.flag)} (see lookout demo-target --help)`,
      ),
    0,
  );
  const port = flags.get('port');
  const host = flags.get('host');
  if (host === '') throw new ConfigError('demo-target: --host needs a value');
  return {
    help: false,
    host: typeof host === 'string' ? host : DEMO_DEFAULTS.host,
    port: typeof port === 'string' ? parsePort(port, '--port') : envPort,
  };
}

export async function runDemoTarget(argv: string[]): Promise<number | 'running'> {
  const args = parseDemoArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const target = await startDemoTarget({ host: args.host, port: args.port });
  const line = (level: number, msg: string, extra: object = {}) =>
    process.stdout.write(JSON.stringify({ level, time: Date.now(), name: 'demo-target', msg, ...extra }) + '\n');
  let stopping = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    line(30, 'demo target stopping', { event: 'demo_target_stopping', signal: sig });
    target.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // Only now: whoever waits for this line may signal us at once, and must see a clean exit.
  line(30, 'demo target listening', { event: 'demo_target_listening', port: target.port, host: args.host, url: target.url, endpoints: Object.keys(ENDPOINTS) });
  return 'running';
}
