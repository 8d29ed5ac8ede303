// One HTTP(S) probe: request → (redirects) → status / body / JSON assertions → latency bound.
//
// Every probe opens a fresh connection (a health check must test connect) on its own undici
// Client, destroyed at the end. With `reuseConnection` a Client per (check, origin, TLS profile)
// is kept in a module-level pool instead. The whole probe runs under one Deadline.
import { Client, errors, type Dispatcher } from 'undici';
import { undiciConnector, type ConnectContext, type ProbeTimings, type TlsProfile } from './connector';
import { Deadline, STOPPED } from './deadline';
import { buildOutcome, latencyFailure, networkFailure, type Failure } from './failures';
import { jsonEqual, lookupJsonPath, parseJsonPath } from './json-path';
import { FailureReason, type ProbeOutcome } from './outcome';
import type { NormalizedSpec } from './spec';
import { describeStatusSet, statusMatches } from './status-match';

type HttpSpec = NormalizedSpec['http'];
type Response = Dispatcher.ResponseData;

/** undici's own timers are off: the Deadline covers headers and body, and theirs have ~1 s resolution. */
const UNDICI_TIMERS_OFF = { headersTimeout: 0, bodyTimeout: 0 } as const;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Request headers not sent on to another origin after a redirect. */
const ORIGIN_BOUND_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'host']);
/** Headers describing a request body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding']);
const REGEX_CACHE_LIMIT = 1024;

const noop = (): void => {};

/** What one probe has measured so far; still read when the deadline cut the probe short. */
interface HttpAttempt {
  timings: ProbeTimings;
  /** The connect context handed to this probe's connectors. */
  context: ConnectContext;
  /** "host:port" of the hop in flight, for error messages. */
  endpoint: string;
  status?: number;
  redirects: number;
  body?: { bytes: Buffer; truncated: boolean };
  /** Fresh (unpooled) clients to destroy when the probe ends. */
  clients: Client[];
}

interface HopRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export async function probeHttp(spec: NormalizedSpec, signal?: AbortSignal): Promise<ProbeOutcome> {
  const deadline = new Deadline(spec.timeoutMs, signal);
  const timings: ProbeTimings = {};
  const attempt: HttpAttempt = { timings, context: { timings, signal: deadline.signal }, endpoint: spec.target, redirects: 0, clients: [] };
  let failure: Failure | null;
  try {
    const result = await deadline.race(exchange(spec, deadline, attempt));
    failure = result === STOPPED ? deadline.failure : result;
  } catch (err) {
    // Once stopped, whatever undici throws is a consequence of the stop.
    failure = deadline.failure ?? httpFailure(err, attempt.endpoint);
  }
  const total = deadline.elapsed();
  deadline.dispose();
  withoutStacks(() => {
    for (const client of attempt.clients) client.destroy().catch(noop);
  });
  failure ??= latencyFailure(total, spec.http.maxLatencyMs);
  return buildOutcome(total, timings, failure, {
    ...(attempt.status !== undefined ? { httpStatus: attempt.status } : {}),
    ...(attempt.body ? { bodyBytes: attempt.body.bytes.length, truncated: attempt.body.truncated } : {}),
    ...(spec.http.maxRedirects > 0 ? { redirects: attempt.redirects } : {}),
  });
}

/**
 * Tearing a response or a client down makes undici create errors (RequestAbortedError,
 * ClientDestroyedError) that nobody reads; capturing and formatting their stack traces was ~13% of
 * the CPU of a fresh-connection probe (BENCHMARKS.md §1). They are created synchronously inside
 * destroy(), so stack capture is switched off for exactly that call.
 */
