// CheckSpec v1 as data (DESIGN.md §3): the one declarative source of the spec's shape. TypeBox
// builds each field's JSON Schema; the TypeScript types (checks/spec.ts), the validator's field
// lists, order, limits and enums (checks/validate.ts reads them from these objects) and the
// published JSON Schema (checks/spec-json-schema.ts) all come from here.
//
// Property order is the validator's rule order. Descriptions are the README's CheckSpec reference.
// Patterns use only the regex syntax ECMA-262, RE2, Python and Java share (no lookaround), so
// validators in other languages read them the same way.
import { Type, type Static } from '@sinclair/typebox';
import { dnsOptionsSchema } from './spec-schema-dns';
import { tcpOptionsSchema, DialogStepSchema } from './spec-schema-tcp';
import { grpcOptionsSchema } from './spec-schema-grpc';
import { PushOptionsSchema } from './spec-schema-push';
import { SPEC_DEFAULTS, SPEC_LIMITS } from './spec-limits';
import { PRESET_NAMES, SPEC_PRESETS, type PresetName } from './spec-presets';

export const CheckKind = { http: 'http', tcp: 'tcp', dns: 'dns', grpc: 'grpc', push: 'push' } as const;
export type CheckKind = (typeof CheckKind)[keyof typeof CheckKind];

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The HTTP versions a response may come in (Lookout asks in HTTP/1.1; a server may answer in 1.0). */
export const HTTP_VERSIONS = ['HTTP/1.0', 'HTTP/1.1'] as const;
export type HttpVersion = (typeof HTTP_VERSIONS)[number];

/** Headers the prober sets itself (or undici refuses); a spec may not set them, in any case. */
export const MANAGED_HEADERS = ['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect'] as const;

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
const HOST = `${LABEL}(?:\\.${LABEL})*\\.?`;
const PORT = '(?:0{0,4}[1-9]|0{0,3}[1-9][0-9]|0{0,2}[1-9][0-9]{2}|0?[1-9][0-9]{3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';
const JSON_STRING = '"(?:[^"\\\\\\x00-\\x1f]|\\\\(?:["\\\\/bfnrt]|u[0-9A-Fa-f]{4}))*"';

/** The pattern sources, shared by the schema and the validator. */
export const SPEC_PATTERNS = {
  checkId: '^[A-Za-z0-9_-]{1,128}$',
  labelName: '^[A-Za-z0-9_.-]{1,64}$',
  /** No space, no C0 control, no DEL anywhere. */
  target: '^[^\\x00-\\x20\\x7f]*$',
  httpTarget: '^[Hh][Tt][Tt][Pp][Ss]?:',
  httpsTarget: '^[Hh][Tt][Tt][Pp][Ss]:',
  /** host:port or [IPv6]:port, port 1..65535 (leading zeros allowed). */
  tcpTarget: `^(?:\\[[0-9A-Fa-f:.]+(?:%[^\\]]+)?\\]|${HOST}):${PORT}$`,
  /** A DNS name (labels of letters, digits, _ and -); it must not be an IP address (not expressed). */
  hostName: `^${HOST}$`,
  /** A Host header value: a DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port. */
  hostHeader: `^(?:\\[[0-9A-Fa-f:.]+\\]|${HOST})(?::${PORT})?$`,
  /** token = 1*tchar (RFC 7230 §3.2.6). */
  headerName: "^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$",
  /** Tab, printable ASCII and U+0080..U+00FF: no CR, LF, NUL or other controls. */
  headerValue: '^[\\t\\x20-\\x7e\\x80-\\xff]*$',
  /** `$`, then `.name`, `[index]` or `["any key"]` (checks/json-path.ts). */
  jsonPath: `^\\$(?:\\.[A-Za-z0-9_-]+|\\[(?:0|[1-9][0-9]{0,8})\\]|\\[${JSON_STRING}\\])*$`,
} as const;

const { stringMaxLength } = SPEC_LIMITS;

