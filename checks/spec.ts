// CheckSpec v1: the document users publish on `lookout.spec.put.<id>` (DESIGN.md §3).
//
// Specs are stored exactly as the user sent them (after validation), `preset` included, so
// `lookout.spec.get` shows what the user wrote; `normalizeSpec` fills the documented defaults and
// expands the preset (checks/spec-presets.ts) so the runtime never deals with optional fields.

import { SPEC_PATTERNS } from './spec-schema';
import { SPEC_DEFAULTS } from './spec-limits';
import type { CheckKind, CheckSpec, DnsOptions, GrpcOptions, HeaderAssertion, HttpOptions, HttpVersion, JsonAssertion, PolicySpec, PushOptions, QuorumSpec, TcpOptions, TlsOptions } from './spec-schema';
import { dialogOf, type DialogStep } from './tcp-dialog';
import { DNS_DEFAULTS, type DnsRcode, type DnsRecordType } from './spec-schema-dns';
import { PUSH_LIMITS } from './spec-schema-push';
import { effectiveInterval, effectiveTimeout, effectiveWindow, type PresetName } from './spec-presets';

// The spec's shape, types, limits and defaults come from the declarative schema (spec-schema.ts,
// spec-limits.ts); they are re-exported here under the names the rest of the code base uses.
export {
  CheckKind,
  HTTP_METHODS,
  type CheckSpec,
  type ConsecutivePolicy,
  type HeaderAssertion,
  type DnsOptions,
  type GrpcOptions,
  type PushOptions,
  type HttpMethod,
  type HttpOptions,
  type JsonAssertion,
  type PolicySpec,
  type QuorumSpec,
  type StatusMatcher,
  type TcpOptions,
  type TlsOptions,
  type WindowPolicy,
} from './spec-schema';
export { SPEC_DEFAULTS, SPEC_LIMITS } from './spec-limits';
export { PRESET_NAMES, SPEC_PRESETS, type PresetName } from './spec-presets';

export const CHECK_ID_PATTERN = new RegExp(SPEC_PATTERNS.checkId);

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
  /** '' for a push check (it has none). */
  target: string;
  intervalMs: number;
  /** While the verdict is changing (protocol/state-interval.ts); absent: intervalMs. At most intervalMs. */
  intervalWhileTransitioningMs?: number;
  /** While down with the newest probe failed (protocol/state-interval.ts); absent: intervalMs. */
  intervalWhileDownMs?: number;
  timeoutMs: number;
  replicas: number;
  /** How the vantages combine (replicas > 1; absent: a majority — protocol/quorum.ts). */
  quorum?: QuorumSpec;
  /** Ask another node to probe once before this check goes down (protocol/confirm.ts); default: replicas 1. */
  confirm: boolean;
  labels: Record<string, string>;
  http: Required<Omit<HttpOptions, 'host' | 'body' | 'expectVersions' | 'bodyContains' | 'bodyRegex' | 'bodyNotContains' | 'bodyNotRegex' | 'maxLatencyMs' | 'tls'>> & {
    /** The Host header (and default servername) of hops on the target's origin; absent: the target's own. */
    host?: string;
    body?: string;
    /** Absent: any version. */
    expectVersions?: readonly HttpVersion[];
    bodyContains?: string;
    bodyRegex?: string;
    bodyNotContains?: string;
    bodyNotRegex?: string;
    maxLatencyMs?: number;
    tls: NormalizedTls;
  };
  tcp: {
    tls?: NormalizedTls;
    /** What the probe does after connect: `send` / `expect` become steps too (checks/tcp-dialog.ts). */
    dialog: DialogStep[];
    maxLatencyMs?: number;
    maxBodyBytes: number;
  };
  dns: NormalizedDns;
  grpc: NormalizedGrpc;
  push: NormalizedPush;
  policy: NormalizedPolicy;
  /** A passing probe slower than this is degraded (protocol/published-verdict.ts); absent: no latency threshold. */
  degradedAfterMs?: number;
  /** Flap damping thresholds, defaults filled (protocol/flapping.ts); absent: off. */
  flap?: FlapThresholds;
}