function withoutStacks(teardown: () => void): void {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    teardown();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** Request the target, following redirects when allowed; the failure, or null when all passed. */
async function exchange(spec: NormalizedSpec, deadline: Deadline, a: HttpAttempt): Promise<Failure | null> {
  const http = spec.http;
  let url = new URL(spec.target);
  let hop: HopRequest = { method: http.method, headers: http.headers, ...(http.body !== undefined ? { body: http.body } : {}) };
  for (;;) {
    deadline.signal.throwIfAborted();
    a.endpoint = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
    const res = await clientFor(spec, url, a).request({
      path: url.pathname + url.search,
      method: hop.method as Dispatcher.HttpMethod,
      headers: hop.headers,
      ...(hop.body !== undefined ? { body: hop.body } : {}),
      signal: deadline.signal,
    });
    // The body emits 'error' when destroyed (by us, or by the abort); iterators still see it.
    res.body.on('error', noop);
    a.status = res.statusCode;
    // From the probe's start to the latest response headers (the final answer's, after redirects).
    a.timings.firstByte = deadline.elapsed();
    const location = http.maxRedirects > 0 && REDIRECT_STATUSES.has(res.statusCode) ? firstValue(res.headers.location) : undefined;
    if (location === undefined) return judge(http, res, a);

    withoutStacks(() => res.body.destroy());
    if (a.redirects >= http.maxRedirects) {
      return { reason: FailureReason.status, message: `too many redirects (more than ${http.maxRedirects})` };
    }
    const next = URL.canParse(location, url.href) ? new URL(location, url) : null;
    if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) {
      return { reason: FailureReason.status, message: `redirect to an unsupported location: ${location}` };
    }
    hop = redirected(hop, res.statusCode, url, next);
    url = next;
    a.redirects++;
  }
}

/** The request for the next hop: 303 (and 301/302 after a POST) become a GET without body. */
function redirected(hop: HopRequest, status: number, from: URL, to: URL): HopRequest {
  const toGet = hop.method !== 'HEAD' && (status === 303 || ((status === 301 || status === 302) && hop.method === 'POST'));
  const crossOrigin = from.origin !== to.origin;
  const headers = Object.fromEntries(
    Object.entries(hop.headers).filter(([name]) => {
      const lower = name.toLowerCase();
      return !(crossOrigin && ORIGIN_BOUND_HEADERS.has(lower)) && !(toGet && BODY_HEADERS.has(lower));
    }),
  );
  if (toGet) return { method: 'GET', headers };
  return { ...hop, headers };
}

/** Check status, then the body assertions (reading at most maxBodyBytes). */
async function judge(http: HttpSpec, res: Response, a: HttpAttempt): Promise<Failure | null> {
  if (!statusMatches(res.statusCode, http.expectStatus)) {
    withoutStacks(() => res.body.destroy());
    return { reason: FailureReason.status, message: `expected status ${describeStatusSet(http.expectStatus)}, got ${res.statusCode}` };
  }
  const assertsBody = http.bodyContains !== undefined || http.bodyRegex !== undefined || http.json.length > 0;
  if (!assertsBody) {
    // The headers are the answer. A pooled connection survives only if its body is drained, so
    // a small body of known length is read; anything else is dropped with the connection.
    const length = Number(res.headers['content-length']);
    if (http.reuseConnection && length <= http.maxBodyBytes) a.body = await readCapped(res.body, http.maxBodyBytes);
    else withoutStacks(() => res.body.destroy());
    return null;
  }
  a.body = await readCapped(res.body, http.maxBodyBytes);
  const failure = checkBody(http, a.body.bytes);
  if (failure && a.body.truncated) {
    // The answer might have been further on.
    return { reason: FailureReason.too_large, message: `${failure.message} in the first ${http.maxBodyBytes} bytes (body cut)` };
  }
  return failure;
}

/** Read at most `cap` bytes, then stop: leaving the loop destroys the stream (and connection). */
async function readCapped(body: AsyncIterable<Buffer>, cap: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (chunk.length > cap - size) {
      chunks.push(chunk.subarray(0, cap - size));
      return { bytes: Buffer.concat(chunks, cap), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, size), truncated: false };
}

