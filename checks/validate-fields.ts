// Field-level checks for spec validation (used by validate.ts).
//
// Every helper takes the field's path ("http.expectStatus[1]", "" for the whole document) and
// the raw value, and either returns the value with its proper type or throws a SpecError whose
// code says what kind of rule failed. validate.ts catches the first one and turns it into the
// {code, message, path} body. Internal to checks/: callers use validate.ts.
//
// Every error is raised by `fail` with a literal code as its first argument: the unit test
// reads the codes from this file and validate.ts to prove each one is covered by a fixture.
import { isIP } from 'node:net';
import { SPEC_LIMITS } from './spec';
import { SpecError, type SpecErrorCode } from './spec-error';

export type Obj = Record<string, unknown>;

export function fail(code: SpecErrorCode, path: string, message: string): never {
  throw new SpecError(code, message, path);
}

/** The path of a member (`a.b`) or element (`a[0]`) of the value at `path`. */
export function at(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** How a path is named in messages. */
function label(path: string): string {
  return path === '' ? 'the spec' : path;
}

/** A short name of a value's type for messages: "null", "array", "string", "NaN", ... */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return typeof v;
}

/** A value for messages, cut short so a hostile value cannot blow up the error. */
export function show(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'number' || typeof v === 'bigint' ? String(v) : (JSON.stringify(v) ?? typeName(v));
  } catch {
    s = typeName(v);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Plain objects only: `{}` literals and JSON.parse output, not arrays, dates, maps or class instances. */
export function isPlainObject(v: unknown): v is Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** The own member `key` of `obj` (never an inherited one); `undefined` when absent. */
export function own(obj: Obj, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

// ---- structure -------------------------------------------------------------------------------

export function object(path: string, v: unknown): Obj {
  if (!isPlainObject(v)) fail('not_object', path, `${label(path)} must be a JSON object, got ${typeName(v)}`);
  return v;
}

/**
 * Reject members not in `known`, in the object's own key order. `hint` may explain a near miss
 * (a field of the other policy type, say).
 */
export function onlyKnown(path: string, obj: Obj, known: readonly string[], hint?: (key: string) => string | undefined): void {
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const why = hint?.(key) ?? `allowed fields${path ? ` in ${path}` : ''}: ${known.join(', ')}`;
    fail('unknown_field', at(path, key), `unknown field ${show(key)} (${why})`);
  }
}

export function required(path: string, v: unknown): unknown {
  if (v === undefined) fail('required', path, `${label(path)} is required`);
  return v;
}

export function array(path: string, v: unknown, min: number, max = Infinity): unknown[] {
  if (!Array.isArray(v)) fail('type', path, `${label(path)} must be an array, got ${typeName(v)}`);
  if (v.length < min) fail('range', path, min === 1 ? `${label(path)} must not be empty` : `${label(path)} must have at least ${min} elements`);
  if (v.length > max) fail('range', path, `${label(path)} must have at most ${max} elements, got ${v.length}`);
  return Array.from(v); // holes in a sparse array become undefined and fail their element check
}

/** The members of an object used as a map (labels, headers), at most `max` of them. */
export function entries(path: string, v: unknown, max: number): [string, unknown][] {
  const obj = object(path, v);
  const keys = Object.keys(obj);
  if (keys.length > max) fail('range', path, `${label(path)} may have at most ${max} entries, got ${keys.length}`);
  return keys.map((k) => [k, obj[k]]);
}

// ---- scalars ---------------------------------------------------------------------------------

/** A finite JSON number that is an integer in [min, max]. Non-integers are `type` errors. */
export function int(path: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) fail('type', path, `${label(path)} must be a number, got ${typeName(v)}`);
  if (!Number.isInteger(v)) fail('type', path, `${label(path)} must be an integer, got ${v}`);
  if (v < min || v > max) {
    const allowed = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    fail('range', path, `${label(path)} must be ${allowed}, got ${v}`);
  }
  return v + 0; // -0 becomes 0, as it would through JSON
}

export function bool(path: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail('type', path, `${label(path)} must be true or false, got ${typeName(v)}`);
  return v;
}

/** A well-formed string of `min`..`max` UTF-16 code units. */
export function str(path: string, v: unknown, min: number, max: number): string {
  if (typeof v !== 'string') fail('type', path, `${label(path)} must be a string, got ${typeName(v)}`);
  if (v.length < min) fail('range', path, min === 1 ? `${label(path)} must not be empty` : `${label(path)} must have at least ${min} characters`);
  if (v.length > max) fail('range', path, `${label(path)} must be at most ${max} characters long, got ${v.length}`);
  wellFormed(path, v);
  return v;
}

const SURROGATE = /[\uD800-\uDFFF]/;

/**
 * The index of the first lone surrogate in `s` (a high surrogate not followed by a low one, or a
 * low one not preceded by a high one), or -1. JSON's "\uD800" escapes can carry them; they are
 * not Unicode text, cannot be encoded as UTF-8, and other clients' JSON parsers refuse them.
 */
