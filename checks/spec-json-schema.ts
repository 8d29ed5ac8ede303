// The published JSON Schema of CheckSpec v1 (draft 2020-12): what `lookout spec schema` prints and
// the `lookout.spec.schema` request answers, so users in other languages and editors can check a
// spec before sending it.
//
// It is the declarative schema of spec-schema.ts (fields, types, limits, patterns, enums,
// defaults, descriptions; no unknown member anywhere) plus the cross-field rules JSON Schema can
// state, written below as TypeBox schemas too: the `http` / `tcp` / `dns` / `grpc` / `push` section and the target syntax
// that go with each kind, a body needs a method that sends one, HEAD has no body to assert on,
// an assertion needs kept bytes, exactly one test per json or header assertion, `tls` needs an
// https: target, `requireTls` on an http: target and `cookies` on any need a redirect, headers the prober manages, and a
// field compared with another's default (timeoutMs or intervalWhileTransitioningMs without
// intervalMs, ...), which a preset changes:
// those are stated once per preset.
//
// What it cannot state, and only the cluster's validator checks (test/unit/spec-schema.test.ts
// lists the fixtures): comparisons between two fields that are both given (timeoutMs < intervalMs
// and < each state-dependent interval, intervalWhileTransitioningMs <= intervalMs, push.checkEveryMs <= intervalMs,
// maxLatencyMs < timeoutMs, threshold and initial <= window, degradedAfterMs < timeoutMs and
// maxLatencyMs, tls.degradedDaysLeft > minDaysLeft, flap.low < flap.high); the id in the subject; URL, IP
// address and regex syntax beyond the patterns; which groups a tcp dialog's send may name (those of
// the latest expectRegex before it); header names repeated in another case; lone
// surrogates; the nesting bounds of a json assertion's `equals`; string lengths, which Lookout
// counts in UTF-16 code units where JSON Schema counts code points (a string with characters
// outside the BMP can pass here and be too long there); and the answering node's target address
// policy.
import { Type, type TSchema } from '@sinclair/typebox';
import { PRESET_NAMES, SPEC_PRESETS, baseOf, type SpecBase } from './spec-presets';
import { SPEC_DEFAULTS } from './spec-limits';
import { CheckSpecSchema, HTTP_METHODS, MANAGED_HEADERS, SPEC_PATTERNS, type HttpMethod } from './spec-schema';
import { DNS_NAME_PATTERN } from './spec-schema-dns';
import { SEND_TEMPLATE_PATTERN } from './tcp-send-template';
import { SPEC_LIMITS } from './spec-limits';

export const SPEC_SCHEMA_ID = 'urn:lookout:check-spec:v1';
export const JSON_SCHEMA_DIALECT = 'https://json-schema.org/draft/2020-12/schema';

/** A member that must be absent (`{"not": {}}`). */
const Absent = () => Type.Optional(Type.Never());
const methods = (keep: (m: HttpMethod) => boolean) => Type.Union(HTTP_METHODS.filter(keep).map((m) => Type.Literal(m)));

/** A pattern matching `name` in any letter case, without regex flags (JSON Schema has none). */
function anyCase(name: string): string {
  return [...name].map((c) => (/[a-z]/.test(c) ? `[${c.toUpperCase()}${c}]` : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('');
}

/** No body assertion: bodyContains, bodyRegex, bodyNotContains and bodyNotRegex absent, json absent or empty. */
const NoBodyAssertion = Type.Object({
  bodyContains: Absent(),
  bodyRegex: Absent(),
  bodyNotContains: Absent(),
  bodyNotRegex: Absent(),
  json: Type.Optional(Type.Array(Type.Unknown(), { maxItems: 0 })),
});

/** Exactly one of `members` in each element; `also[m]`: members that must be absent beside `m` too. */
function exactlyOne(members: readonly string[], also: Record<string, readonly string[]> = {}) {
  return Type.Union(
    members.map((m) =>
      Type.Object({
        [m]: Type.Unknown(),
        ...Object.fromEntries([...members.filter((o) => o !== m), ...(also[m] ?? [])].map((o) => [o, Absent()])),
      }),
    ),
  );
}

const AssertionRules = Type.Object(
  {
    json: Type.Optional(Type.Array(exactlyOne(['equals', 'notEquals']))),
    expectHeaders: Type.Optional(Type.Array(exactlyOne(['matches', 'notMatches', 'present'], { present: ['allowMissing'] }))),
  },
  { description: 'A json assertion has exactly one of equals and notEquals; a header assertion exactly one of matches, notMatches and present (allowMissing not with present).' },
);

const HttpRules = Type.Intersect([
  Type.Union([Type.Object({ body: Absent() }), Type.Object({ method: methods((m) => m !== 'GET' && m !== 'HEAD') })], {
    description: 'A body needs a method that sends one: not GET (the default) or HEAD.',
  }),
  Type.Union([Type.Object({ method: Type.Optional(methods((m) => m !== 'HEAD')) }), NoBodyAssertion], {
    description: 'bodyContains, bodyRegex, bodyNotContains, bodyNotRegex and json need a response body; HEAD responses have none.',
  }),
  Type.Union([Type.Object({ maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1 })) }), NoBodyAssertion], {
    description: 'bodyContains, bodyRegex, bodyNotContains, bodyNotRegex and json need response bytes: maxBodyBytes must not be 0.',
  }),
  AssertionRules,
  Type.Object(
    { headers: Type.Optional(Type.Record(Type.String({ pattern: `^(?:${MANAGED_HEADERS.map(anyCase).join('|')})$` }), Type.Never())) },
    { description: `The prober manages ${MANAGED_HEADERS.join(', ')} (in any letter case).` },
  ),
]);

