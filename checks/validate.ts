// CheckSpec v1 validation (DESIGN.md §3): turns a `lookout.spec.put.<id>` payload into a
// CheckSpec or the first {code, message, path} error. Pure; never throws.
//
// Rule order (the first failing rule is the one reported):
//   decodeSpecPayload
//     1. subject id matches CHECK_ID_PATTERN            invalid_id    "id"
//     2. payload.byteLength <= maxBytes                  too_large     ""
//     3. no leading byte order mark (RFC 8259 §8.1)      invalid_json  ""
//     4. strict UTF-8, then JSON.parse                   invalid_json  ""
//     5. then validateSpec
//   validateSpec
//     1. subject id (again, for direct callers)          invalid_id    "id"
//     2. document is a plain object                      not_object    ""
//     3. unknown top-level fields, in the document's key order
//     4. id, kind, target, intervalMs, timeoutMs, timeoutMs < intervalMs, replicas, labels
//     5. http, then tcp: present for the other kind -> conflict; not an object -> not_object;
//        then inside the section: unknown fields, each field in declaration order
//        (HTTP_FIELDS / TCP_FIELDS), then the section's cross-field conflicts
//     6. policy: not_object; type (required/type/enum); fields of other types -> unknown_field;
//        then each field, with threshold and initial bounded by the effective window
//   Within every object the same pattern holds: unknown fields first, then the known fields in
//   the order listed below, then conflicts between them. Maps (labels, headers) and arrays
//   (expectStatus, json) are checked entry by entry in document order, after their size (every
//   list and map is capped: SPEC_LIMITS). Every string must be well-formed Unicode (no lone
//   surrogate: `format`), checked after its length. A regex RE2 cannot run is `unsupported`
//   (checks/regex.ts).
//
// Effective values for cross-field rules follow normalizeSpec: intervalMs defaults to
// SPEC_DEFAULTS.intervalMs, timeoutMs to min(SPEC_DEFAULTS.timeoutMs, interval - 1), method to GET.
import { isIP } from 'node:net';
import { parseJsonPath, JsonPathError } from './json-path';
import { regexProblem } from './regex';
import {
  CHECK_ID_PATTERN,
  HTTP_METHODS,
  SPEC_DEFAULTS,
  SPEC_LIMITS,
  type CheckKind,
  type CheckSpec,
  type ConsecutivePolicy,
  type HttpOptions,
  type JsonAssertion,
  type PolicySpec,
  type StatusMatcher,
  type TcpOptions,
  type TlsOptions,
  type WindowPolicy,
} from './spec';
import { SpecError, type SpecErrorBody, type SpecErrorCode } from './spec-error';
import { STATUS_CLASS_PATTERN } from './status-match';
import {
  HEADER_VALUE_BAD_CHAR,
  HTTP_TOKEN,
  array,
  at,
  bool,
  compact,
  entries,
  fail,
  hostnameProblem,
  httpTargetProblem,
  int,
  jsonValue,
  object,
  oneOf,
  onlyKnown,
  opt,
  own,
  required,
  show,
  str,
  tcpTargetProblem,
  type Obj,
} from './validate-fields';

export type SpecResult = { ok: true; spec: CheckSpec } | { ok: false; error: SpecErrorBody };

const TOP_FIELDS = ['id', 'kind', 'target', 'intervalMs', 'timeoutMs', 'replicas', 'labels', 'http', 'tcp', 'policy'] as const;
const HTTP_FIELDS = ['method', 'headers', 'body', 'expectStatus', 'bodyContains', 'bodyRegex', 'json', 'maxLatencyMs', 'tls', 'maxRedirects', 'maxBodyBytes', 'reuseConnection'] as const;
const TCP_FIELDS = ['tls', 'send', 'expect', 'maxLatencyMs', 'maxBodyBytes'] as const;
const TLS_FIELDS = ['verify', 'servername'] as const;
const JSON_ASSERTION_FIELDS = ['path', 'equals'] as const;
const WINDOW_FIELDS = ['type', 'window', 'threshold', 'initial'] as const;
const CONSECUTIVE_FIELDS = ['type', 'rise', 'fall', 'initial'] as const;
const KINDS: readonly CheckKind[] = ['http', 'tcp'];
const POLICY_TYPES = ['window', 'consecutive'] as const;