function checkBody(http: HttpSpec, bytes: Buffer): Failure | null {
  const text = bytes.toString('utf8');
  if (http.bodyContains !== undefined && !text.includes(http.bodyContains)) {
    return { reason: FailureReason.body, message: `body does not contain ${preview(http.bodyContains)}` };
  }
  if (http.bodyRegex !== undefined && !compiledRegex(http.bodyRegex).test(text)) {
    return { reason: FailureReason.body, message: `body does not match /${http.bodyRegex}/` };
  }
  if (http.json.length === 0) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { reason: FailureReason.json, message: 'body is not valid JSON' };
  }
  for (const { path, equals } of http.json) {
    const actual = lookupJsonPath(doc, parseJsonPath(path));
    if (!jsonEqual(actual, equals)) {
      const found = actual === undefined ? 'missing' : preview(actual);
      return { reason: FailureReason.json, message: `${path} is ${found}, expected ${preview(equals)}` };
    }
  }
  return null;
}

const regexCache = new Map<string, RegExp>();

/** Compile each distinct pattern once (bounded: the oldest entry goes first). */
function compiledRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (!re) {
    if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.delete(regexCache.keys().next().value!);
    re = new RegExp(pattern);
    regexCache.set(pattern, re);
  }
  return re;
}

function preview(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** Errors from undici first (HTTP-level), then the socket / TLS / resolver mapping. */
function httpFailure(err: unknown, endpoint: string): Failure {
  const code = (err as { code?: unknown })?.code;
  if (err instanceof errors.HTTPParserError || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { reason: FailureReason.protocol, message: `invalid HTTP response from ${endpoint}: ${(err as Error).message}` };
  }
  if (err instanceof errors.SocketError) {
    return { reason: FailureReason.reset, message: `connection closed by ${endpoint} before a complete response` };
  }
  return networkFailure(err, endpoint);
}

/** The TLS profile for a hop: an explicit servername applies to the target's own host only. */
function tlsProfileFor(spec: NormalizedSpec, url: URL): TlsProfile {
  const { verify, servername } = spec.http.tls;
  const own = servername !== undefined && url.hostname === new URL(spec.target).hostname;
  return { verify, ...(own ? { servername } : {}) };
}

function clientFor(spec: NormalizedSpec, url: URL, a: HttpAttempt): Client {
  const profile = tlsProfileFor(spec, url);
  if (spec.http.reuseConnection) return pooledClient(spec, url.origin, profile, a.context);
  const context = a.context;
  const client = new Client(url.origin, { ...UNDICI_TIMERS_OFF, connect: undiciConnector(profile, () => context) });
  a.clients.push(client);
  return client;
}

interface PooledClient {
  checkId: string;
  client: Client;
  /** The running probe's context; a reconnect reports into it. */
  context: ConnectContext;
}

const pool = new Map<string, PooledClient>();

function pooledClient(spec: NormalizedSpec, origin: string, profile: TlsProfile, context: ConnectContext): Client {
  const key = JSON.stringify([spec.id, origin, profile.verify, profile.servername ?? null]);
  let entry = pool.get(key);
  if (!entry || entry.client.destroyed || entry.client.closed) {
    // Idle sockets live at most two intervals (less if the server's keep-alive hint says so).
    const keepAlive = 2 * spec.intervalMs;
    const created: PooledClient = { checkId: spec.id, context, client: null as unknown as Client };
    created.client = new Client(origin, {
      ...UNDICI_TIMERS_OFF,
      keepAliveTimeout: keepAlive,
      keepAliveMaxTimeout: keepAlive,
      connect: undiciConnector(profile, () => created.context),
    });
    pool.set(key, created);
    entry = created;
  }
  entry.context = context;
  return entry.client;
}

/** Destroy the pooled connections of one check (when the check is deleted). */
export async function releaseHttpClient(checkId: string): Promise<void> {
  const doomed = [...pool].filter(([, entry]) => entry.checkId === checkId);
  for (const [key] of doomed) pool.delete(key);
  await Promise.all(doomed.map(([, entry]) => entry.client.destroy().catch(noop)));
}

/** Destroy every pooled connection (at shutdown). */
export async function closeHttpPool(): Promise<void> {
  const all = [...pool.values()];
  pool.clear();
  await Promise.all(all.map((entry) => entry.client.destroy().catch(noop)));
}