// ---- leaves ----------------------------------------------------------------------------------

/** An integer field: every integer in a spec is also a safe integer (I-JSON). */
function integerField(min: number, max: number = Number.MAX_SAFE_INTEGER, description: string, dflt?: number) {
  return Type.Integer({ minimum: min, maximum: max, description, ...(dflt !== undefined ? { default: dflt } : {}) });
}

const MaxLatencyMs = integerField(1, undefined, 'Fail a probe slower than this many milliseconds; must be less than timeoutMs.');
const MaxBodyBytes = (what: string) =>
  integerField(0, SPEC_LIMITS.maxBodyBytes.max, `${what}; at most 1 MiB. The rest is cut, never buffered.`, SPEC_DEFAULTS.maxBodyBytes);

export const TlsOptionsSchema = Type.Object(
  {
    verify: Type.Optional(
      Type.Boolean({ description: 'Verify the peer certificate chain and host name; false accepts self-signed certificates.', default: SPEC_DEFAULTS.tlsVerify }),
    ),
    servername: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: stringMaxLength,
        pattern: SPEC_PATTERNS.hostName,
        description: "SNI and certificate host name to check: a DNS name, not an IP address. Default: the target's host.",
      }),
    ),
    ca: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: SPEC_LIMITS.tlsCa.maxLength,
        description: `Trust these certificates (PEM, at most ${SPEC_LIMITS.tlsCa.maxCertificates}) instead of the node's trust store when verifying the peer; not with verify false.`,
      }),
    ),
    minDaysLeft: Type.Optional(
      integerField(
        SPEC_LIMITS.minDaysLeft.min,
        SPEC_LIMITS.minDaysLeft.max,
        'Fail with reason cert_expiry when the peer certificate, or any certificate of its chain, expires in fewer than this many days.',
      ),
    ),
    degradedDaysLeft: Type.Optional(
      integerField(
        SPEC_LIMITS.degradedDaysLeft.min,
        SPEC_LIMITS.degradedDaysLeft.max,
        'A passing probe whose peer certificate, or any certificate of its chain, expires in fewer than this many days makes the check degraded (not down); more than minDaysLeft when both are set.',
      ),
    ),
  },
  { additionalProperties: false, description: 'TLS settings.' },
);

export const StatusMatcherSchema = Type.Union(
  [
    Type.Integer({ minimum: 100, maximum: 599, description: 'An exact status code.' }),
    Type.TemplateLiteral('${1|2|3|4|5}xx', { description: 'A status class.' }),
  ],
  { description: 'An exact status code (100..599, a number) or a class "1xx".."5xx".' },
);

export const JsonAssertionSchema = Type.Object(
  {
    path: Type.String({
      maxLength: stringMaxLength,
      pattern: SPEC_PATTERNS.jsonPath,
      description: 'Where to look: `$`, then `.name`, `[index]` or `["any key"]` steps; no wildcards or filters.',
    }),
    equals: Type.Optional(
      Type.Unknown({
        description: `The JSON value the path must hold (deep equality); containers nested at most ${SPEC_LIMITS.jsonEquals.maxDepth} deep, each with at most ${SPEC_LIMITS.jsonEquals.maxMembers} members.`,
      }),
    ),
    notEquals: Type.Optional(
      Type.Unknown({
        description: 'The JSON value the path must not hold (deep equality; nothing at the path passes). Exactly one of equals and notEquals; the same bounds.',
      }),
    ),
  },
  { additionalProperties: false },
);

/** A regex field of a spec: RE2 syntax (checks/regex.ts). */
const Re2 = (description: string) => Type.String({ maxLength: SPEC_LIMITS.regexMaxLength, description: `${description} RE2 syntax, unanchored.` });

