// One HTTP(S) probe: request → (redirects) → status / body / JSON assertions → latency bound.
//
// Every probe opens a fresh connection (a health check must test connect) on its own undici
// Client, destroyed at the end. With `reuseConnection` a Client per (check, origin, TLS profile)
// is kept in a module-level pool instead. The whole probe runs under one Deadline. Redirects are
// followed here, hop by hop, each on a Client whose connector applies the address policy.
import { Client, errors, type Dispatcher } from 'undici';
import { undiciConnector, type ConnectContext, type ProbeTimings, type TlsProfile } from './connector';
import { Deadline, STOPPED } from './deadline';
import { buildOutcome, latencyFailure, networkFailure, type Failure } from './failures';
import { BODY_SMALL_CHARS, bodyWorker, type BodyAssertion, type JsonVerdict, type RegexVerdict, type WorkStopped } from './body-worker';
import { evaluateJsonAssertions } from './json-path';
import { FailureReason, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv, type WorkerOverrunReport } from './probe-env';
import { describeFound, preview, quoteTarget, type ResultDetail } from './result-detail';
import type { NormalizedSpec } from './spec';
import { describeStatusSet, statusMatches } from './status-match';
import { indexOfLinear } from './text-search';

type HttpSpec = NormalizedSpec['http'];
type Response = Dispatcher.ResponseData;

/** undici's own timers are off: the Deadline covers headers and body, and theirs have ~1 s resolution. */
const UNDICI_TIMERS_OFF = { headersTimeout: 0, bodyTimeout: 0 } as const;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Request headers not sent on to another origin after a redirect. */
const ORIGIN_BOUND_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'host']);
/** Headers describing a request body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding']);

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
  /** How much of the target's answer messages may quote. */
  detail: ResultDetail;
  /** The check (whose JSON the body worker remembers when it overran). */
  checkId: string;
  onWorkerOverrun?: WorkerOverrunReport;
}