/** Flap damping: flapping starts at `high` percent state change and ends at `low` or below. */
export interface FlapThresholds {
  low: number;
  high: number;
}

// Normalized specs are held for every check a node knows (100k of them at scale), so the parts
// most specs leave at their defaults are shared, frozen objects rather than fresh copies.
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_LABELS: Record<string, string> = Object.freeze({}) as Record<string, string>;
const NO_JSON: JsonAssertion[] = Object.freeze([]) as unknown as JsonAssertion[];
const NO_HEADER_ASSERTIONS: HeaderAssertion[] = Object.freeze([]) as unknown as HeaderAssertion[];
const DEFAULT_TLS = Object.freeze({ verify: SPEC_DEFAULTS.tlsVerify });
/** The policy of a spec without one, per preset ('' for none): one frozen object each, shared. */
const defaultPolicies = new Map<PresetName | '', NormalizedPolicy>();

/**
 * The verdict policy with its defaults: a window policy's missing fields come from the preset (or
 * SPEC_DEFAULTS) field by field; a consecutive policy ignores the preset.
 */
export function normalizePolicy(p: PolicySpec | undefined, preset?: PresetName): NormalizedPolicy {
  if (p !== undefined) return computePolicy(p, preset);
  let shared = defaultPolicies.get(preset ?? '');
  if (shared === undefined) defaultPolicies.set(preset ?? '', (shared = Object.freeze(computePolicy(undefined, preset)) as NormalizedPolicy));
  return shared;
}

function computePolicy(p: PolicySpec | undefined, preset: PresetName | undefined): NormalizedPolicy {
  if (p?.type === 'consecutive') {
    const rise = p.rise ?? SPEC_DEFAULTS.rise;
    const fall = p.fall ?? SPEC_DEFAULTS.fall;
    return { type: 'consecutive', window: Math.max(rise, fall), threshold: rise, initial: 0, rise, fall, initialUp: p.initial === 'up' };
  }
  const { window, threshold, initial } = effectiveWindow(p, preset);
  return { type: 'window', window, threshold, initial, rise: 0, fall: 0, initialUp: initial >= threshold };
}

/** TLS options with verify filled; servername and minDaysLeft only when the spec sets them. */
export type NormalizedTls = Required<Pick<TlsOptions, 'verify'>> & Pick<TlsOptions, 'servername' | 'ca' | 'minDaysLeft' | 'degradedDaysLeft'>;

function normalizeTls(t: TlsOptions | undefined): NormalizedTls {
  if (!t || (t.verify === undefined && !t.servername && t.ca === undefined && t.minDaysLeft === undefined && t.degradedDaysLeft === undefined)) return DEFAULT_TLS;
  return {
    verify: t.verify ?? SPEC_DEFAULTS.tlsVerify,
    ...(t.servername ? { servername: t.servername } : {}),
    ...(t.ca !== undefined ? { ca: t.ca } : {}),
    ...(t.minDaysLeft !== undefined ? { minDaysLeft: t.minDaysLeft } : {}),
    ...(t.degradedDaysLeft !== undefined ? { degradedDaysLeft: t.degradedDaysLeft } : {}),
  };
}