const TcpRules = Type.Intersect([
  Type.Union(
    [
      Type.Object({ expect: Absent(), dialog: Type.Optional(Type.Array(Type.Object({ expect: Absent(), expectRegex: Absent() }))) }),
      Type.Object({ maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1 })) }),
    ],
    { description: 'expect (the single one or a dialog step) and expectRegex need bytes from the peer: maxBodyBytes must not be 0.' },
  ),
  Type.Union([Type.Object({ dialog: Absent() }), Type.Object({ send: Absent(), expect: Absent() })], {
    description: 'dialog replaces send and expect: not both.',
  }),
  Type.Object(
    { dialog: Type.Optional(Type.Array(exactlyOne(['send', 'expect', 'expectRegex', 'starttls']))) },
    { description: 'A dialog step has exactly one of send, expect, expectRegex and starttls.' },
  ),
  Type.Object(
    { dialog: Type.Optional(Type.Array(Type.Object({ send: Type.Optional(Type.String({ pattern: SEND_TEMPLATE_PATTERN })) }))) },
    { description: 'A dialog send is a template: every $ is $$ (a literal $), a group reference ${0} … ${9} or ${name}, or followed by neither $ nor {.' },
  ),
]);

const DnsRules = Type.Intersect([
  Type.Union([Type.Object({ answersContain: Absent() }), Type.Object({ answersEqual: Absent() })], {
    description: 'answersContain and answersEqual exclude each other.',
  }),
  Type.Union(
    [
      Type.Object({ expectRcode: Type.Optional(Type.Literal('NOERROR')) }),
      Type.Object({ answersContain: Absent(), answersEqual: Absent(), minAnswers: Type.Optional(Type.Integer({ maximum: 0 })) }),
    ],
    { description: 'Answers (answersContain, answersEqual, minAnswers > 0) come only with expectRcode NOERROR (the default).' },
  ),
]);

/** Every kind but push probes at most hourly (the schema's intervalMs maximum is a push check's period). */
const OneHourAtMost = Type.Optional(Type.Integer({ maximum: SPEC_LIMITS.intervalMs.max }));

const KindRules = Type.Union(
  [
    Type.Object({
      kind: Type.Literal('http'),
      intervalMs: OneHourAtMost,
      target: Type.String({ pattern: SPEC_PATTERNS.httpTarget }),
      http: Type.Optional(HttpRules),
      tcp: Absent(),
      dns: Absent(),
      grpc: Absent(),
      push: Absent(),
    }),
    Type.Object({
      kind: Type.Literal('tcp'),
      intervalMs: OneHourAtMost,
      target: Type.String({ pattern: SPEC_PATTERNS.tcpTarget }),
      tcp: Type.Optional(TcpRules),
      http: Absent(),
      dns: Absent(),
      grpc: Absent(),
      push: Absent(),
    }),
    Type.Object({
      kind: Type.Literal('dns'),
      intervalMs: OneHourAtMost,
      target: Type.String({ pattern: DNS_NAME_PATTERN, maxLength: 254 }),
      dns: Type.Optional(DnsRules),
      http: Absent(),
      tcp: Absent(),
      grpc: Absent(),
      push: Absent(),
    }),
    Type.Object({
      kind: Type.Literal('grpc'),
      intervalMs: OneHourAtMost,
      target: Type.String({ pattern: SPEC_PATTERNS.tcpTarget }),
      http: Absent(),
      tcp: Absent(),
      dns: Absent(),
      push: Absent(),
    }),
    Type.Object({
      kind: Type.Literal('push'),
      target: Absent(),
      preset: Absent(),
      timeoutMs: Absent(),
      degradedAfterMs: Absent(),
      intervalWhileTransitioningMs: Absent(),
      intervalWhileDownMs: Absent(),
      replicas: Type.Optional(Type.Literal(1)),
      confirm: Type.Optional(Type.Literal(false)),
      http: Absent(),
      tcp: Absent(),
      dns: Absent(),
      grpc: Absent(),
    }),
  ],
  {
    description:
      'An http check has an http: or https: URL target and may have http options; a tcp check has a host:port target and may have tcp options; a dns check has a DNS name as its target and may have dns options; a grpc check has a host:port target and may have grpc options; a push check has no target, preset, timeoutMs, degradedAfterMs or state-dependent intervals, replicas 1, no confirm, and may have push options; only kind push may have an intervalMs over an hour.',
  },
);