interface HopRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** `env`: the address policy, resolver and result detail (a node passes its own). */
export async function probeHttp(spec: NormalizedSpec, signal?: AbortSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  const deadline = new Deadline(spec.timeoutMs, signal);
  if (spec.http.bodyRegex !== undefined || spec.http.json.length > 0) bodyWorker.warm(); // loads while the request is out
  const timings: ProbeTimings = {};
  const context: ConnectContext = { timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
  const attempt: HttpAttempt = {
    timings,
    context,
    endpoint: spec.target,
    redirects: 0,
    clients: [],
    detail: env.detail,
    checkId: spec.id,
    ...(env.onWorkerOverrun ? { onWorkerOverrun: env.onWorkerOverrun } : {}),
  };
  let failure: Failure | null;
  try {
    const result = await deadline.race(exchange(spec, deadline, attempt));
    failure = result === STOPPED ? deadline.failure : result;
  } catch (err) {
    // Once stopped, whatever undici throws is a consequence of the stop.
    failure = deadline.failure ?? httpFailure(err, attempt.endpoint, attempt.detail);
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
      return { reason: FailureReason.status, message: `redirect to an unsupported location: ${quoteTarget(location, a.detail)}` };
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
  const failure = await checkBody(http, a.body.bytes, a);
  if (failure && !failure.conclusive && a.body.truncated) {
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

/** A body failure; `conclusive` when more of the body would not have changed it. */
type BodyFailure = Failure & { conclusive?: boolean };

/**
 * The body assertions in order: bodyContains (linear-time search, here), bodyRegex (RE2) and json
 * (JSON.parse and the paths) in the body worker, off the event loop, each within its budget — but
 * JSON shorter than BODY_SMALL_CHARS is evaluated here, which costs less than handing it over.
 * What runs here is bounded: decoding ≤ 1 MiB (~0.5 ms), the search (≤ ~10 ms), small JSON (≤ 1 ms).
 */
async function checkBody(http: HttpSpec, bytes: Buffer, a: HttpAttempt): Promise<BodyFailure | null> {
  const text = bytes.toString('utf8');
  const signal = a.context.signal;
  if (http.bodyContains !== undefined && indexOfLinear(text, http.bodyContains) < 0) {
    return { reason: FailureReason.body, message: `body does not contain ${preview(http.bodyContains)}` };
  }
  if (http.bodyRegex !== undefined) {
    const verdict = await bodyWorker.match(http.bodyRegex, text, signal);
    reportOverrun(a, 'bodyRegex', verdict);
    const failure = regexFailure(http.bodyRegex, text.length, verdict);
    if (failure) return failure;
  }
  if (http.json.length === 0) return null;
  const verdict = text.length < BODY_SMALL_CHARS ? evaluateSmallJson(text, http.json) : await bodyWorker.evaluateJson(a.checkId, text, http.json, signal);
  reportOverrun(a, 'json', verdict);
  return jsonFailure(http, text.length, verdict, a.detail);
}

function evaluateSmallJson(text: string, assertions: HttpSpec['json']): JsonVerdict {
  try {
    return evaluateJsonAssertions(text, assertions);
  } catch (err) {
    return { status: 'failed', message: err instanceof Error ? err.message : String(err) };
  }
}

function reportOverrun(a: HttpAttempt, assertion: BodyAssertion, verdict: RegexVerdict | JsonVerdict): void {
  if (verdict.status === 'overrun') a.onWorkerOverrun?.(assertion, verdict.remembered ? 'remembered' : 'budget');
  else if (verdict.status === 'rationed') a.onWorkerOverrun?.(assertion, 'rationed');
}

function regexFailure(pattern: string, chars: number, verdict: RegexVerdict): BodyFailure | null {
  switch (verdict.status) {
    case 'match':
      return null;
    case 'no_match':
      return { reason: FailureReason.body, message: `body does not match /${pattern}/` };
    default:
      return stopped(verdict, FailureReason.body, `bodyRegex /${pattern}/`, chars, 'simplify the pattern or lower maxBodyBytes');
  }
}

function jsonFailure(http: HttpSpec, chars: number, verdict: JsonVerdict, detail: ResultDetail): BodyFailure | null {
  switch (verdict.status) {
    case 'pass':
      return null;
    case 'invalid':
      return { reason: FailureReason.json, message: 'body is not valid JSON' };
    case 'fail': {
      const { path, equals } = http.json[verdict.index]!;
      return { reason: FailureReason.json, message: `${path} is ${describeFound(verdict.found, equals, detail)}, expected ${preview(equals)}` };
    }
    default:
      return stopped(verdict, FailureReason.json, 'JSON evaluation', chars, 'lower maxBodyBytes or check a smaller document');
  }
}

/**
 * The body worker gave no answer: stopped at its budget or refused (conclusive: more body would
 * cost more), aborted, or failed. `what` names the work ("bodyRegex /x/", "JSON evaluation").
 */
function stopped(verdict: WorkStopped, reason: FailureReason, what: string, chars: number, advice: string): BodyFailure {
  switch (verdict.status) {
    case 'overrun':
      return { reason, message: `${what} was stopped after ${verdict.budgetMs} ms on ${chars} characters of body; ${advice}`, conclusive: true };
    case 'rationed':
      return {
        reason,
        message: `${what} was not run: it took over ${verdict.heavyMs} ms recently, and such costly body work may use at most ${verdict.sharePct}% of the node's body worker`,
        conclusive: true,
      };
    case 'aborted': // the deadline fired (or the node is stopping): the probe reports that instead
      return { reason: FailureReason.error, message: 'aborted' };
    case 'failed':
      return { reason: FailureReason.error, message: `${what} could not run: ${verdict.message}` };
    default: {
      const unknown: never = verdict;
      return unknown;
    }
  }
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header[0] : header;
}

/** Errors from undici first (HTTP-level), then the socket / TLS / resolver mapping. */
function httpFailure(err: unknown, endpoint: string, detail: ResultDetail): Failure {
  const code = (err as { code?: unknown })?.code;
  if (err instanceof errors.HTTPParserError || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { reason: FailureReason.protocol, message: `invalid HTTP response from ${endpoint}: ${(err as Error).message}` };
  }
  if (err instanceof errors.SocketError) {
    return { reason: FailureReason.reset, message: `connection closed by ${endpoint} before a complete response` };
  }
  return networkFailure(err, endpoint, detail);
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

/** Destroy every pooled connection and stop the body worker (at shutdown). */
export async function closeHttpPool(): Promise<void> {
  const all = [...pool.values()];
  pool.clear();
  await Promise.all([...all.map((entry) => entry.client.destroy().catch(noop)), bodyWorker.close()]);
}