export const HeaderAssertionSchema = Type.Object(
  {
    name: Type.String({
      maxLength: SPEC_LIMITS.headerAssertions.nameMaxLength,
      pattern: SPEC_PATTERNS.headerName,
      description: 'The response header, in any letter case; every value it has (repeated headers, one value each) is tested.',
    }),
    matches: Type.Optional(Re2('Some value of the header must match this regex;')),
    notMatches: Type.Optional(Re2('No value of the header may match this regex;')),
    present: Type.Optional(Type.Boolean({ description: 'true: the header must be there; false: it must not be.' })),
    allowMissing: Type.Optional(
      Type.Boolean({ description: 'With matches or notMatches: a missing header passes (default: it fails).', default: false }),
    ),
  },
  { additionalProperties: false, description: 'One assertion on a response header: exactly one of matches, notMatches and present.' },
);

// ---- sections --------------------------------------------------------------------------------

export const HttpOptionsSchema = Type.Object(
  {
    method: Type.Optional(Type.Union(HTTP_METHODS.map((m) => Type.Literal(m)), { description: 'The request method.', default: SPEC_DEFAULTS.method })),
    headers: Type.Optional(
      Type.Record(
        Type.String({ pattern: SPEC_PATTERNS.headerName }),
        Type.String({ maxLength: SPEC_LIMITS.headers.valueMaxLength, pattern: SPEC_PATTERNS.headerValue }),
        {
          maxProperties: SPEC_LIMITS.headers.max,
          additionalProperties: false,
          description: `Request headers (names are HTTP tokens, case-insensitive, each at most once). ${MANAGED_HEADERS.join(', ')} are managed by the prober and refused.`,
        },
      ),
    ),
    host: Type.Optional(
      Type.String({
        maxLength: 261,
        pattern: SPEC_PATTERNS.hostHeader,
        description:
          "The Host header (name[:port]) to send, and the TLS servername when tls.servername is not set: a virtual host probed at the target's address. Never resolved or dialled; only hops on the target's own origin send it.",
      }),
    ),
    body: Type.Optional(Type.String({ maxLength: SPEC_LIMITS.bodyMaxLength, description: 'The request body (UTF-8); not with GET or HEAD, so set method.' })),
    expectStatus: Type.Optional(
      Type.Array(StatusMatcherSchema, { minItems: 1, maxItems: SPEC_LIMITS.expectStatus.max, description: 'The statuses that pass.', default: SPEC_DEFAULTS.expectStatus }),
    ),
    expectVersions: Type.Optional(
      Type.Array(Type.Union(HTTP_VERSIONS.map((v) => Type.Literal(v))), {
        minItems: 1,
        maxItems: HTTP_VERSIONS.length,
        uniqueItems: true,
        description: 'The HTTP versions the final response may come in (reason protocol otherwise). Default: any.',
      }),
    ),
    bodyContains: Type.Optional(
      Type.String({ minLength: 1, maxLength: stringMaxLength, description: 'A substring the kept part of the response body must contain.' }),
    ),
    bodyRegex: Type.Optional(
      Type.String({
        maxLength: SPEC_LIMITS.regexMaxLength,
        description: 'An RE2 regex (no backreferences or lookaround; inline flags such as (?i)) the kept part of the body must match, unanchored.',
      }),
    ),
    bodyNotContains: Type.Optional(
      Type.String({ minLength: 1, maxLength: stringMaxLength, description: 'A substring the kept part of the response body must not contain.' }),
    ),
    bodyNotRegex: Type.Optional(
      Type.String({
        maxLength: SPEC_LIMITS.regexMaxLength,
        description: 'An RE2 regex the kept part of the body must not match, unanchored (what lies past maxBodyBytes is not seen).',
      }),
    ),
    json: Type.Optional(
      Type.Array(JsonAssertionSchema, { maxItems: SPEC_LIMITS.jsonAssertions.max, description: 'Equality and inequality assertions on the JSON response body.' }),
    ),
    expectHeaders: Type.Optional(
      Type.Array(HeaderAssertionSchema, { maxItems: SPEC_LIMITS.headerAssertions.max, description: 'Assertions on the final response headers, checked after the status.' }),
    ),
    maxLatencyMs: Type.Optional(MaxLatencyMs),
    tls: Type.Optional(TlsOptionsSchema),
    requireTls: Type.Optional(
      Type.Boolean({ description: 'Fail (reason tls) when the final response did not come over TLS: an https: target redirected to http:.', default: false }),
    ),
    maxRedirects: Type.Optional(
      integerField(0, SPEC_LIMITS.maxRedirects.max, 'Redirects to follow, each on a fresh connection; 0: a 3xx is the answer.', SPEC_DEFAULTS.maxRedirects),
    ),
    cookies: Type.Optional(
      Type.Boolean({
        description:
          "Keep the cookies the redirect answers set and send them on the next hops (a login or consent redirect); one empty jar per probe, nothing kept between probes. Needs maxRedirects at least 1.",
        default: false,
      }),
    ),
    maxBodyBytes: Type.Optional(MaxBodyBytes('Response bytes kept for assertions')),
    reuseConnection: Type.Optional(
      Type.Boolean({ description: 'Keep the connection open between probes; false: every probe tests connect.', default: false }),
    ),
  },
  { additionalProperties: false, description: 'Options of an http check (kind "http" only).' },
);