/** Headers the prober sets itself (or undici refuses); a spec may not set them. */
const MANAGED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect'];

// ignoreBOM keeps a BOM in the text rather than dropping it silently; the check below names it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const BOM = [0xef, 0xbb, 0xbf] as const;

/** Decode and validate the raw bytes of a `spec.put.<subjectId>` message. Never throws. */
export function decodeSpecPayload(payload: Uint8Array, subjectId: string, maxBytes: number): SpecResult {
  if (!isCheckId(subjectId)) return failure('invalid_id', 'id', subjectIdMessage(subjectId));
  if (payload.byteLength > maxBytes) {
    return failure('too_large', '', `the spec is ${payload.byteLength} bytes; at most ${maxBytes} bytes are accepted`);
  }
  if (BOM.every((b, i) => payload[i] === b)) {
    return failure('invalid_json', '', 'the payload starts with a byte order mark (EF BB BF); send JSON without one (RFC 8259 §8.1)');
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return failure('invalid_json', '', 'the payload is not valid UTF-8');
  }
  if (text.trim() === '') return failure('invalid_json', '', 'the payload is empty; expected a JSON object');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return failure('invalid_json', '', `the payload is not valid JSON: ${e instanceof Error ? e.message : 'parse error'}`);
  }
  return validateSpec(raw, subjectId);
}

/**
 * Validate a parsed spec for the check `subjectId`. On success `spec` is a fresh plain object
 * holding exactly the known fields of the input (nothing is defaulted: see normalizeSpec).
 * Never throws: a value that cannot even be inspected is reported as a `type` error.
 */
export function validateSpec(raw: unknown, subjectId: string): SpecResult {
  try {
    return { ok: true, spec: checkSpec(raw, subjectId) };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, error: e.toJSON() };
    return failure('type', '', 'the spec is not plain JSON data and could not be inspected');
  }
}

function failure(code: SpecErrorCode, path: string, message: string): SpecResult {
  return { ok: false, error: { code, message, path } };
}

function isCheckId(id: unknown): id is string {
  return typeof id === 'string' && CHECK_ID_PATTERN.test(id);
}

function subjectIdMessage(id: unknown): string {
  return `the check id in the subject must match ${CHECK_ID_PATTERN.source}, got ${show(id)}`;
}

// ---- top level -------------------------------------------------------------------------------

function checkSpec(raw: unknown, subjectId: string): CheckSpec {
  if (!isCheckId(subjectId)) fail('invalid_id', 'id', subjectIdMessage(subjectId));
  const o = object('', raw);
  onlyKnown('', o, TOP_FIELDS);

  const id = opt(o, '', 'id', (path, v) => {
    if (typeof v !== 'string') fail('type', path, `id must be a string, got ${show(v)}`);
    if (v !== subjectId) fail('id_mismatch', path, `the spec's id ${show(v)} differs from the id in the subject ${show(subjectId)}`);
    return v;
  });
  const kind = oneOf('kind', required('kind', own(o, 'kind')), KINDS);
  const target = checkTarget(kind, required('target', own(o, 'target')));
  const intervalMs = opt(o, '', 'intervalMs', (p, v) => int(p, v, SPEC_LIMITS.intervalMs.min, SPEC_LIMITS.intervalMs.max));
  const timeoutMs = opt(o, '', 'timeoutMs', (p, v) => int(p, v, SPEC_LIMITS.timeoutMs.min));
  const interval = intervalMs ?? SPEC_DEFAULTS.intervalMs;
  const timeout = timeoutMs ?? Math.min(SPEC_DEFAULTS.timeoutMs, interval - 1);
  if (timeout >= interval) {
    fail('conflict', 'timeoutMs', `timeoutMs (${timeout}) must be less than intervalMs (${interval}${intervalMs === undefined ? ', the default' : ''})`);
  }
  const replicas = opt(o, '', 'replicas', (p, v) => int(p, v, SPEC_LIMITS.replicas.min, SPEC_LIMITS.replicas.max));
  const labels = opt(o, '', 'labels', checkLabels);
  const http = section(o, 'http', kind, (p, v) => checkHttp(p, v, target, timeout));
  const tcp = section(o, 'tcp', kind, (p, v) => checkTcp(p, v, timeout));
  const policy = opt(o, '', 'policy', checkPolicy);
  return compact<CheckSpec>({ id, kind, target, intervalMs, timeoutMs, replicas, labels, http, tcp, policy });
}