const TlsNeedsHttps = Type.Union(
  [
    Type.Object({ target: Type.String({ pattern: SPEC_PATTERNS.httpsTarget }) }),
    Type.Object({ http: Type.Optional(Type.Object({ tls: Absent() })) }),
    Type.Object({ http: Type.Object({ maxRedirects: Type.Integer({ minimum: 1 }) }) }),
  ],
  { description: 'http.tls needs an https: target, or (on an http: target) a redirect to follow to one: maxRedirects at least 1.' },
);

const RequireTlsCanPass = Type.Union(
  [
    Type.Object({ target: Type.String({ pattern: SPEC_PATTERNS.httpsTarget }) }),
    Type.Object({ http: Type.Optional(Type.Object({ requireTls: Type.Optional(Type.Literal(false)) })) }),
    Type.Object({ http: Type.Object({ maxRedirects: Type.Integer({ minimum: 1 }) }) }),
  ],
  { description: 'http.requireTls on an http: target can pass only by following a redirect: maxRedirects must be at least 1.' },
);

const CookiesNeedRedirects = Type.Union(
  [
    Type.Object({ http: Type.Optional(Type.Object({ cookies: Type.Optional(Type.Literal(false)) })) }),
    Type.Object({ http: Type.Object({ maxRedirects: Type.Integer({ minimum: 1 }) }) }),
  ],
  { description: 'http.cookies keeps cookies across redirect hops: maxRedirects must be at least 1.' },
);

/** tls.ca (http and tcp) is used only to verify the peer: not with verify false. */
const CaNeedsVerify = Type.Object(
  Object.fromEntries(
    (['http', 'tcp'] as const).map((section) => [
      section,
      Type.Optional(Type.Object({ tls: Type.Optional(Type.Union([Type.Object({ ca: Absent() }), Type.Object({ verify: Type.Optional(Type.Literal(true)) })])) })),
    ]),
  ),
  { description: 'tls.ca is used only to verify the peer: not with tls.verify false.' },
);

// Comparisons with a defaulted field are bounds JSON Schema can state: when the other field is
// absent, its default is a constant — SPEC_DEFAULTS without a preset, the preset's row with one
// (checks/spec-presets.ts). Each rule below is stated once per base: without `preset`, and for
// each preset name.
const below = (max: number) => Type.Optional(Type.Integer({ maximum: max - 1 }));
const BASES: { preset: TSchema; base: SpecBase; name: string }[] = [
  { preset: Absent(), base: baseOf(undefined), name: 'without preset' },
  ...PRESET_NAMES.map((n) => ({ preset: Type.Literal(n), base: SPEC_PRESETS[n], name: `with preset ${n}` })),
];
const perBase = (rule: (b: SpecBase) => Record<string, TSchema>) => BASES.map(({ preset, base }) => Type.Object({ preset, ...rule(base) }));
const summary = (value: (b: SpecBase) => number) => BASES.map(({ base, name }) => `${value(base)} ${name}`).join(', ');

const TimeoutBelowDefaultInterval = Type.Union([Type.Object({ intervalMs: Type.Integer() }), ...perBase((b) => ({ timeoutMs: below(b.intervalMs) }))], {
  description: `Without intervalMs, timeoutMs must be less than the default interval: ${summary((b) => b.intervalMs)}.`,
});

const TransitioningWithinDefaultInterval = Type.Union([Type.Object({ intervalMs: Type.Integer() }), ...perBase((b) => ({ intervalWhileTransitioningMs: Type.Optional(Type.Integer({ maximum: b.intervalMs })) }))], {
  description: `Without intervalMs, intervalWhileTransitioningMs must not exceed the default interval: ${summary((b) => b.intervalMs)}.`,
});