export const TcpOptionsSchema = tcpOptionsSchema(
  TlsOptionsSchema,
  MaxLatencyMs,
  MaxBodyBytes('Bytes read from the peer in all (every expect of a dialog together)'),
  SPEC_LIMITS.bodyMaxLength,
  stringMaxLength,
);
export { DialogStepSchema };

export const DnsOptionsSchema = dnsOptionsSchema(SPEC_PATTERNS.tcpTarget);

export const GrpcOptionsSchema = grpcOptionsSchema(TlsOptionsSchema);

const policyCount = (limit: { min: number; max: number }, description: string, dflt?: number) => Type.Optional(integerField(limit.min, limit.max, description, dflt));

export const WindowPolicySchema = Type.Object(
  {
    type: Type.Literal('window', { description: 'The policy type.' }),
    window: policyCount(SPEC_LIMITS.window, 'How many recent probes are considered (Varnish .window). Default 8, or the preset value.', SPEC_DEFAULTS.window),
    threshold: policyCount({ min: 1, max: SPEC_LIMITS.window.max }, 'Up when at least this many of them passed (Varnish .threshold); at most window. Default min(3 or the preset threshold, window).', SPEC_DEFAULTS.threshold),
    initial: policyCount({ min: 0, max: SPEC_LIMITS.window.max }, 'Passes pre-filled at start (Varnish .initial); at most window. Default threshold - 1.'),
  },
  { additionalProperties: false, description: 'Up when at least threshold of the last window probes passed.' },
);

export const ConsecutivePolicySchema = Type.Object(
  {
    type: Type.Literal('consecutive', { description: 'The policy type.' }),
    rise: policyCount(SPEC_LIMITS.rise, 'Consecutive passes that turn a down check up (HAProxy rise).', SPEC_DEFAULTS.rise),
    fall: policyCount(SPEC_LIMITS.fall, 'Consecutive failures that turn an up check down (HAProxy fall).', SPEC_DEFAULTS.fall),
    initial: Type.Optional(Type.Union([Type.Literal('up'), Type.Literal('down')], { description: 'The verdict before the first probe.', default: 'down' })),
  },
  { additionalProperties: false, description: 'Down after fall consecutive failures, up after rise consecutive passes.' },
);

export const PolicySpecSchema = Type.Union([WindowPolicySchema, ConsecutivePolicySchema], {
  description: 'How probe results become the up/down verdict. Default: window 8, threshold 3, initial 2; with a preset, its window policy.',
});

const flapPercent = (description: string, dflt: number) =>
  Type.Optional(integerField(SPEC_LIMITS.flapPercent.min, SPEC_LIMITS.flapPercent.max, description, dflt));

