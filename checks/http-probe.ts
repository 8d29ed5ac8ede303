// One HTTP(S) probe: request → (redirects) → status / body / JSON assertions → latency bound.
//
// Every probe opens a fresh connection (a health check must test connect) on its own undici
// Client, destroyed at the end. With `reuseConnection` the node's HttpClientPool (its ProbeEnv's,
// checks/http-pool.ts) keeps a Client per (check, origin, TLS profile) instead. The whole probe
// runs within one Deadline (checks/probe-envelope.ts). Redirects are followed here, hop by hop,
// by the rules of checks/http-redirect.ts, each on a Client whose connector applies the address
// policy; with `cookies`, the hops share the probe's own jar (checks/cookie-jar.ts); the body
// assertions are checks/http-body.ts.
import { isIP } from 'node:net';
import { Client, type Dispatcher } from 'undici';
import { undiciConnector, type ConnectContext, type ProbeTimings, type TlsProfile } from './connector';
import { CookieJar, requestHost, withJarCookies } from './cookie-jar';
import type { Deadline } from './deadline';
import type { Failure } from './failures';
import { checkBody, drainCapped, readCapped, type BodyContext, type BodyRead } from './http-body';
import { httpFailure, statusFailure, versionFailure } from './http-failures';
import { checkHeaders, headerRegexes } from './http-headers-check';
import { endsChunked } from './http-lean-parse';
import { UNDICI_TIMERS_OFF } from './http-pool';
import { firstHop, followRedirect, redirectLocation, type Hop } from './http-redirect';
import { FailureReason, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { runWithinDeadline } from './probe-envelope';
import type { NormalizedSpec } from './spec';
import type { StopSignal } from './probe-stop';

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
  /** Whether the hop in flight has its final head and its body is being read. */
  inBody: boolean;
  status?: number;
  redirects: number;
  body?: BodyRead;
  /** Fresh (unpooled) clients to destroy when the probe ends. */
  clients: Client[];
  env: ProbeEnv;
}

