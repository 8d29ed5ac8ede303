// One HTTP(S) probe: request → (redirects) → status / body / JSON assertions → latency bound.
//
// Every probe opens a fresh connection (a health check must test connect) on its own undici
// Client, destroyed at the end. With `reuseConnection` the node's HttpClientPool (its ProbeEnv's,
// checks/http-pool.ts) keeps a Client per (check, origin, TLS profile) instead. The whole probe
// runs within one Deadline (checks/probe-envelope.ts). Redirects are followed here, hop by hop,
// by the rules of checks/http-redirect.ts, each on a Client whose connector applies the address
// policy; the body assertions are checks/http-body.ts.
import { Client, errors, type Dispatcher } from 'undici';
import { undiciConnector, type ConnectContext, type ProbeTimings, type TlsProfile } from './connector';
import type { Deadline } from './deadline';
import { networkFailure, type Failure } from './failures';
import { checkBody, readCapped, type BodyContext, type BodyRead } from './http-body';
import { UNDICI_TIMERS_OFF } from './http-pool';
import { firstHop, followRedirect, redirectLocation, type Hop } from './http-redirect';
import { FailureReason, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { runWithinDeadline } from './probe-envelope';
import type { ResultDetail } from './result-detail';
import type { NormalizedSpec } from './spec';
import { describeStatusSet, statusMatches } from './status-match';

type HttpSpec = NormalizedSpec['http'];
type Response = Dispatcher.ResponseData;

const noop = (): void => {};

/** What one probe has measured so far; still read when the deadline cut the probe short. */
interface HttpAttempt extends BodyContext {
  timings: ProbeTimings;
  /** The connect context handed to this probe's connectors. */
  context: ConnectContext;
  /** "host:port" of the hop in flight, for error messages. */
  endpoint: string;
  status?: number;
  redirects: number;
  body?: BodyRead;
  /** Fresh (unpooled) clients to destroy when the probe ends. */
  clients: Client[];
  env: ProbeEnv;
}

/** `env`: the address policy, resolver, result detail, connection pool and body worker (a node passes its own). */
export function probeHttp(spec: NormalizedSpec, signal?: AbortSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  const http = spec.http;
  return runWithinDeadline({ timeoutMs: spec.timeoutMs, maxLatencyMs: http.maxLatencyMs, minDaysLeft: http.tls.minDaysLeft }, signal, {
    begin: (deadline) => {
      if (http.bodyRegex !== undefined || http.json.length > 0) env.bodyWorker.warm(); // loads while the request is out
      const timings = {};
      const context: ConnectContext = { timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
      const attempt: HttpAttempt = { timings, context, endpoint: spec.target, redirects: 0, clients: [], checkId: spec.id, signal: deadline.signal, env };
      return attempt;
    },
    exchange: (deadline, a) => exchange(spec, deadline, a),
    classify: (err, a) => httpFailure(err, a.endpoint, a.env.detail),
    teardown: (a) =>
      withoutStacks(() => {
        for (const client of a.clients) client.destroy().catch(noop);
      }),
    extra: (a) => ({
      ...(a.status !== undefined ? { httpStatus: a.status } : {}),
      ...(a.body ? { bodyBytes: a.body.bytes.length, truncated: a.body.truncated } : {}),
      ...(http.maxRedirects > 0 ? { redirects: a.redirects } : {}),
      ...(a.context.cert ? { cert: a.context.cert } : {}),
    }),
  });
}

// Most specs share one (frozen) headers object: the headers with the node's User-Agent are made once per object.
const withAgent = new WeakMap<Record<string, string>, Record<string, string>>();

/** The request headers with the node's User-Agent, unless the spec sets its own (any case). */
export function withUserAgent(headers: Record<string, string>, userAgent: string | undefined): Record<string, string> {
  if (userAgent === undefined) return headers;
  let h = withAgent.get(headers);
  if (!h) {
    h = Object.keys(headers).some((k) => k.toLowerCase() === 'user-agent') ? headers : { ...headers, 'user-agent': userAgent };
    withAgent.set(headers, h);
  }
  return h;
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
  let hop: Hop = firstHop(spec.target, http);
  for (;;) {
    deadline.signal.throwIfAborted();
    const url = hop.url;
    a.endpoint = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
    const res = await clientFor(spec, url, a).request({
      path: url.pathname + url.search,
      method: hop.method as Dispatcher.HttpMethod,
      headers: withUserAgent(hop.headers, a.env.userAgent),
      ...(hop.body !== undefined ? { body: hop.body } : {}),
      signal: deadline.signal,
    });
    // The body emits 'error' when destroyed (by us, or by the abort); iterators still see it.
    res.body.on('error', noop);
    a.status = res.statusCode;
    // From the probe's start to the latest response headers (the final answer's, after redirects).
    a.timings.firstByte = deadline.elapsed();
    const location = redirectLocation(res.statusCode, res.headers.location, http.maxRedirects);
    if (location === undefined) return judge(http, res, a);

    withoutStacks(() => res.body.destroy());
    const step = followRedirect(hop, res.statusCode, location, a.redirects, http.maxRedirects, a.env.detail);
    if ('failure' in step) return step.failure;
    hop = step.next;
    a.redirects++;
  }
}

/** The failure when `status` is not one the spec expects. */
export function statusFailure(http: Pick<HttpSpec, 'expectStatus'>, status: number): Failure | null {
  if (statusMatches(status, http.expectStatus)) return null;
  return { reason: FailureReason.status, message: `expected status ${describeStatusSet(http.expectStatus)}, got ${status}` };
}

/** Check status, then the body assertions (reading at most maxBodyBytes). */
async function judge(http: HttpSpec, res: Response, a: HttpAttempt): Promise<Failure | null> {
  const wrongStatus = statusFailure(http, res.statusCode);
  if (wrongStatus) {
    withoutStacks(() => res.body.destroy());
    return wrongStatus;
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

/** The connection ended before a whole response head (undici: SocketError). */
export function closedEarly(endpoint: string): Failure {
  return { reason: FailureReason.reset, message: `connection closed by ${endpoint} before a complete response` };
}

/** Errors from undici first (HTTP-level), then the socket / TLS / resolver mapping. */
function httpFailure(err: unknown, endpoint: string, detail: ResultDetail): Failure {
  const code = (err as { code?: unknown })?.code;
  if (err instanceof errors.HTTPParserError || code === 'UND_ERR_HEADERS_OVERFLOW' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
    return { reason: FailureReason.protocol, message: `invalid HTTP response from ${endpoint}: ${(err as Error).message}` };
  }
  if (err instanceof errors.SocketError) {
    return closedEarly(endpoint);
  }
  return networkFailure(err, endpoint, detail);
}

/** The TLS profile for a hop: an explicit servername applies to the target's own host only. */
export function tlsProfileFor(spec: NormalizedSpec, url: URL): TlsProfile {
  const { verify, servername } = spec.http.tls;
  const own = servername !== undefined && url.hostname === new URL(spec.target).hostname;
  return { verify, ...(own ? { servername } : {}) };
}

function clientFor(spec: NormalizedSpec, url: URL, a: HttpAttempt): Client {
  const profile = tlsProfileFor(spec, url);
  if (spec.http.reuseConnection) return a.env.httpPool.client(spec, url.origin, profile, a.context);
  const context = a.context;
  const client = new Client(url.origin, { ...UNDICI_TIMERS_OFF, connect: undiciConnector(profile, () => context) });
  a.clients.push(client);
  return client;
}