export const FlapSchema = Type.Object(
  {
    low: flapPercent('Flapping ends when the weighted state change of the last 21 results falls to this percent or below; less than high.', SPEC_DEFAULTS.flapLow),
    high: flapPercent('Flapping starts when the weighted state change of the last 21 results reaches this percent (Nagios/Sensu flap detection).', SPEC_DEFAULTS.flapHigh),
  },
  {
    additionalProperties: false,
    description: 'Flap damping (opt-in): a check whose results keep changing publishes one `flapping` transition instead of a storm, and one more when it settles. Default: off.',
  },
);

export const QuorumAtLeastSchema = Type.Object(
  {
    type: Type.Literal('atLeast', { description: 'The quorum type.' }),
    up: integerField(1, SPEC_LIMITS.replicas.max, 'Up when at least this many vantages are up; at most replicas.'),
  },
  { additionalProperties: false, description: 'Up when at least `up` vantages are up.' },
);

export const QuorumFractionSchema = Type.Object(
  {
    type: Type.Literal('fraction', { description: 'The quorum type.' }),
    up: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: 'Up when at least this fraction of the vantages (rounded up) are up: 0 < up <= 1.' }),
  },
  { additionalProperties: false, description: 'Up when at least ceil(up × replicas) vantages are up.' },
);

export const QuorumSpecSchema = Type.Union([QuorumAtLeastSchema, QuorumFractionSchema], {
  description: 'How the vantages of a check with replicas > 1 combine into its verdict (replicas > 1 only). Default: a majority, floor(replicas / 2) + 1.',
});

// ---- the spec --------------------------------------------------------------------------------

/** `high: every 2000 ms, timeout 1000 ms, up while 7 of the last 10 passed` (from SPEC_PRESETS). */
function presetSummary(name: PresetName): string {
  const p = SPEC_PRESETS[name];
  return `${name}: every ${p.intervalMs} ms, timeout ${p.timeoutMs} ms, up while ${p.threshold} of the last ${p.window} passed`;
}