/** Fill defaults. The input must already have passed `validateSpec`. */
export function normalizeSpec(id: string, s: CheckSpec): NormalizedSpec {
  return {
    id,
    kind: s.kind,
    target: s.target ?? '',
    intervalMs: effectiveInterval(s),
    ...(s.intervalWhileTransitioningMs !== undefined ? { intervalWhileTransitioningMs: s.intervalWhileTransitioningMs } : {}),
    ...(s.intervalWhileDownMs !== undefined ? { intervalWhileDownMs: s.intervalWhileDownMs } : {}),
    timeoutMs: effectiveTimeout(s),
    replicas: s.replicas ?? SPEC_DEFAULTS.replicas,
    ...(s.quorum !== undefined ? { quorum: { ...s.quorum } } : {}),
    // Nobody else hears a push check's reports: never confirmed from elsewhere (validate-push.ts refuses true).
    confirm: s.kind === 'push' ? false : (s.confirm ?? (s.replicas ?? SPEC_DEFAULTS.replicas) === 1),
    labels: s.labels ?? NO_LABELS,
    // The options of the other kind are never read, and most specs leave their own kind's at the
    // defaults: one frozen default object serves all of those.
    http: s.kind === 'http' && hasOptions(s.http) ? normalizeHttp(s.http) : (DEFAULT_HTTP ??= Object.freeze(normalizeHttp({}))),
    tcp: s.kind === 'tcp' && hasOptions(s.tcp) ? normalizeTcp(s.tcp) : (DEFAULT_TCP ??= Object.freeze(normalizeTcp({}))),
    dns: s.kind === 'dns' && hasOptions(s.dns) ? normalizeDns(s.dns) : (DEFAULT_DNS ??= Object.freeze(normalizeDns({}))),
    grpc: s.kind === 'grpc' && hasOptions(s.grpc) ? normalizeGrpc(s.grpc) : (DEFAULT_GRPC ??= Object.freeze(normalizeGrpc({}))),
    push: s.kind === 'push' ? normalizePush(s.push ?? {}, effectiveInterval(s)) : NO_PUSH,
    // A push check's evaluation already carries the grace: by default its verdict follows it (rise 1, fall 1).
    policy: s.kind === 'push' && s.policy === undefined ? PUSH_POLICY : normalizePolicy(s.policy, s.preset),
    ...(s.degradedAfterMs !== undefined ? { degradedAfterMs: s.degradedAfterMs } : {}),
    ...(s.flap !== undefined ? { flap: { low: s.flap.low ?? SPEC_DEFAULTS.flapLow, high: s.flap.high ?? SPEC_DEFAULTS.flapHigh } } : {}),
  };
}

/** The push section with its defaults (graceMs: the interval; checkEveryMs: min(intervalMs, a minute)). */
export interface NormalizedPush {
  graceMs: number;
  /** How often the deadline is evaluated: the slot interval of a push check (protocol/state-interval.ts). */
  checkEveryMs: number;
  /** The secret every report must carry; absent: none. */
  token?: string;
}

// Never read: only a push check's push section is (its kind says so).
const NO_PUSH: NormalizedPush = Object.freeze({ graceMs: 0, checkEveryMs: 0 });
const PUSH_POLICY: NormalizedPolicy = Object.freeze(computePolicy({ type: 'consecutive', rise: 1, fall: 1 }, undefined));

function normalizePush(p: PushOptions, intervalMs: number): NormalizedPush {
  return {
    graceMs: p.graceMs ?? intervalMs,
    checkEveryMs: p.checkEveryMs ?? Math.min(intervalMs, PUSH_LIMITS.defaultCheckEveryMs),
    ...(p.token !== undefined ? { token: p.token } : {}),
  };
}

let DEFAULT_HTTP: NormalizedSpec['http'] | null = null;
let DEFAULT_TCP: NormalizedSpec['tcp'] | null = null;
let DEFAULT_DNS: NormalizedDns | null = null;
let DEFAULT_GRPC: NormalizedGrpc | null = null;
const NO_VALUES: string[] = Object.freeze([]) as unknown as string[];

/** The dns section with its defaults (checks/spec-schema-dns.ts DNS_DEFAULTS). */
export interface NormalizedDns {
  type: DnsRecordType;
  /** host:port; absent: the node's system resolver. */
  server?: string;
  expectRcode: DnsRcode;
  answersContain: string[];
  answersEqual?: string[];
  minAnswers: number;
  maxLatencyMs?: number;
}

function normalizeDns(d: DnsOptions): NormalizedDns {
  const expectRcode = d.expectRcode ?? DNS_DEFAULTS.expectRcode;
  return {
    type: d.type ?? DNS_DEFAULTS.type,
    ...(d.server !== undefined ? { server: d.server } : {}),
    expectRcode,
    answersContain: d.answersContain ?? NO_VALUES,
    ...(d.answersEqual !== undefined ? { answersEqual: d.answersEqual } : {}),
    minAnswers: d.minAnswers ?? (expectRcode === 'NOERROR' ? DNS_DEFAULTS.minAnswersNoError : 0),
    ...(d.maxLatencyMs !== undefined ? { maxLatencyMs: d.maxLatencyMs } : {}),
  };
}