/** `env`: the address policy, resolver, result detail, connection pool and body worker (a node passes its own). */
export function probeHttp(spec: NormalizedSpec, signal?: StopSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  const http = spec.http;
  return runWithinDeadline({ timeoutMs: spec.timeoutMs, maxLatencyMs: http.maxLatencyMs, minDaysLeft: http.tls.minDaysLeft }, signal, {
    begin: (deadline) => {
      if (http.bodyRegex !== undefined || http.bodyNotRegex !== undefined || http.json.length > 0 || headerRegexes(http.expectHeaders)) {
        env.bodyWorker.warm(); // loads while the request is out
      }
      const timings = {};
      const context: ConnectContext = { timings, signal: deadline.signal, policy: env.policy, lookup: env.lookup };
      const attempt: HttpAttempt = { timings, context, endpoint: spec.target, inBody: false, redirects: 0, clients: [], checkId: spec.id, signal: deadline.signal, wait: { ms: 0 }, env };
      return attempt;
    },
    exchange: (deadline, a) => exchange(spec, deadline, a),
    classify: (err, a) => httpFailure(err, a.endpoint, a.inBody, a.env.detail),
    teardown: (a) =>
      withoutStacks(() => {
        for (const client of a.clients) client.destroy().catch(noop);
      }),
    extra: (a) => ({
      ...(a.status !== undefined ? { httpStatus: a.status } : {}),
      ...(a.body ? { bodyBytes: a.body.bytes.length, truncated: a.body.truncated } : {}),
      ...(http.maxRedirects > 0 ? { redirects: a.redirects } : {}),
      ...(a.context.cert ? { cert: a.context.cert } : {}),
      ...(a.wait.ms > 0 ? { waitedMs: a.wait.ms } : {}),
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
  // A new, empty jar for this probe only: nothing carried from the last probe or another check.
  const jar = http.cookies ? new CookieJar() : undefined;
  for (;;) {
    deadline.signal.throwIfAborted();
    const url = hop.url;
    a.endpoint = `${url.hostname}:${url.port || (url.protocol === 'https:' ? 443 : 80)}`;
    a.inBody = false;
    const headers = withUserAgent(hop.headers, a.env.userAgent);
    const res = await clientFor(spec, url, a).request({
      path: url.pathname + url.search,
      method: hop.method as Dispatcher.HttpMethod,
      headers: jar ? withJarCookies(headers, jar, url) : headers,
      ...(hop.body !== undefined ? { body: hop.body } : {}),
      signal: deadline.signal,
    });
    // The body emits 'error' when destroyed (by us, or by the abort); iterators still see it.
    res.body.on('error', noop);
    a.status = res.statusCode;
    // From the probe's start to the latest response headers (the final answer's, after redirects).
    a.timings.firstByte = deadline.elapsed();
    const location = redirectLocation(res.statusCode, res.headers.location, http.maxRedirects);
    if (location === undefined) return judge(http, res, a, hop);

    withoutStacks(() => res.body.destroy());
    // The redirect's cookies, for the hops after it (values are never quoted in a result).
    jar?.receive(url, res.headers['set-cookie'], res.headers.date, requestHost(hop.headers, url));
    const step = followRedirect(hop, res.statusCode, location, a.redirects, http.maxRedirects, a.env.detail);
    if ('failure' in step) return step.failure;
    hop = step.next;
    a.redirects++;
  }
}

/**
 * Check status, then read the body: for the assertions (at most maxBodyBytes kept), or without
 * them to its declared end (counted, not kept; README "Truncated responses"), as the lean path does.
 */
async function judge(http: HttpSpec, res: Response, a: HttpAttempt, hop: Hop): Promise<Failure | null> {
  const headFailure =
    statusFailure(http, res.statusCode) ?? versionFailure(http, a.context.httpVersion) ?? notOverTls(http, hop.url) ?? (await checkHeaders(http.expectHeaders, res.headers, a));
  if (headFailure) {
    withoutStacks(() => res.body.destroy());
    return headFailure;
  }
  a.inBody = true;
  const method = hop.method;
  const assertsBody =
    http.bodyContains !== undefined || http.bodyRegex !== undefined || http.bodyNotContains !== undefined || http.bodyNotRegex !== undefined || http.json.length > 0;
  if (!assertsBody) {
    // A body that ends only at the close cannot be cut short; one with a declared end is read to
    // it (which also keeps a pooled connection usable), or until more than maxBodyBytes came.
    if (http.maxBodyBytes > 0 && hasBody(res, method) && declaresEnd(res.headers)) await drainCapped(res.body, http.maxBodyBytes);
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

/** `requireTls` (blackbox fail_if_not_ssl): the final response must have come over TLS. */
function notOverTls(http: HttpSpec, url: URL): Failure | null {
  if (!http.requireTls || url.protocol === 'https:') return null;
  return { reason: FailureReason.tls, message: `the final response came over plain http (${url.origin}); requireTls is set` };
}

/** Whether an answer has a body at all (RFC 9110 §6.4.1): not to HEAD, not with 204 or 304. */
function hasBody(res: Response, method: string): boolean {
  return method !== 'HEAD' && res.statusCode !== 204 && res.statusCode !== 304;
}

/** Whether the body's end is declared: a Content-Length, or chunked as the last transfer coding. */
function declaresEnd(headers: Response['headers']): boolean {
  const te = headers['transfer-encoding'];
  if (te !== undefined) return endsChunked(String(te));
  return headers['content-length'] !== undefined;
}

/**
 * The TLS profile for a hop: the servername (`tls.servername`, else the name of `http.host`)
 * applies to the target's own host only; `ca` to every hop.
 */
export function tlsProfileFor(spec: NormalizedSpec, url: URL): TlsProfile {
  const { verify, servername = sniOf(spec.http.host), ca } = spec.http.tls;
  const own = servername !== undefined && url.hostname === new URL(spec.target).hostname;
  return { verify, ...(own ? { servername } : {}), ...(ca !== undefined ? { ca } : {}) };
}

/** The servername a Host header value implies: its name without the port; none for an address (SNI carries names only). */
export function sniOf(host: string | undefined): string | undefined {
  if (host === undefined || host.startsWith('[')) return undefined;
  const name = host.replace(/:\d+$/, '');
  return isIP(name) ? undefined : name;
}

function clientFor(spec: NormalizedSpec, url: URL, a: HttpAttempt): Client {
  const profile = tlsProfileFor(spec, url);
  if (spec.http.reuseConnection) return a.env.httpPool.client(spec, url.origin, profile, a.context);
  const context = a.context;
  const client = new Client(url.origin, { ...UNDICI_TIMERS_OFF, connect: undiciConnector(profile, () => context) });
  a.clients.push(client);
  return client;
}