export const CheckSpecSchema = Type.Object(
  {
    id: Type.Optional(Type.String({ pattern: SPEC_PATTERNS.checkId, description: 'The check id; must equal the <id> of the lookout.spec.put.<id> subject.' })),
    kind: Type.Union([Type.Literal(CheckKind.http), Type.Literal(CheckKind.tcp), Type.Literal(CheckKind.dns), Type.Literal(CheckKind.grpc), Type.Literal(CheckKind.push)], {
      description:
        'What a probe does: an HTTP request, a TCP connection, a DNS query or a gRPC health check (grpc.health.v1.Health/Check); push: nothing — the job reports in on <prefix>.push.<id> and the check fails when no report came in time.',
    }),
    target: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: stringMaxLength,
        pattern: SPEC_PATTERNS.target,
        description:
          'http: an http: or https: URL without credentials; tcp and grpc: host:port or [IPv6]:port; dns: the name to query. No spaces or control characters. Required for every kind but push, which has none.',
      }),
    ),
    preset: Type.Optional(
      Type.Union(
        PRESET_NAMES.map((p) => Type.Literal(p)),
        {
          description: `Defaults for intervalMs, timeoutMs and the window policy: ${PRESET_NAMES.map((n) => presetSummary(n)).join('; ')}. Fields the spec sets win, one by one.`,
        },
      ),
    ),
    intervalMs: Type.Optional(
      integerField(
        SPEC_LIMITS.intervalMs.min,
        SPEC_LIMITS.pushPeriodMs.max,
        `Milliseconds between probes, at most ${SPEC_LIMITS.intervalMs.max} (an hour). Kind push: the job's expected period, at most ${SPEC_LIMITS.pushPeriodMs.max} (35 days). Default 5000, or the preset value.`,
        SPEC_DEFAULTS.intervalMs,
      ),
    ),
    intervalWhileTransitioningMs: Type.Optional(
      integerField(
        SPEC_LIMITS.intervalMs.min,
        SPEC_LIMITS.intervalMs.max,
        'Milliseconds between probes while the verdict is changing (HAProxy fastinter): up with the newest probe failed, or down with the newest probe passed. At most intervalMs. Default: intervalMs.',
      ),
    ),
    intervalWhileDownMs: Type.Optional(
      integerField(
        SPEC_LIMITS.intervalMs.min,
        SPEC_LIMITS.intervalMs.max,
        'Milliseconds between probes while the check is down and its newest probe failed (HAProxy downinter). Default: intervalMs.',
      ),
    ),
    timeoutMs: Type.Optional(
      integerField(SPEC_LIMITS.timeoutMs.min, undefined, 'One deadline for the whole probe, in milliseconds; must be less than intervalMs and the state-dependent intervals. Default min(2000 or the preset timeoutMs, the shortest of those intervals - 1).'),
    ),
    replicas: Type.Optional(
      integerField(
        SPEC_LIMITS.replicas.min,
        SPEC_LIMITS.replicas.max,
        'Vantage points: how many distinct nodes probe this check each interval (at most LOOKOUT_VANTAGE_POINTS and the number of nodes).',
        SPEC_DEFAULTS.replicas,
      ),
    ),
    quorum: Type.Optional(QuorumSpecSchema),
    confirm: Type.Optional(
      Type.Boolean({
        description:
          'Before this single-vantage check is declared down, another live node probes it once; if that node sees it healthy, the verdict does not flip and the disagreement is published on the result. Default: true with replicas 1 (replicas > 1 combine their vantages by quorum instead).',
      }),
    ),
    labels: Type.Optional(
      Type.Record(Type.String({ pattern: SPEC_PATTERNS.labelName }), Type.String({ maxLength: SPEC_LIMITS.labels.valueMaxLength }), {
        maxProperties: SPEC_LIMITS.labels.max,
        additionalProperties: false,
        description: 'String labels for users.',
      }),
    ),
    http: Type.Optional(HttpOptionsSchema),
    tcp: Type.Optional(TcpOptionsSchema),
    dns: Type.Optional(DnsOptionsSchema),
    grpc: Type.Optional(GrpcOptionsSchema),
    push: Type.Optional(PushOptionsSchema),
    policy: Type.Optional(PolicySpecSchema),
    degradedAfterMs: Type.Optional(
      integerField(
        SPEC_LIMITS.degradedAfterMs.min,
        undefined,
        'A passing probe slower than this many milliseconds makes the check degraded (not down); less than timeoutMs and than the maxLatencyMs of its kind.',
      ),
    ),
    flap: Type.Optional(FlapSchema),
  },
  { additionalProperties: false },
);

export type TlsOptions = Static<typeof TlsOptionsSchema>;
export type StatusMatcher = Static<typeof StatusMatcherSchema>;
export type JsonAssertion = Static<typeof JsonAssertionSchema>;
export type HeaderAssertion = Static<typeof HeaderAssertionSchema>;
export type HttpOptions = Static<typeof HttpOptionsSchema>;
export type TcpOptions = Static<typeof TcpOptionsSchema>;
export type DialogStepSpec = Static<typeof DialogStepSchema>;
export type WindowPolicy = Static<typeof WindowPolicySchema>;
export type ConsecutivePolicy = Static<typeof ConsecutivePolicySchema>;
export type PolicySpec = Static<typeof PolicySpecSchema>;
export type QuorumSpec = Static<typeof QuorumSpecSchema>;
export type FlapSpec = Static<typeof FlapSchema>;
export type CheckSpec = Static<typeof CheckSpecSchema>;
export type DnsOptions = Static<typeof DnsOptionsSchema>;
export type GrpcOptions = Static<typeof GrpcOptionsSchema>;
export type PushOptions = Static<typeof PushOptionsSchema>;
export { PushOptionsSchema };