function loneSurrogateAt(s: string): number {
  if (!SURROGATE.test(s)) return -1;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = s.charCodeAt(i + 1);
    if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) i++;
    else return i;
  }
  return -1;
}

function wellFormed(path: string, s: string, what = label(path)): void {
  const at = loneSurrogateAt(s);
  if (at < 0) return;
  const unit = s.charCodeAt(at).toString(16).toUpperCase();
  fail('format', path, `${what} contains a lone surrogate (U+${unit} at index ${at}); strings must be well-formed Unicode`);
}

export function oneOf<T extends string>(path: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string') fail('type', path, `${label(path)} must be a string, got ${typeName(v)}`);
  if (!(allowed as readonly string[]).includes(v)) fail('enum', path, `${label(path)} must be one of ${allowed.join(', ')}, got ${show(v)}`);
  return v as T;
}

/**
 * A copy of a JSON value (null, boolean, finite number, well-formed string, array, plain object),
 * at most SPEC_LIMITS.jsonEquals.maxDepth containers deep, each with at most `maxMembers` members.
 * Members are defined, not assigned, so a "__proto__" key stays data.
 */
export function jsonValue(path: string, v: unknown, depth = 0): unknown {
  const { maxDepth, maxMembers } = SPEC_LIMITS.jsonEquals;
  if (typeof v === 'string') {
    wellFormed(path, v);
    return v;
  }
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) fail('type', path, `${label(path)} must be a finite number, got ${v}`);
    return v + 0; // -0 becomes 0, as it would through JSON
  }
  const container = Array.isArray(v) || isPlainObject(v);
  if (!container) fail('type', path, `${label(path)} must be a JSON value, got ${typeName(v)}`);
  if (depth >= maxDepth) fail('range', path, `${label(path)} is nested more than ${maxDepth} levels deep`);
  if (Array.isArray(v)) {
    if (v.length > maxMembers) fail('range', path, `${label(path)} must have at most ${maxMembers} elements, got ${v.length}`);
    return Array.from({ length: v.length }, (_, i) => jsonValue(at(path, i), v[i], depth + 1));
  }
  const keys = Object.keys(v);
  if (keys.length > maxMembers) fail('range', path, `${label(path)} may have at most ${maxMembers} members, got ${keys.length}`);
  for (const k of keys) wellFormed(path, k, `a member name in ${label(path)}`);
  return Object.fromEntries(keys.map((k) => [k, jsonValue(at(path, k), v[k], depth + 1)]));
}

// ---- network names ---------------------------------------------------------------------------

const DNS_LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** Why `host` is not a DNS name or dotted IPv4 address; undefined when it is one. */
export function hostnameProblem(host: string): string | undefined {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length === 0) return 'the host is empty';
  if (name.length > 253) return 'the host name is longer than 253 characters';
  if (/^[0-9.]+$/.test(name)) return isIP(name) === 4 ? undefined : `${show(host)} is not a valid IPv4 address`;
  const bad = name.split('.').find((l) => !DNS_LABEL.test(l));
  return bad === undefined ? undefined : `${show(host)} is not a valid host name (bad label ${show(bad)})`;
}

/** Why `t` is not an http(s) URL the prober can use; undefined when it is one. */
export function httpTargetProblem(t: string): string | undefined {
  let url: URL;
  try {
    url = new URL(t);
  } catch {
    return 'it does not parse as an absolute URL such as https://example.com/health';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the protocol must be http: or https:, got ${url.protocol}`;
  if (url.hostname === '') return 'the URL has no host';
  if (url.username !== '' || url.password !== '') {
    return 'the URL must not contain credentials (user:pass@); send an Authorization header in http.headers instead';
  }
  if (url.port === '0') return 'the port must be between 1 and 65535';
  return undefined;
}

/** Why `t` is not `host:port` or `[ipv6]:port`; undefined when it is. */
export function tcpTargetProblem(t: string): string | undefined {
  if (t.includes('://')) return 'a tcp target is host:port, not a URL';
  let port: string;
  if (t.startsWith('[')) {
    const end = t.indexOf(']');
    if (end < 0) return 'a "[" without the closing "]"';
    const host = t.slice(1, end);
    if (isIP(host) !== 6) return `${show(host)} is not an IPv6 address`;
    if (t[end + 1] !== ':') return 'expected :port after the bracketed IPv6 address';
    port = t.slice(end + 2);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon < 0) return 'expected host:port, e.g. db.internal:5432';
    const host = t.slice(0, colon);
    if (host.includes(':')) return 'an IPv6 address must be in brackets, e.g. [2001:db8::1]:443';
    const problem = hostnameProblem(host);
    if (problem) return problem;
    port = t.slice(colon + 1);
  }
  if (!/^[0-9]{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
    return `the port must be a number between 1 and 65535, got ${show(port)}`;
  }
  return undefined;
}