const LatencyBelowDefaultTimeout = Type.Union(
  [
    Type.Object({ timeoutMs: Type.Integer() }),
    ...perBase((b) => ({
      http: Type.Optional(Type.Object({ maxLatencyMs: below(b.timeoutMs) })),
      tcp: Type.Optional(Type.Object({ maxLatencyMs: below(b.timeoutMs) })),
      dns: Type.Optional(Type.Object({ maxLatencyMs: below(b.timeoutMs) })),
      grpc: Type.Optional(Type.Object({ maxLatencyMs: below(b.timeoutMs) })),
    })),
  ],
  { description: `Without timeoutMs (default min(base timeout, intervalMs - 1)), maxLatencyMs must be less than the base timeout: ${summary((b) => b.timeoutMs)}.` },
);

const DegradedBelowDefaultTimeout = Type.Union([Type.Object({ timeoutMs: Type.Integer() }), ...perBase((b) => ({ degradedAfterMs: below(b.timeoutMs) }))], {
  description: `Without timeoutMs (default min(base timeout, intervalMs - 1)), degradedAfterMs must be less than the base timeout: ${summary((b) => b.timeoutMs)}.`,
});

const FlapAgainstDefaults = Type.Object(
  {
    flap: Type.Optional(
      Type.Intersect([
        Type.Union([Type.Object({ low: Type.Integer() }), Type.Object({ high: Type.Optional(Type.Integer({ minimum: SPEC_DEFAULTS.flapLow + 1 })) })]),
        Type.Union([Type.Object({ high: Type.Integer() }), Type.Object({ low: Type.Optional(Type.Integer({ maximum: SPEC_DEFAULTS.flapHigh - 1 })) })]),
      ]),
    ),
  },
  { description: `flap.low < flap.high: without low (default ${SPEC_DEFAULTS.flapLow}) high must be more, without high (default ${SPEC_DEFAULTS.flapHigh}) low must be less.` },
);

const WithinDefaultWindow = Type.Union(
  perBase((b) => ({
    policy: Type.Optional(
      Type.Union([
        Type.Object({ type: Type.Literal('consecutive') }),
        Type.Object({ window: Type.Integer() }),
        Type.Object({ threshold: below(b.window + 1), initial: below(b.window + 1) }),
      ]),
    ),
  })),
  { description: `Without policy.window, threshold and initial must not exceed the default window: ${summary((b) => b.window)}.` },
);

/**
 * The published schema as a TypeBox schema (what the unit test checks specs against): the
 * declarative CheckSpec and the cross-field rules, all of which must hold.
 */
export const CheckSpecDocumentSchema: TSchema = Type.Intersect([
  CheckSpecSchema,
  KindRules,
  TlsNeedsHttps,
  RequireTlsCanPass,
  CookiesNeedRedirects,
  CaNeedsVerify,
  TimeoutBelowDefaultInterval,
  TransitioningWithinDefaultInterval,
  LatencyBelowDefaultTimeout,
  DegradedBelowDefaultTimeout,
  FlapAgainstDefaults,
  WithinDefaultWindow,
]);

const TITLE = 'Lookout CheckSpec v1';
const DESCRIPTION =
  'A health check for Lookout, published on lookout.spec.put.<id>. This schema states every field, type, limit and allowed value, ' +
  'and the cross-field rules JSON Schema can express. The cluster checks a few more (timeoutMs < intervalMs and the state-dependent intervals, intervalWhileTransitioningMs <= intervalMs, maxLatencyMs < ' +
  'timeoutMs, policy threshold and initial <= window, degradedAfterMs < timeoutMs and maxLatencyMs, tls.degradedDaysLeft > minDaysLeft, flap.low < flap.high, RE2 regex syntax, the groups a tcp dialog send names, URL and address syntax, repeated header names, ' +
  'well-formed Unicode, json equals nesting, its target address policy) and answers {code, message, path} for the first problem. ' +
  'String lengths are counted in UTF-16 code units.';

/** The published JSON Schema: a fresh plain JSON object on every call. */
export function specJsonSchema(): Record<string, unknown> {
  const body = tidy(JSON.parse(JSON.stringify(CheckSpecDocumentSchema))) as Record<string, unknown>;
  return { $schema: JSON_SCHEMA_DIALECT, $id: SPEC_SCHEMA_ID, title: TITLE, description: DESCRIPTION, ...body };
}

/** `type` and `description` first in every schema object, for people reading it; key order means nothing to validators. */
function tidy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(tidy);
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  // Only keywords (string values) move: a `properties` map keeps its members in schema order.
  const rank = (k: string) => (typeof o[k] !== 'string' ? 2 : k === 'type' ? 0 : k === 'description' ? 1 : 2);
  const keys = Object.keys(o).sort((a, b) => rank(a) - rank(b));
  return Object.fromEntries(keys.map((k) => [k, tidy(o[k])]));
}