function checkTarget(kind: CheckKind, v: unknown): string {
  const target = str('target', v, 1, SPEC_LIMITS.stringMaxLength);
  if (/[\x00-\x20\x7f]/.test(target)) fail('format', 'target', 'target must not contain spaces or control characters');
  const problem = kind === 'http' ? httpTargetProblem(target) : tcpTargetProblem(target);
  if (problem) fail('format', 'target', `target ${show(target)} is not a valid ${kind} target: ${problem}`);
  return target;
}

/** The `http` / `tcp` section: only allowed for its own kind. */
function section<T>(o: Obj, key: CheckKind, kind: CheckKind, check: (path: string, v: unknown) => T): T | undefined {
  return opt(o, '', key, (path, v) => {
    if (key !== kind) fail('conflict', path, `${key} options are only allowed for kind "${key}"; this check is kind "${kind}"`);
    return check(path, v);
  });
}

function checkLabels(path: string, v: unknown): Record<string, string> {
  const { keyPattern, valueMaxLength, max } = SPEC_LIMITS.labels;
  return Object.fromEntries(
    entries(path, v, max).map(([key, value]) => {
      const p = at(path, key);
      if (!keyPattern.test(key)) fail('format', p, `label name ${show(key)} must match ${keyPattern.source}`);
      return [key, str(p, value, 0, valueMaxLength)];
    }),
  );
}

// ---- shared by http and tcp ------------------------------------------------------------------

function checkTls(path: string, v: unknown): TlsOptions {
  const o = object(path, v);
  onlyKnown(path, o, TLS_FIELDS);
  const verify = opt(o, path, 'verify', bool);
  const servername = opt(o, path, 'servername', (p, x) => {
    const name = str(p, x, 1, SPEC_LIMITS.stringMaxLength);
    if (isIP(name)) fail('format', p, `${p} must be a DNS name, not an IP address (SNI carries names only)`);
    const problem = hostnameProblem(name);
    if (problem) fail('format', p, `${p}: ${problem}`);
    return name;
  });
  return compact({ verify, servername });
}

function maxBodyBytes(path: string, v: unknown): number {
  return int(path, v, 0, SPEC_LIMITS.maxBodyBytes.max);
}

function checkLatencyBound(path: string, maxLatencyMs: number | undefined, timeout: number): void {
  if (maxLatencyMs !== undefined && maxLatencyMs >= timeout) {
    fail('conflict', at(path, 'maxLatencyMs'), `${path}.maxLatencyMs (${maxLatencyMs}) must be less than timeoutMs (${timeout}); a slower probe already times out`);
  }
}

// ---- http ------------------------------------------------------------------------------------