/** The grpc section with its defaults: the whole server's health ('') unless a service is named; plaintext unless tls. */
export interface NormalizedGrpc {
  service: string;
  tls?: NormalizedTls;
  maxLatencyMs?: number;
}

function normalizeGrpc(g: GrpcOptions): NormalizedGrpc {
  return {
    service: g.service ?? '',
    ...(g.tls ? { tls: normalizeTls(g.tls) } : {}),
    ...(g.maxLatencyMs !== undefined ? { maxLatencyMs: g.maxLatencyMs } : {}),
  };
}

/** The options section of a spec's own kind (push has no probe options: none). */
function sectionOf(spec: NormalizedSpec): NormalizedSpec['http'] | NormalizedSpec['tcp'] | NormalizedDns | NormalizedGrpc | undefined {
  switch (spec.kind) {
    case 'http':
      return spec.http;
    case 'tcp':
      return spec.tcp;
    case 'dns':
      return spec.dns;
    case 'grpc':
      return spec.grpc;
    case 'push':
      return undefined;
    default: {
      const unknown: never = spec.kind;
      throw new Error(`unknown check kind ${String(unknown)}`);
    }
  }
}

/** The latency bound of a spec's own kind (its section's maxLatencyMs). */
export function maxLatencyOf(spec: NormalizedSpec): number | undefined {
  return sectionOf(spec)?.maxLatencyMs;
}

/** The TLS options of a spec's own kind, when it has any (dns none; tcp and grpc only with a tls section). */
export function tlsOf(spec: NormalizedSpec): NormalizedTls | undefined {
  const section = sectionOf(spec);
  return section !== undefined && 'tls' in section ? section.tls : undefined;
}

function hasOptions<T extends object>(o: T | undefined): o is T {
  if (o === undefined) return false;
  for (const k in o) if (o[k] !== undefined) return true;
  return false;
}

function normalizeHttp(h: HttpOptions): NormalizedSpec['http'] {
  return {
    method: h.method ?? SPEC_DEFAULTS.method,
    headers: h.headers ?? NO_HEADERS,
    ...(h.host !== undefined ? { host: h.host } : {}),
    ...(h.body !== undefined ? { body: h.body } : {}),
    expectStatus: h.expectStatus ?? SPEC_DEFAULTS.expectStatus,
    ...(h.expectVersions !== undefined ? { expectVersions: h.expectVersions } : {}),
    ...(h.bodyContains !== undefined ? { bodyContains: h.bodyContains } : {}),
    ...(h.bodyRegex !== undefined ? { bodyRegex: h.bodyRegex } : {}),
    ...(h.bodyNotContains !== undefined ? { bodyNotContains: h.bodyNotContains } : {}),
    ...(h.bodyNotRegex !== undefined ? { bodyNotRegex: h.bodyNotRegex } : {}),
    json: h.json ?? NO_JSON,
    expectHeaders: h.expectHeaders ?? NO_HEADER_ASSERTIONS,
    ...(h.maxLatencyMs !== undefined ? { maxLatencyMs: h.maxLatencyMs } : {}),
    tls: normalizeTls(h.tls),
    requireTls: h.requireTls ?? false,
    maxRedirects: h.maxRedirects ?? SPEC_DEFAULTS.maxRedirects,
    cookies: h.cookies ?? false,
    maxBodyBytes: h.maxBodyBytes ?? SPEC_DEFAULTS.maxBodyBytes,
    reuseConnection: h.reuseConnection ?? false,
  };
}

function normalizeTcp(t: TcpOptions): NormalizedSpec['tcp'] {
  return {
    ...(t.tls ? { tls: normalizeTls(t.tls) } : {}),
    dialog: dialogOf(t),
    ...(t.maxLatencyMs !== undefined ? { maxLatencyMs: t.maxLatencyMs } : {}),
    maxBodyBytes: t.maxBodyBytes ?? SPEC_DEFAULTS.maxBodyBytes,
  };
}
