// The `http` section of a CheckSpec and the `tls` options it shares with `tcp` (checks/validate-tcp.ts): per-field checks and the
// cross-field conflicts inside a section (used by validate.ts). Field lists, order and limits come
// from the schema (spec-schema.ts) through `fields`; what is written here is what a schema does
// not say, or not with a clear message: header, status, regex, JSON path and host name rules, and
// the conflicts between fields.
import { isIP } from 'node:net';
import { checkHeaderAssertion, checkJsonAssertion, checkRegex } from './validate-assertions';
import {
  HttpOptionsSchema,
  MANAGED_HEADERS,
  StatusMatcherSchema,
  TlsOptionsSchema,
  type HttpOptions,
  type StatusMatcher,
  type TlsOptions,
} from './spec-schema';
import { SPEC_DEFAULTS } from './spec-limits';
import { caProblem } from './tls-ca';
import { STATUS_CLASS_PATTERN } from './status-match';
import { at, entries, fail, hostnameProblem, object, show } from './validate-fields';
import { choice, fields, flag, integer, list, mapParts, patternOf, text } from './validate-table';

const HEADERS = mapParts(HttpOptionsSchema.properties.headers);
const HEADER_VALUE = patternOf(HEADERS.value);
const [STATUS_CODE] = StatusMatcherSchema.anyOf;

export function checkTls(path: string, v: unknown): TlsOptions {
  const t = fields(path, object(path, v), TlsOptionsSchema, {
    verify: flag,
    servername: (p, x, s) => {
      const name = text(p, x, s);
      if (isIP(name)) fail('format', p, `${p} must be a DNS name, not an IP address (SNI carries names only)`);
      const problem = hostnameProblem(name);
      if (problem) fail('format', p, `${p}: ${problem}`);
      return name;
    },
    ca: (p, x, s) => {
      const pem = text(p, x, s);
      const problem = caProblem(pem);
      if (problem) fail('format', p, `${p} ${problem}`);
      return pem;
    },
    minDaysLeft: integer,
    degradedDaysLeft: (p, x, s, before) => {
      const days = integer(p, x, s);
      if (before.minDaysLeft !== undefined && days <= before.minDaysLeft) {
        fail('conflict', p, `${p} (${days}) must be more than ${path}.minDaysLeft (${before.minDaysLeft}): a certificate that close to expiry already fails with reason cert_expiry`);
      }
      return days;
    },
  });
  if (t.ca !== undefined && t.verify === false) fail('conflict', at(path, 'ca'), `${path}.ca is used only to verify the peer, and ${path}.verify is false`);
  return t;
}

/** The effective timeoutMs of a spec, and where it came from when the spec left it out (`, from preset high`). */
export interface TimeoutBound {
  ms: number;
  note: string;
}

export function checkLatencyBound(path: string, maxLatencyMs: number | undefined, timeout: TimeoutBound): void {
  if (maxLatencyMs !== undefined && maxLatencyMs >= timeout.ms) {
    fail('conflict', at(path, 'maxLatencyMs'), `${path}.maxLatencyMs (${maxLatencyMs}) must be less than timeoutMs (${timeout.ms}${timeout.note}); a slower probe already times out`);
  }
}

// ---- http ------------------------------------------------------------------------------------

/** The assertions that need the response body, in the order a conflict names them. */
const BODY_ASSERTIONS = ['bodyContains', 'bodyRegex', 'bodyNotContains', 'bodyNotRegex', 'json'] as const;