function checkHttp(path: string, v: unknown, target: string, timeout: number): HttpOptions {
  const o = object(path, v);
  onlyKnown(path, o, HTTP_FIELDS);
  const h: HttpOptions = {
    method: opt(o, path, 'method', (p, x) => oneOf(p, x, HTTP_METHODS)),
    headers: opt(o, path, 'headers', checkHeaders),
    body: opt(o, path, 'body', (p, x) => str(p, x, 0, SPEC_LIMITS.bodyMaxLength)),
    expectStatus: opt(o, path, 'expectStatus', (p, x) => array(p, x, 1, SPEC_LIMITS.expectStatus.max).map((m, i) => statusMatcher(at(p, i), m))),
    bodyContains: opt(o, path, 'bodyContains', (p, x) => str(p, x, 1, SPEC_LIMITS.stringMaxLength)),
    bodyRegex: opt(o, path, 'bodyRegex', checkRegex),
    json: opt(o, path, 'json', (p, x) => array(p, x, 0, SPEC_LIMITS.jsonAssertions.max).map((a, i) => checkJsonAssertion(at(p, i), a))),
    maxLatencyMs: opt(o, path, 'maxLatencyMs', (p, x) => int(p, x, 1)),
    tls: opt(o, path, 'tls', checkTls),
    maxRedirects: opt(o, path, 'maxRedirects', (p, x) => int(p, x, 0, SPEC_LIMITS.maxRedirects.max)),
    maxBodyBytes: opt(o, path, 'maxBodyBytes', maxBodyBytes),
    reuseConnection: opt(o, path, 'reuseConnection', bool),
  };

  // Cross-field conflicts, in this order.
  const method = h.method ?? SPEC_DEFAULTS.method;
  if (h.body !== undefined && (method === 'GET' || method === 'HEAD')) {
    fail('conflict', at(path, 'body'), `a request body cannot be sent with ${method}${h.method === undefined ? ' (the default method)' : ''}; set http.method`);
  }
  const assertion = h.bodyContains !== undefined ? 'bodyContains' : h.bodyRegex !== undefined ? 'bodyRegex' : h.json?.length ? 'json' : undefined;
  if (assertion && method === 'HEAD') fail('conflict', at(path, assertion), `${path}.${assertion} needs a response body; HEAD responses have none`);
  if (assertion && h.maxBodyBytes === 0) {
    fail('conflict', at(path, 'maxBodyBytes'), `${path}.maxBodyBytes is 0 but ${path}.${assertion} needs the response body`);
  }
  checkLatencyBound(path, h.maxLatencyMs, timeout);
  if (h.tls !== undefined && target.toLowerCase().startsWith('http:')) {
    fail('conflict', at(path, 'tls'), `${path}.tls needs an https: target; ${show(target)} is plain http`);
  }
  return compact(h);
}

function checkHeaders(path: string, v: unknown): Record<string, string> {
  const seen = new Map<string, string>();
  return Object.fromEntries(
    entries(path, v, SPEC_LIMITS.headers.max).map(([name, value]) => {
      const p = at(path, name);
      if (!HTTP_TOKEN.test(name)) fail('format', p, `header name ${show(name)} is not a valid HTTP token (RFC 7230)`);
      const lower = name.toLowerCase();
      if (MANAGED_HEADERS.includes(lower)) fail('conflict', p, `the ${name} header is managed by the prober and cannot be set`);
      const first = seen.get(lower);
      if (first !== undefined) fail('conflict', p, `header ${show(name)} repeats ${show(first)}; header names are case-insensitive`);
      seen.set(lower, name);
      const text = str(p, value, 0, SPEC_LIMITS.headers.valueMaxLength);
      if (HEADER_VALUE_BAD_CHAR.test(text)) {
        fail('format', p, `header ${show(name)}: the value must not contain CR, LF, NUL or other control characters (or characters above U+00FF)`);
      }
      return [name, text];
    }),
  );
}

function statusMatcher(path: string, v: unknown): StatusMatcher {
  if (typeof v === 'number') return int(path, v, 100, 599);
  if (typeof v !== 'string') fail('type', path, `${path} must be a status code (number) or class ("2xx"), got ${show(v)}`);
  if (STATUS_CLASS_PATTERN.test(v)) return v as StatusMatcher;
  const hint = /^[0-9]{3}$/.test(v) ? `; write a status code as a number: ${v}` : '';
  fail('format', path, `${path} must be a status class 1xx..5xx or a status code, got ${show(v)}${hint}`);
}

/** RE2 syntax (checks/regex.ts): what RE2 lacks is `unsupported`, what parses nowhere is `format`. */
function checkRegex(path: string, v: unknown): string {
  const source = str(path, v, 0, SPEC_LIMITS.regexMaxLength);
  const problem = regexProblem(source, path);
  if (problem?.code === 'unsupported') fail('unsupported', path, problem.message);
  if (problem) fail('format', path, problem.message);
  return source;
}

