// CheckSpec v1: the document users publish on `lookout.spec.put.<id>` (DESIGN.md §3).
//
// Specs are stored exactly as the user sent them (after validation); `normalizeSpec` fills
// the documented defaults so the runtime never deals with optional fields.

export const CHECK_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

export const CheckKind = { http: 'http', tcp: 'tcp' } as const;
export type CheckKind = (typeof CheckKind)[keyof typeof CheckKind];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** An expected status: an exact code (100..599) or a class such as "2xx". */
export type StatusMatcher = number | `${1 | 2 | 3 | 4 | 5}xx`;

export interface TlsOptions {
  /** Verify the peer certificate chain and host name. Default true. */
  verify?: boolean;
  /** SNI and certificate host name to check; default: the target's host name. */
  servername?: string;
}

export interface JsonAssertion {
  /** A path such as `$.status`, `$.checks[0].ok` or `$["dotted.key"]`. */
  path: string;
  /** The value the path must hold (deep equality on JSON values). */
  equals: unknown;
}

export interface HttpOptions {
  method?: HttpMethod;
  headers?: Record<string, string>;
  body?: string;
  expectStatus?: StatusMatcher[];
  bodyContains?: string;
  bodyRegex?: string;
  json?: JsonAssertion[];
  maxLatencyMs?: number;
  tls?: TlsOptions;
  /** Redirects to follow; 0 (default) means a 3xx is the answer. */
  maxRedirects?: number;
  /** Response bytes kept for assertions; the rest is cut, never buffered. */
  maxBodyBytes?: number;
  /** Keep a connection open between probes (default false: every probe tests connect). */
  reuseConnection?: boolean;
}

export interface TcpOptions {
  tls?: TlsOptions;
  /** Bytes (UTF-8) written after connect. */
  send?: string;
  /** A substring the peer must send back before the deadline. */
  expect?: string;
  maxLatencyMs?: number;
  /** Bytes read while waiting for `expect`. */
  maxBodyBytes?: number;
}

export interface WindowPolicy {
  type: 'window';
  /** How many recent probes are considered (Varnish `.window`). */
  window?: number;
  /** Healthy when at least this many of them passed (Varnish `.threshold`). */
  threshold?: number;
  /** Passes pre-filled at start (Varnish `.initial`); default threshold - 1. */
  initial?: number;
}

export interface ConsecutivePolicy {
  type: 'consecutive';
  /** Consecutive passes that turn a down check up (HAProxy `rise`). */
  rise?: number;
  /** Consecutive failures that turn an up check down (HAProxy `fall`). */
  fall?: number;
  /** Verdict before the first probe. Default "down". */
  initial?: 'up' | 'down';
}

export type PolicySpec = WindowPolicy | ConsecutivePolicy;

export interface CheckSpec {
  id?: string;
  kind: CheckKind;
  /** URL (http, https) for kind http; `host:port` for kind tcp. */
  target: string;
  intervalMs?: number;
  timeoutMs?: number;
  /** Vantage points: how many distinct nodes probe this check each interval. */
  replicas?: number;
  labels?: Record<string, string>;
  http?: HttpOptions;
  tcp?: TcpOptions;
  policy?: PolicySpec;
}

/** Named, documented defaults for optional spec fields. */
export const SPEC_DEFAULTS = {
  intervalMs: 5_000, // Varnish default interval
  timeoutMs: 2_000, // Varnish default timeout
  replicas: 1,
  method: 'GET' as HttpMethod,
  expectStatus: ['2xx'] as StatusMatcher[],
  maxRedirects: 0,
  maxBodyBytes: 64 * 1024,
  tlsVerify: true,
  window: 8, // Varnish defaults: window 8, threshold 3, initial threshold - 1
  threshold: 3,
  rise: 2, // HAProxy defaults: rise 2, fall 3
  fall: 3,
} as const;

/** Limits enforced by validation. */
export const SPEC_LIMITS = {
  intervalMs: { min: 1_000, max: 3_600_000 },
  timeoutMs: { min: 1 },
  replicas: { min: 1, max: 5 },
  window: { min: 1, max: 64 },
  rise: { min: 1, max: 64 },
  fall: { min: 1, max: 64 },
  maxRedirects: { max: 10 },
  // Every byte kept is decoded, searched and maybe JSON-parsed on the event loop: at 16 MiB one
  // JSON check stalled every other check for 0.2-1.1 s per probe; at 1 MiB a typical body costs
  // ~5 ms (BENCHMARKS.md §6). 1 MiB still holds any health document and most /metrics pages.
  maxBodyBytes: { max: 1024 * 1024 },
  labels: { max: 32, keyPattern: /^[A-Za-z0-9_.-]{1,64}$/, valueMaxLength: 256 },
  headers: { max: 64, valueMaxLength: 8192 },
  // Every list and map a spec can hold is capped: each entry is work on every probe.
  expectStatus: { max: 32 },
  bodyMaxLength: 64 * 1024,
  regexMaxLength: 1024,
  stringMaxLength: 4096,
  jsonAssertions: { max: 16 },
  /** A json assertion's `equals`: containers nested at most `maxDepth` deep, each with at most `maxMembers`. */
  jsonEquals: { maxDepth: 32, maxMembers: 256 },
} as const;

export interface NormalizedPolicy {
  type: 'window' | 'consecutive';
  window: number;
  threshold: number;
  initial: number;
  rise: number;
  fall: number;
  initialUp: boolean;
}