/** The `http` section of a spec whose target is `target` and whose effective timeout is `timeout`. */
export function checkHttp(path: string, v: unknown, target: string, timeout: TimeoutBound): HttpOptions {
  const h = fields(path, object(path, v), HttpOptionsSchema, {
    method: choice,
    headers: checkHeaders,
    host: (p, x, s) => {
      const host = text(p, x, s);
      if (!patternOf(s).test(host)) fail('format', p, `${p} must be a host name or address with an optional port (name[:port]), as a Host header carries it`);
      return host;
    },
    body: text,
    expectStatus: (p, x, s) => list(p, x, s).map((m, i) => statusMatcher(at(p, i), m)),
    expectVersions: (p, x, s) => {
      const versions = list(p, x, s).map((v, i) => choice(at(p, i), v, s.items));
      const twice = versions.findIndex((v, i) => versions.indexOf(v) !== i);
      if (twice >= 0) fail('conflict', at(p, twice), `${show(versions[twice])} is listed twice in ${p}`);
      return versions;
    },
    bodyContains: text,
    bodyRegex: checkRegex,
    bodyNotContains: text,
    bodyNotRegex: checkRegex,
    json: (p, x, s) => list(p, x, s).map((a, i) => checkJsonAssertion(at(p, i), a)),
    expectHeaders: (p, x, s) => list(p, x, s).map((a, i) => checkHeaderAssertion(at(p, i), a)),
    maxLatencyMs: integer,
    tls: checkTls,
    requireTls: flag,
    maxRedirects: integer,
    cookies: flag,
    maxBodyBytes: integer,
    reuseConnection: flag,
  });

  // Cross-field conflicts, in this order.
  const method = h.method ?? SPEC_DEFAULTS.method;
  if (h.body !== undefined && (method === 'GET' || method === 'HEAD')) {
    fail('conflict', at(path, 'body'), `a request body cannot be sent with ${method}${h.method === undefined ? ' (the default method)' : ''}; set http.method`);
  }
  const assertion = BODY_ASSERTIONS.find((k) => (k === 'json' ? h.json?.length : h[k] !== undefined));
  if (assertion && method === 'HEAD') fail('conflict', at(path, assertion), `${path}.${assertion} needs a response body; HEAD responses have none`);
  if (assertion && h.maxBodyBytes === 0) {
    fail('conflict', at(path, 'maxBodyBytes'), `${path}.maxBodyBytes is 0 but ${path}.${assertion} needs the response body`);
  }
  checkLatencyBound(path, h.maxLatencyMs, timeout);
  const plain = target.toLowerCase().startsWith('http:');
  // On an http: target, tls applies to the https: hops a redirect leads to: it needs a redirect.
  if (h.tls !== undefined && plain && !h.maxRedirects) {
    fail('conflict', at(path, 'tls'), `${path}.tls needs an https: target, or a redirect to follow to one; ${show(target)} is plain http and maxRedirects is 0`);
  }
  if (h.requireTls && plain && !h.maxRedirects) {
    fail('conflict', at(path, 'requireTls'), `${path}.requireTls can never pass: ${show(target)} is plain http and no redirect is followed (set maxRedirects to follow one to https:)`);
  }
  if (h.cookies && !h.maxRedirects) {
    fail('conflict', at(path, 'cookies'), `${path}.cookies keeps cookies from one redirect hop to the next, and ${path}.maxRedirects is 0: no redirect is followed (set maxRedirects to at least 1)`);
  }
  return h;
}

function checkHeaders(path: string, v: unknown): Record<string, string> {
  const seen = new Map<string, string>();
  return Object.fromEntries(
    entries(path, v, HEADERS.max).map(([name, value]) => {
      const p = at(path, name);
      if (!HEADERS.key.test(name)) fail('format', p, `header name ${show(name)} is not a valid HTTP token (RFC 7230)`);
      const lower = name.toLowerCase();
      if ((MANAGED_HEADERS as readonly string[]).includes(lower)) {
        fail('conflict', p, `the ${name} header is managed by the prober and cannot be set${lower === 'host' ? ' here; to probe a virtual host, set http.host' : ''}`);
      }
      const first = seen.get(lower);
      if (first !== undefined) fail('conflict', p, `header ${show(name)} repeats ${show(first)}; header names are case-insensitive`);
      seen.set(lower, name);
      const headerValue = text(p, value, HEADERS.value);
      if (!HEADER_VALUE.test(headerValue)) {
        fail('format', p, `header ${show(name)}: the value must not contain CR, LF, NUL or other control characters (or characters above U+00FF)`);
      }
      return [name, headerValue];
    }),
  );
}

function statusMatcher(path: string, v: unknown): StatusMatcher {
  if (typeof v === 'number') return integer(path, v, STATUS_CODE);
  if (typeof v !== 'string') fail('type', path, `${path} must be a status code (number) or class ("2xx"), got ${show(v)}`);
  if (STATUS_CLASS_PATTERN.test(v)) return v as StatusMatcher;
  const hint = /^[0-9]{3}$/.test(v) ? `; write a status code as a number: ${v}` : '';
  fail('format', path, `${path} must be a status class 1xx..5xx or a status code, got ${show(v)}${hint}`);
}