function checkJsonAssertion(path: string, v: unknown): JsonAssertion {
  const o = object(path, v);
  onlyKnown(path, o, JSON_ASSERTION_FIELDS);
  const pathField = at(path, 'path');
  const jsonPath = str(pathField, required(pathField, own(o, 'path')), 0, SPEC_LIMITS.stringMaxLength);
  try {
    parseJsonPath(jsonPath);
  } catch (e) {
    const why = e instanceof JsonPathError ? `${e.message} (at offset ${e.offset})` : 'unparsable';
    fail('format', pathField, `${show(jsonPath)} is not a supported JSON path: ${why}`);
  }
  const equalsField = at(path, 'equals');
  const equals = jsonValue(equalsField, required(equalsField, own(o, 'equals')));
  return { path: jsonPath, equals };
}

// ---- tcp -------------------------------------------------------------------------------------

function checkTcp(path: string, v: unknown, timeout: number): TcpOptions {
  const o = object(path, v);
  onlyKnown(path, o, TCP_FIELDS);
  const t: TcpOptions = {
    tls: opt(o, path, 'tls', checkTls),
    send: opt(o, path, 'send', (p, x) => str(p, x, 0, SPEC_LIMITS.bodyMaxLength)),
    expect: opt(o, path, 'expect', (p, x) => str(p, x, 1, SPEC_LIMITS.stringMaxLength)),
    maxLatencyMs: opt(o, path, 'maxLatencyMs', (p, x) => int(p, x, 1)),
    maxBodyBytes: opt(o, path, 'maxBodyBytes', maxBodyBytes),
  };
  if (t.expect !== undefined && t.maxBodyBytes === 0) {
    fail('conflict', at(path, 'maxBodyBytes'), `${path}.maxBodyBytes is 0 but ${path}.expect needs bytes from the peer`);
  }
  checkLatencyBound(path, t.maxLatencyMs, timeout);
  return compact(t);
}

// ---- policy ----------------------------------------------------------------------------------

function checkPolicy(path: string, v: unknown): PolicySpec {
  const o = object(path, v);
  const typePath = at(path, 'type');
  const type = oneOf(typePath, required(typePath, own(o, 'type')), POLICY_TYPES);
  return type === 'window' ? windowPolicy(path, o) : consecutivePolicy(path, o);
}

function otherPolicyHint(type: string, others: readonly string[]) {
  return (key: string) => (others.includes(key) ? `${key} belongs to the ${type} policy` : undefined);
}

function windowPolicy(path: string, o: Obj): WindowPolicy {
  onlyKnown(path, o, WINDOW_FIELDS, otherPolicyHint('consecutive', CONSECUTIVE_FIELDS));
  const window = opt(o, path, 'window', (p, x) => int(p, x, SPEC_LIMITS.window.min, SPEC_LIMITS.window.max));
  const size = window ?? SPEC_DEFAULTS.window;
  const upToWindow = (min: number) => (p: string, x: unknown) => {
    const n = int(p, x, min, SPEC_LIMITS.window.max);
    if (n > size) fail('range', p, `${p} must not exceed the window (${size}${window === undefined ? ', the default' : ''}), got ${n}`);
    return n;
  };
  const threshold = opt(o, path, 'threshold', upToWindow(1));
  const initial = opt(o, path, 'initial', upToWindow(0));
  return compact<WindowPolicy>({ type: 'window', window, threshold, initial });
}

function consecutivePolicy(path: string, o: Obj): ConsecutivePolicy {
  onlyKnown(path, o, CONSECUTIVE_FIELDS, otherPolicyHint('window', WINDOW_FIELDS));
  const rise = opt(o, path, 'rise', (p, x) => int(p, x, SPEC_LIMITS.rise.min, SPEC_LIMITS.rise.max));
  const fall = opt(o, path, 'fall', (p, x) => int(p, x, SPEC_LIMITS.fall.min, SPEC_LIMITS.fall.max));
  const initial = opt(o, path, 'initial', (p, x) => oneOf(p, x, ['up', 'down'] as const));
  return compact<ConsecutivePolicy>({ type: 'consecutive', rise, fall, initial });
}