/** A validated spec with every default filled: what a runner executes. */
export interface NormalizedSpec {
  id: string;
  kind: CheckKind;
  target: string;
  intervalMs: number;
  timeoutMs: number;
  replicas: number;
  labels: Record<string, string>;
  http: Required<Omit<HttpOptions, 'body' | 'bodyContains' | 'bodyRegex' | 'maxLatencyMs' | 'tls'>> & {
    body?: string;
    bodyContains?: string;
    bodyRegex?: string;
    maxLatencyMs?: number;
    tls: Required<Pick<TlsOptions, 'verify'>> & { servername?: string };
  };
  tcp: {
    tls?: Required<Pick<TlsOptions, 'verify'>> & { servername?: string };
    send?: string;
    expect?: string;
    maxLatencyMs?: number;
    maxBodyBytes: number;
  };
  policy: NormalizedPolicy;
}

// Normalized specs are held for every check a node knows (100k of them at scale), so the parts
// most specs leave at their defaults are shared, frozen objects rather than fresh copies.
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_JSON: JsonAssertion[] = Object.freeze([]) as unknown as JsonAssertion[];
const DEFAULT_TLS = Object.freeze({ verify: SPEC_DEFAULTS.tlsVerify });
let defaultPolicy: NormalizedPolicy | null = null;

export function normalizePolicy(p: PolicySpec | undefined): NormalizedPolicy {
  if (p === undefined) return (defaultPolicy ??= Object.freeze(computePolicy(undefined)) as NormalizedPolicy);
  return computePolicy(p);
}

function computePolicy(p: PolicySpec | undefined): NormalizedPolicy {
  if (p?.type === 'consecutive') {
    const rise = p.rise ?? SPEC_DEFAULTS.rise;
    const fall = p.fall ?? SPEC_DEFAULTS.fall;
    return { type: 'consecutive', window: Math.max(rise, fall), threshold: rise, initial: 0, rise, fall, initialUp: p.initial === 'up' };
  }
  const window = p?.window ?? SPEC_DEFAULTS.window;
  const threshold = p?.threshold ?? Math.min(SPEC_DEFAULTS.threshold, window);
  const initial = p?.initial ?? threshold - 1;
  return { type: 'window', window, threshold, initial, rise: 0, fall: 0, initialUp: initial >= threshold };
}

function normalizeTls(t: TlsOptions | undefined) {
  if (!t || (t.verify === undefined && !t.servername)) return DEFAULT_TLS;
  return { verify: t.verify ?? SPEC_DEFAULTS.tlsVerify, ...(t.servername ? { servername: t.servername } : {}) };
}

/** Fill defaults. The input must already have passed `validateSpec`. */
export function normalizeSpec(id: string, s: CheckSpec): NormalizedSpec {
  return {
    id,
    kind: s.kind,
    target: s.target,
    intervalMs: s.intervalMs ?? SPEC_DEFAULTS.intervalMs,
    timeoutMs: s.timeoutMs ?? Math.min(SPEC_DEFAULTS.timeoutMs, (s.intervalMs ?? SPEC_DEFAULTS.intervalMs) - 1),
    replicas: s.replicas ?? SPEC_DEFAULTS.replicas,
    labels: s.labels ?? NO_LABELS,
    // The options of the other kind are never read: one frozen default object serves every spec.
    http: s.kind === 'http' ? normalizeHttp(s.http ?? {}) : (UNUSED_HTTP ??= Object.freeze(normalizeHttp({}))),
    tcp: s.kind === 'tcp' ? normalizeTcp(s.tcp ?? {}) : (UNUSED_TCP ??= Object.freeze(normalizeTcp({}))),
    policy: normalizePolicy(s.policy),
  };
}

let UNUSED_HTTP: NormalizedSpec['http'] | null = null;
let UNUSED_TCP: NormalizedSpec['tcp'] | null = null;

function normalizeHttp(h: HttpOptions): NormalizedSpec['http'] {
  return {
    method: h.method ?? SPEC_DEFAULTS.method,
    headers: h.headers ?? NO_HEADERS,
    ...(h.body !== undefined ? { body: h.body } : {}),
    expectStatus: h.expectStatus ?? SPEC_DEFAULTS.expectStatus,
    ...(h.bodyContains !== undefined ? { bodyContains: h.bodyContains } : {}),
    ...(h.bodyRegex !== undefined ? { bodyRegex: h.bodyRegex } : {}),
    json: h.json ?? NO_JSON,
    ...(h.maxLatencyMs !== undefined ? { maxLatencyMs: h.maxLatencyMs } : {}),
    tls: normalizeTls(h.tls),
    maxRedirects: h.maxRedirects ?? SPEC_DEFAULTS.maxRedirects,
    maxBodyBytes: h.maxBodyBytes ?? SPEC_DEFAULTS.maxBodyBytes,
    reuseConnection: h.reuseConnection ?? false,
  };
}

function normalizeTcp(t: TcpOptions): NormalizedSpec['tcp'] {
  return {
    ...(t.tls ? { tls: normalizeTls(t.tls) } : {}),
    ...(t.send !== undefined ? { send: t.send } : {}),
    ...(t.expect !== undefined ? { expect: t.expect } : {}),
    ...(t.maxLatencyMs !== undefined ? { maxLatencyMs: t.maxLatencyMs } : {}),
    maxBodyBytes: t.maxBodyBytes ?? SPEC_DEFAULTS.maxBodyBytes,
  };
}
