// The CheckSpec schema as data (checks/spec-schema.ts) and the JSON Schema published from it
// (checks/spec-json-schema.ts):
//   1. the published document is well-formed draft 2020-12 and carries every limit;
//   2. it agrees with the validator: every valid fixture, example and the README's sample pass it,
//      every invalid fixture fails it except the listed ones JSON Schema cannot express, and on
//      random edits of valid specs it never refuses what the validator accepts;
//   3. the validator's fields are the schema's fields, in the same order, with the same limits.
// Specs are checked against the schema with TypeBox's Value.Check on the very object published.
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import type { TObject, TSchema } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { parseJsonPath } from '../../checks/json-path';
import { HTTP_METHODS, SPEC_DEFAULTS, SPEC_LIMITS } from '../../checks/spec';
import { CheckSpecDocumentSchema, specJsonSchema } from '../../checks/spec-json-schema';
import * as S from '../../checks/spec-schema';
import { validateSpec, type SpecResult } from '../../checks/validate';
import { hostnameProblem, httpTargetProblem, tcpTargetProblem } from '../../checks/validate-fields';
import { prng } from '../helpers/prng';
import { loadSpecFixtures, type SpecFixture } from '../helpers/spec-fixtures';

type Json = Record<string, any>;
const ROOT = join(__dirname, '..', '..');
const published = specJsonSchema();
const shape = (published.allOf as Json[])[0]!;
const accepts = (doc: unknown): boolean => Value.Check(CheckSpecDocumentSchema, doc);

/** Every subschema of `s` with its JSON pointer. */
function* subschemas(s: Json, at = ''): Generator<[string, Json]> {
  yield [at, s];
  for (const map of ['properties', 'patternProperties'] as const) {
    for (const [k, v] of Object.entries((s[map] ?? {}) as Json)) yield* subschemas(v, `${at}/${map}/${k}`);
  }
  for (const list of ['allOf', 'anyOf'] as const) for (const [i, v] of ((s[list] ?? []) as Json[]).entries()) yield* subschemas(v, `${at}/${list}/${i}`);
  for (const one of ['items', 'not', 'additionalProperties'] as const) if (typeof s[one] === 'object') yield* subschemas(s[one], `${at}/${one}`);
}

function pointer(doc: Json, p: string): Json {
  return p.split('/').slice(1).reduce((o, k) => o[k], doc);
}

// ---- 1. a well-formed JSON Schema carrying the limits -----------------------------------------

const KEYWORDS = new Set([
  '$schema', '$id', 'title', 'description', 'default', 'type', 'properties', 'required', 'additionalProperties', 'patternProperties',
  'items', 'minItems', 'maxItems', 'uniqueItems', 'maxProperties', 'minLength', 'maxLength', 'pattern', 'minimum', 'maximum', 'exclusiveMinimum', 'const', 'anyOf', 'allOf', 'not',
]);
const COUNTS = ['minItems', 'maxItems', 'maxProperties', 'minLength', 'maxLength'];
const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean', 'null'];

describe('the published JSON Schema', () => {
  test('names its dialect and itself, and is plain JSON', () => {
    expect(published).toMatchObject({ $schema: 'https://json-schema.org/draft/2020-12/schema', $id: 'urn:lookout:check-spec:v1', title: 'Lookout CheckSpec v1' });
    expect(JSON.parse(JSON.stringify(published))).toEqual(published);
    expect(specJsonSchema()).not.toBe(published); // a fresh copy per call
  });

  test('is what the tests below check specs against', () => {
    const { $schema: _s, $id: _i, title: _t, description: _d, ...body } = published;
    expect(body).toEqual(JSON.parse(JSON.stringify(CheckSpecDocumentSchema)));
  });

  test('uses only draft 2020-12 keywords, each well-formed; patterns are portable (no lookaround or backreference)', () => {
    for (const [at, s] of subschemas(published)) {
      for (const k of Object.keys(s)) if (!KEYWORDS.has(k)) throw new Error(`${at}: unexpected keyword ${k}`);
      if ('type' in s) expect(TYPES).toContain(s.type);
      for (const k of COUNTS) if (k in s) expect(Number.isSafeInteger(s[k]) && s[k] >= 0).toBe(true);
      if ('uniqueItems' in s) expect(s.uniqueItems).toBe(true);
      for (const k of ['minimum', 'maximum']) if (k in s) expect(typeof s[k]).toBe('number');
      if ('required' in s) {
        expect(new Set(s.required).size).toBe(s.required.length);
        for (const r of s.required) expect(Object.keys(s.properties ?? {})).toContain(r);
      }
      for (const k of ['anyOf', 'allOf']) if (k in s) expect(s[k].length).toBeGreaterThan(0);
      const patterns = [...('pattern' in s ? [s.pattern] : []), ...Object.keys(s.patternProperties ?? {})];
      for (const p of patterns) {
        expect(() => new RegExp(p, 'u')).not.toThrow(); // ECMA-262 with Unicode, as the spec reads it
        expect(p).not.toMatch(/\(\?<?[=!]|\(\?<|\\[1-9]|\\k</);
      }
    }
  });

  test('every object of the spec refuses unknown members, and every field has a description', () => {
    for (const [at, s] of subschemas(shape)) {
      if (s.type !== 'object') continue;
      expect([at, s.additionalProperties]).toEqual([at, false]);
      for (const [k, field] of Object.entries((s.properties ?? {}) as Json)) expect([`${at}/${k}`, typeof field.description]).toEqual([`${at}/${k}`, 'string']);
    }
  });

  test('every default is valid for its field', () => {
    let defaults = 0;
    for (const [at, s] of subschemas(CheckSpecDocumentSchema as Json)) {
      if (!('default' in s)) continue;
      defaults++;
      expect([at, Value.Check(s as TSchema, s.default)]).toEqual([at, true]);
    }
    expect(defaults).toBeGreaterThanOrEqual(12);
  });

  const H = '/properties/http/properties';
  const T = '/properties/tcp/properties';
  const W = '/properties/policy/anyOf/0/properties';
  const C = '/properties/policy/anyOf/1/properties';
  test.each([
    ['/properties/id', 'pattern', '^[A-Za-z0-9_-]{1,128}$'],
    ['/properties/target', 'maxLength', SPEC_LIMITS.stringMaxLength],
    ['/properties/intervalMs', 'minimum', SPEC_LIMITS.intervalMs.min],
    ['/properties/intervalMs', 'maximum', SPEC_LIMITS.pushPeriodMs.max],
    ['/properties/intervalMs', 'default', SPEC_DEFAULTS.intervalMs],
    ['/properties/timeoutMs', 'minimum', SPEC_LIMITS.timeoutMs.min],
    ['/properties/replicas', 'maximum', SPEC_LIMITS.replicas.max],
    ['/properties/labels', 'maxProperties', SPEC_LIMITS.labels.max],
    ['/properties/labels/patternProperties/^[A-Za-z0-9_.-]{1,64}$', 'maxLength', SPEC_LIMITS.labels.valueMaxLength],
    [`${H}/method`, 'anyOf', HTTP_METHODS.map((m) => ({ type: 'string', const: m }))],
    [`${H}/headers`, 'maxProperties', SPEC_LIMITS.headers.max],
    [`${H}/body`, 'maxLength', SPEC_LIMITS.bodyMaxLength],
    [`${H}/expectStatus`, 'maxItems', SPEC_LIMITS.expectStatus.max],
    [`${H}/expectStatus/items/anyOf/0`, 'maximum', 599],
    [`${H}/expectStatus/items/anyOf/1`, 'pattern', '^(1|2|3|4|5)xx$'],
    [`${H}/bodyRegex`, 'maxLength', SPEC_LIMITS.regexMaxLength],
    [`${H}/json`, 'maxItems', SPEC_LIMITS.jsonAssertions.max],
    [`${H}/maxRedirects`, 'maximum', SPEC_LIMITS.maxRedirects.max],
    [`${H}/maxBodyBytes`, 'maximum', SPEC_LIMITS.maxBodyBytes.max],
    [`${T}/send`, 'maxLength', SPEC_LIMITS.bodyMaxLength],
    [`${T}/maxBodyBytes`, 'maximum', SPEC_LIMITS.maxBodyBytes.max],
    [`${W}/window`, 'maximum', SPEC_LIMITS.window.max],
    [`${C}/rise`, 'maximum', SPEC_LIMITS.rise.max],
    [`${C}/fall`, 'maximum', SPEC_LIMITS.fall.max],
  ])('carries %s %s', (at, keyword, value) => {
    expect(pointer(shape, at)[keyword]).toEqual(value);
  });
});

// ---- 2. the schema and the validator agree ---------------------------------------------------

type Fixture = SpecFixture;

const fixtures = loadSpecFixtures;

/** The JSON document a fixture sends, or undefined when its bytes are not one (a JSON Schema has nothing to check). */
function documentOf(f: Fixture): { doc: unknown } | undefined {
  if ('payload' in f) return { doc: f.payload };
  try {
    const bytes = f.rawPayload !== undefined ? Buffer.from(f.rawPayload, 'utf8') : Buffer.from(f.rawPayloadBase64 ?? '', 'base64');
    return { doc: JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes)) };
  } catch {
    return undefined;
  }
}

const SUBJECT = 'the <id> of the subject is not part of the document';
const BYTES = 'a property of the bytes, not of the JSON document';
const COMPARE = 'compares two fields that are both given';
const REGEX = 'RE2 regex syntax';
const GROUPS = "the groups of the latest expectRegex before the send: their number and names are the compiled regex's";
const SURROGATE = 'a lone surrogate: JSON Schema works on Unicode text, which cannot hold one';
const URL_SYNTAX = 'URL or IP address syntax beyond the pattern';
const DNS_VALUE = "an expected answer's syntax, which depends on dns.type";
const NESTING = "bounds at every depth of an arbitrary JSON value (stated in the field's description)";

/** Invalid fixtures a JSON Schema cannot reject, and why. Every other invalid fixture must fail the schema. */
const PEM = 'PEM certificates that parse as X.509 (checks/tls-ca.ts)';
const NOT_EXPRESSIBLE: Record<string, string> = {
  'tls-ca-bad-der': PEM,
  'tls-ca-key-inside': PEM,
  'tls-ca-not-pem': PEM,
  'tls-ca-too-many': PEM,
  'subject-id-empty': SUBJECT,
  'subject-id-invalid': SUBJECT,
  'subject-id-too-long': SUBJECT,
  'id-mismatch': SUBJECT,
  'payload-bom': BYTES,
  'payload-empty': BYTES,
  'payload-invalid-utf8': BYTES,
  'payload-not-json': BYTES,
  'payload-overlong-utf8': BYTES,
  'payload-too-large': BYTES,
  'payload-too-large-padding': BYTES,
  'payload-truncated': BYTES,
  'timeout-not-below-interval': COMPARE,
  'timeout-not-below-transitioning-interval': COMPARE,
  'timeout-not-below-down-interval': COMPARE,
  'interval-while-transitioning-above-interval': COMPARE,
  'push-check-every-over-interval': COMPARE,
  'push-check-every-over-default-interval': 'compares with the default intervalMs, which JSON Schema could state per preset, but a push check has no preset: left to the validator',
  'max-latency-not-below-timeout-cut-by-transitioning': 'compares with timeoutMs cut to intervalWhileTransitioningMs - 1, which is given',
  'preset-max-latency-not-below-cut-timeout': 'compares with timeoutMs cut to intervalMs - 1, which is given',
  'quorum-up-above-replicas': COMPARE,
  'quorum-with-one-replica': COMPARE,
  'confirm-with-replicas': COMPARE,
  'http-max-latency-not-below-timeout': COMPARE,
  'tcp-max-latency-not-below-timeout': COMPARE,
  'policy-threshold-above-window': COMPARE,
  'policy-initial-above-window': COMPARE,
  'http-body-regex-bad': REGEX,
  'http-body-regex-backreference': REGEX,
  'http-body-regex-js-only-escape': REGEX,
  'http-body-regex-lookahead': REGEX,
  'http-body-regex-lookbehind': REGEX,
  'http-body-regex-possessive': REGEX,
  'http-body-not-regex-lookahead': REGEX,
  'http-expect-headers-matches-backreference': REGEX,
  'http-expect-headers-not-matches-bad': REGEX,
  'http-body-lone-surrogate': SURROGATE,
  'labels-value-lone-surrogate': SURROGATE,
  'tcp-send-lone-surrogate': SURROGATE,
  'tcp-dialog-expect-lone-surrogate': SURROGATE,
  'tcp-dialog-starttls-twice': 'counts the steps of one kind across a list (one starttls per dialog)',
  'tcp-dialog-expect-regex-bad': REGEX,
  'tcp-dialog-expect-regex-backreference': REGEX,
  'tcp-dialog-expect-regex-lookahead': REGEX,
  'tcp-dialog-send-group-out-of-range': GROUPS,
  'tcp-dialog-send-group-without-regex': GROUPS,
  'tcp-dialog-send-group-unknown-name': GROUPS,
  'http-json-equals-lone-surrogate': SURROGATE,
  'http-json-equals-key-lone-surrogate': SURROGATE,
  'http-target-bad-host': URL_SYNTAX,
  'http-target-credentials': URL_SYNTAX,
  'http-target-username-only': URL_SYNTAX,
  'http-target-port-zero': URL_SYNTAX,
  'http-tls-servername-ip': URL_SYNTAX,
  'tcp-target-bad-ipv4': URL_SYNTAX,
  'http-header-duplicate': 'header names repeated in another letter case',
  'http-json-equals-array-too-long': NESTING,
  'http-json-equals-object-too-many-members': NESTING,
  'http-json-equals-too-deep': NESTING,
  'http-json-not-equals-too-deep': NESTING,
  'dns-max-latency-not-below-timeout': COMPARE,
  'dns-target-ip': URL_SYNTAX,
  'dns-answers-value-a-not-ipv4': DNS_VALUE,
  'dns-answers-value-aaaa-ipv4': DNS_VALUE,
  'dns-answers-value-cname-bad': DNS_VALUE,
  'dns-answers-value-mx-bad': DNS_VALUE,
  'dns-answers-value-srv-port-range': DNS_VALUE,
  'grpc-max-latency-not-below-timeout': COMPARE,
  'grpc-tls-servername-ip': URL_SYNTAX,
  'degraded-after-not-below-timeout': COMPARE,
  'degraded-after-not-below-max-latency': COMPARE,
  'tls-degraded-days-left-not-above-min': COMPARE,
  'flap-low-not-below-high': COMPARE,
};

describe('the schema and the validator agree', () => {
  test.each(fixtures('valid'))('valid/%s passes the schema', (_name, f) => {
    expect([...Value.Errors(CheckSpecDocumentSchema, f.payload)].map((e) => `${e.path}: ${e.message}`)).toEqual([]);
  });

  test('every invalid fixture fails the schema, except exactly those JSON Schema cannot express', () => {
    const notRejected = fixtures('invalid')
      .filter(([, f]) => {
        const d = documentOf(f);
        return d === undefined || f.padBytes !== undefined || f.maxBytes !== undefined || accepts(d.doc);
      })
      .map(([name]) => name);
    expect(notRejected.sort()).toEqual(Object.keys(NOT_EXPRESSIBLE).sort());
  });

  const examples = readdirSync(join(ROOT, 'examples', 'specs')).filter((f) => ['.json', '.yaml', '.yml'].includes(extname(f)));
  test.each(examples)('examples/specs/%s passes the schema (DEMO_URL filled in)', (file) => {
    const text = readFileSync(join(ROOT, 'examples', 'specs', file), 'utf8').replaceAll('${DEMO_URL}', 'http://127.0.0.1:8080');
    const doc: unknown = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
    expect(validateSpec(doc, (doc as Json).id).ok).toBe(true);
    expect(accepts(doc)).toBe(true);
  });

  test("the README's CheckSpec example passes the schema", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const sample = /## CheckSpec v1[\s\S]*?```json\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(sample).toBeDefined();
    expect(accepts(JSON.parse(sample!))).toBe(true);
  });

  test("every spec in the README's CheckSpec section passes the validator and the schema; its sample results are JSON", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /\n## CheckSpec v1\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
    const blocks = [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Json);
    const specs = blocks.filter((b) => !('checkId' in b));
    expect(specs.map((b) => b.kind)).toEqual(expect.arrayContaining(['http', 'dns', 'grpc', 'push']));
    for (const doc of specs) {
      expect([doc.kind, validateSpec(doc, 'readme')]).toEqual([doc.kind, expect.objectContaining({ ok: true })]);
      expect([doc.kind, accepts(doc)]).toEqual([doc.kind, true]);
    }
    const results = blocks.filter((b) => 'checkId' in b);
    expect(results.map((r) => r.kind)).toContain('grpc');
    for (const r of results) expect(Object.keys(r)).toEqual(expect.arrayContaining(['checkId', 'ok', 'status', 'latencyMs', 'reason', 'node', 'at', 'epoch', 'seq']));
  });
});

// ---- random edits: the schema never refuses what the validator accepts -------------------------


const NAMES = [
  'id', 'kind', 'target', 'preset', 'intervalMs', 'intervalWhileTransitioningMs', 'intervalWhileDownMs', 'timeoutMs', 'replicas', 'labels', 'http', 'tcp', 'policy', 'method', 'headers', 'body',
  'expectStatus', 'bodyContains', 'bodyRegex', 'json', 'maxLatencyMs', 'tls', 'maxRedirects', 'cookies', 'maxBodyBytes', 'reuseConnection',
  'send', 'expect', 'verify', 'servername', 'minDaysLeft', 'dns', 'server', 'expectRcode', 'answersContain', 'answersEqual', 'minAnswers', 'grpc', 'service', 'push', 'graceMs', 'token', 'type', 'window', 'threshold', 'initial', 'rise', 'fall', 'path', 'equals', 'Host', 'X-A', 'x-a', 'env',
  'degradedAfterMs', 'degradedDaysLeft', 'flap', 'low', 'high',
];
const VALUES: unknown[] = [
  null, true, false, 0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 64, 65, 100, 200, 599, 999, 1000, 1999, 2000, 4999, 5000, 9999, 10000, 14999, 15000, 3600000, 2 ** 53, 1.5, -1, '', 'x', 'GET', 'HEAD',
  'low', 'medium', 'high',
  'POST', 'http', 'tcp', 'dns', 'grpc', 'push', 'abcdefghijklmnop', 'pkg.v1.Orders', 'A', 'SRV', 'NOERROR', 'NXDOMAIN', ['10.0.0.1'], ['10 mx.example.com'], 'window', 'consecutive', 'up', '2xx', '200', '$.a', '$[', '(a', 'a\r\n', 'web-1', 'db.internal:5432', '[::1]:80',
  '10.0.0.256:1', 'http://example.com/', 'https://example.com/', 'https://u@example.com/', 'example.com', '1.2.3.4', [], [200], ['2xx', 404],
  [{ path: '$', equals: 1 }], {}, { verify: false }, { 'X-A': 'b' }, { type: 'window', window: 4 },
];

function mutate(rnd: () => number, spec: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(spec)) as Json;
  const nodes: Json[] = [];
  const visit = (v: unknown) => {
    if (v !== null && typeof v === 'object') {
      nodes.push(v as Json);
      Object.values(v).forEach(visit);
    }
  };
  visit(copy);
  const node = nodes[Math.floor(rnd() * nodes.length)]!;
  const keys = Object.keys(node);
  const key = keys.length > 0 && rnd() < 0.6 ? keys[Math.floor(rnd() * keys.length)]! : NAMES[Math.floor(rnd() * NAMES.length)]!;
  // An array loses an element (a hole would not be JSON).
  if (rnd() < 0.15) {
    if (Array.isArray(node) && /^\d+$/.test(key)) (node as unknown[]).splice(Number(key), 1);
    else delete (node as Json)[key];
  }
  else node[key] = JSON.parse(JSON.stringify(VALUES[Math.floor(rnd() * VALUES.length)]));
  return copy;
}

/** Why the schema could not have refused what the validator did, or undefined. */
function notExpressible(e: { code: string; path: string; message: string }): string | undefined {
  if (e.code === 'format' && /^dns\.answers(Contain|Equal)\[\d+\]$/.test(e.path)) return DNS_VALUE;
  if (e.code === 'conflict' && /^(timeoutMs|(http|tcp|dns|grpc)\.maxLatencyMs)$/.test(e.path) && / must be less than /.test(e.message)) return COMPARE;
  if (e.code === 'conflict' && e.path === 'degradedAfterMs' && / must be less than /.test(e.message)) return COMPARE;
  if (e.code === 'conflict' && e.path === 'intervalWhileTransitioningMs' && /must not exceed intervalMs \(\d+\)/.test(e.message)) return COMPARE;
  if (e.code === 'conflict' && /^(http|tcp|grpc)\.tls\.degradedDaysLeft$/.test(e.path) && / must be more than /.test(e.message)) return COMPARE;
  if (e.code === 'conflict' && /^flap\.(low|high)$/.test(e.path) && !/the default/.test(e.message)) return COMPARE;
  if (e.code === 'range' && /must not exceed the window \(\d+\)/.test(e.message)) return COMPARE;
  if (e.code === 'conflict' && e.path === 'push.checkEveryMs' && / must not exceed intervalMs /.test(e.message)) return COMPARE;
  if (e.code === 'range' && /must not exceed replicas \(\d+\)/.test(e.message)) return COMPARE;
  if (e.code === 'conflict' && e.path === 'quorum') return COMPARE;
  if (e.code === 'format' && /^(target|(http|tcp|grpc)\.tls\.servername)$/.test(e.path)) return URL_SYNTAX;
  if ((e.code === 'format' || e.code === 'unsupported') && /^http\.(?:bodyRegex|bodyNotRegex|expectHeaders\[\d+\]\.(?:matches|notMatches))$/.test(e.path)) return REGEX;
  if ((e.code === 'format' || e.code === 'unsupported') && /^tcp\.dialog\[\d+\]\.expectRegex$/.test(e.path)) return REGEX;
  if (e.code === 'conflict' && /^tcp\.dialog\[\d+\]\.send$/.test(e.path) && / uses \$\{/.test(e.message)) return GROUPS;
  if (e.code === 'conflict' && /repeats .* case-insensitive/.test(e.message)) return 'a repeated header name';
  if (e.code === 'id_mismatch') return SUBJECT;
  if (e.code === 'format' && /^(http|tcp)\.tls\.ca$/.test(e.path)) return PEM;
  if (e.code === 'conflict' && /^tcp\.dialog\[\d+\]\.starttls$/.test(e.path)) return 'one starttls per dialog';
  if (e.code === 'range' && /^http\.json\[\d+\]\.(?:equals|notEquals)/.test(e.path)) return NESTING;
  if (e.code === 'format' && / contains a lone surrogate /.test(e.message)) return SURROGATE;
  return undefined;
}

test('on 4000 random edits of valid specs: what the validator accepts the schema accepts, and what only the validator refuses is not expressible', () => {
  const rnd = prng(0x5c4e_3a);
  const valid = fixtures('valid');
  const seen = { accepted: 0, refusedByBoth: 0, onlyValidator: 0 };
  for (let i = 0; i < 4000; i++) {
    const [name, f] = valid[Math.floor(rnd() * valid.length)]!;
    let doc = f.payload;
    for (let n = 1 + Math.floor(rnd() * 2); n > 0; n--) doc = mutate(rnd, doc);
    const r = validateSpec(doc, f.subjectId);
    const schema = accepts(doc);
    if (r.ok) {
      seen.accepted++;
      if (!schema) throw new Error(`the schema refuses what the validator accepts (from ${name}): ${JSON.stringify(doc)}`);
    } else if (!schema) seen.refusedByBoth++;
    else {
      seen.onlyValidator++;
      if (!notExpressible(r.error)) throw new Error(`the schema accepts ${JSON.stringify(doc)} (from ${name}), the validator says ${JSON.stringify(r.error)}`);
    }
  }
  expect(seen.accepted).toBeGreaterThan(300);
  expect(seen.refusedByBoth).toBeGreaterThan(1000);
});

// ---- patterns agree with the code that has the messages ----------------------------------------

function randomString(rnd: () => number, alphabet: string, max: number): string {
  return Array.from({ length: Math.floor(rnd() * (max + 1)) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
}

describe('patterns', () => {
  const rnd = prng(42);
  const matches = (pattern: string, s: string) => new RegExp(pattern, 'u').test(s);

  test('jsonPath matches exactly the paths parseJsonPath accepts (20,000 random strings)', () => {
    const parses = (p: string) => {
      try {
        parseJsonPath(p);
        return true;
      } catch {
        return false;
      }
    };
    const samples = ['$', '$.a', '$.a-b_1', '$[0]', '$[01]', '$[123456789]', '$[1234567890]', '$["a.b"]', '$["\\u00e9"]', '$["\\x"]', '$["a"]b', '$.', '$[', 'a', ''];
    for (let i = 0; i < 20000; i++) samples.push('$' + randomString(rnd, '.[]"\\a0-1_u/b', 10));
    for (const p of samples) expect([p, matches(S.SPEC_PATTERNS.jsonPath, p)]).toEqual([p, parses(p)]);
  });

  test('tcpTarget, hostName and httpTarget accept whatever the validator accepts (20,000 random strings each)', () => {
    for (let i = 0; i < 20000; i++) {
      const t = randomString(rnd, 'a0159.-_:[]%fF', 14);
      if (tcpTargetProblem(t) === undefined) expect([t, matches(S.SPEC_PATTERNS.tcpTarget, t)]).toEqual([t, true]);
      if (hostnameProblem(t) === undefined) expect([t, matches(S.SPEC_PATTERNS.hostName, t)]).toEqual([t, true]);
      const u = randomString(rnd, 'hHtTpPsS:/\\a.1@', 12);
      if (httpTargetProblem(u) === undefined) expect([u, matches(S.SPEC_PATTERNS.httpTarget, u)]).toEqual([u, true]);
    }
    expect(matches(S.SPEC_PATTERNS.tcpTarget, 'db.internal:00080')).toBe(tcpTargetProblem('db.internal:00080') === undefined);
    for (const bad of ['db:0', 'db:65536', 'db:000000', '[::1]', 'db..x:1', 'a:b:1']) expect([bad, matches(S.SPEC_PATTERNS.tcpTarget, bad)]).toEqual([bad, false]);
  });
});

// ---- 3. the validator's fields are the schema's fields, with its limits ------------------------

interface Position {
  /** The object's path in validator notation. */
  path: string;
  schema: TObject;
  /** A valid spec with `members` in the object at `path`. */
  spec: (members: Json) => Json;
}

const HTTP = { kind: 'http', target: 'https://example.com/' };
const TCP = { kind: 'tcp', target: 'db.internal:5432' };
const DNS = { kind: 'dns', target: 'app.example.com' };
const GRPC = { kind: 'grpc', target: 'health.internal:50051' };
const PUSH = { kind: 'push' };
const POSITIONS: Position[] = [
  { path: '', schema: S.CheckSpecSchema, spec: (m) => ({ ...HTTP, ...m }) },
  { path: 'http', schema: S.HttpOptionsSchema, spec: (m) => ({ ...HTTP, http: m }) },
  { path: 'http.tls', schema: S.TlsOptionsSchema, spec: (m) => ({ ...HTTP, http: { tls: m } }) },
  { path: 'http.json[0]', schema: S.JsonAssertionSchema, spec: (m) => ({ ...HTTP, http: { json: [{ path: '$', equals: 1, ...m }] } }) },
  { path: 'http.expectHeaders[0]', schema: S.HeaderAssertionSchema, spec: (m) => ({ ...HTTP, http: { expectHeaders: [{ name: 'x', present: true, ...m }] } }) },
  { path: 'tcp', schema: S.TcpOptionsSchema, spec: (m) => ({ ...TCP, tcp: m }) },
  { path: 'tcp.tls', schema: S.TlsOptionsSchema, spec: (m) => ({ ...TCP, tcp: { tls: m } }) },
  { path: 'tcp.dialog[0]', schema: S.DialogStepSchema, spec: (m) => ({ ...TCP, tcp: { dialog: [{ ...(Object.keys(m).some((k) => k !== 'zzUnknown') ? {} : { send: 'x' }), ...m }] } }) },
  { path: 'dns', schema: S.DnsOptionsSchema, spec: (m) => ({ ...DNS, dns: m }) },
  { path: 'grpc', schema: S.GrpcOptionsSchema, spec: (m) => ({ ...GRPC, grpc: m }) },
  { path: 'grpc.tls', schema: S.TlsOptionsSchema, spec: (m) => ({ ...GRPC, grpc: { tls: m } }) },
  { path: 'push', schema: S.PushOptionsSchema, spec: (m) => ({ ...PUSH, push: m }) },
  { path: 'policy', schema: S.WindowPolicySchema, spec: (m) => ({ ...TCP, policy: { type: 'window', window: 64, ...m } }) },
  { path: 'policy', schema: S.ConsecutivePolicySchema, spec: (m) => ({ ...TCP, policy: { type: 'consecutive', ...m } }) },
  { path: 'quorum', schema: S.QuorumAtLeastSchema, spec: (m) => ({ ...TCP, replicas: 5, quorum: { type: 'atLeast', up: 2, ...m } }) },
  { path: 'quorum', schema: S.QuorumFractionSchema, spec: (m) => ({ ...TCP, replicas: 5, quorum: { type: 'fraction', up: 0.5, ...m } }) },
  { path: 'flap', schema: S.FlapSchema, spec: (m) => ({ ...TCP, flap: m }) },
];
const at = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);
const errorOf = (r: SpecResult) => (r.ok ? undefined : r.error);

describe('the validator knows exactly the schema', () => {
  test('the positions below cover every object schema of the spec', () => {
    const members = (s: Json) => Object.keys(s.properties).join(',');
    const objects = new Set<string>();
    for (const [, s] of subschemas(shape)) if (s.type === 'object' && s.properties) objects.add(members(s));
    expect(new Set(POSITIONS.map((p) => members(p.schema)))).toEqual(objects);
    for (const p of POSITIONS) expect(validateSpec(p.spec({}), 'web-1')).toMatchObject({ ok: true });
  });

  test.each(POSITIONS.map((p) => [p.path || '(top)', (p.schema.properties.type as Json)?.const ?? '', p] as const))(
    'at %s %s: the fields the validator allows, in its order, are the schema properties',
    (_path, _type, { path, schema, spec }) => {
      const e = errorOf(validateSpec(spec({ zzUnknown: 1 }), 'web-1'));
      expect(e).toMatchObject({ code: 'unknown_field', path: at(path, 'zzUnknown') });
      const allowed = /allowed fields(?: in [^:]+)?: ([^)]*)\)$/.exec(e!.message)?.[1]?.split(', ');
      expect(allowed).toEqual(Object.keys(schema.properties));
    },
  );

  test.each(POSITIONS.flatMap((p) => Object.keys(p.schema.properties).map((k) => [at(p.path, k), p, k] as const)))(
    '%s is checked by the validator (null there is an error at that path, or a valid value)',
    (path, position, key) => {
      const e = errorOf(validateSpec(position.spec({ [key]: null }), 'web-1'));
      if (e) expect([e.path, e.code === 'unknown_field']).toEqual([path, false]);
    },
  );

  /** Element and entry makers for the arrays and maps of the spec. */
  const ITEMS: Record<string, unknown> = { 'http.expectStatus': 200, 'http.json': { path: '$', equals: 1 }, 'http.expectHeaders': { name: 'x', present: true }, 'dns.answersContain': '10.0.0.1', 'dns.answersEqual': '10.0.0.1', 'tcp.dialog': { send: 'x' } };
  const ENTRY: Record<string, (i: number) => string> = { labels: (i) => `k${i}`, 'http.headers': (i) => `X-H${i}` };
  const filled = (path: string, n: number): unknown =>
    path in ENTRY ? Object.fromEntries(Array.from({ length: n }, (_, i) => [ENTRY[path]!(i), 'v'])) : Array.from({ length: n }, () => ITEMS[path]);

  /** [path, position, key, value, in bounds?] for each limit the schema states on a field. */
  const bounds = POSITIONS.flatMap(({ path, schema, spec }) =>
    Object.entries(schema.properties as Record<string, Json>).flatMap(([key, s]) => {
      const p = at(path, key);
      const cases: [unknown, boolean][] = [];
      if (s.type === 'integer') cases.push([s.minimum, true], [s.maximum, true], [s.minimum - 1, false], [s.maximum + 1, false]);
      if (s.type === 'string' && s.pattern === undefined && s.const === undefined) {
        cases.push(['a'.repeat(s.maxLength), true], ['a'.repeat(s.maxLength + 1), false]);
        if (s.minLength) cases.push(['a'.repeat(s.minLength), true], ['a'.repeat(s.minLength - 1), false]);
      }
      if (s.type === 'array') cases.push([filled(p, s.maxItems), true], [filled(p, s.maxItems + 1), false], [filled(p, s.minItems ?? 0), true]);
      if (s.type === 'array' && s.minItems) cases.push([filled(p, s.minItems - 1), false]);
      if (s.type === 'object' && s.patternProperties) {
        const value = Object.values(s.patternProperties as Record<string, Json>)[0]!;
        cases.push([filled(p, s.maxProperties), true], [filled(p, s.maxProperties + 1), false]);
        cases.push([{ [ENTRY[p]!(0)]: 'v'.repeat(value.maxLength) }, true], [{ [ENTRY[p]!(0)]: 'v'.repeat(value.maxLength + 1) }, false]);
      }
      // The schema's intervalMs maximum is a push check's period; every other kind's (an hour) is a
      // rule of its own (validate-push.ts intervalRangeProblem, fixtures interval-too-large and the like).
      const of = p === 'intervalMs' ? (m: Record<string, unknown>) => ({ ...PUSH, ...m }) : spec;
      return cases.map(([v, ok]) => [p, of({ [key]: v }), ok, JSON.stringify(v).slice(0, 40)] as const);
    }),
  );

  test('every field with a limit is probed, except strings with a pattern (their fixtures cover them)', () => {
    const LIMITS = ['minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'maxProperties'];
    const limited = POSITIONS.flatMap(({ path, schema }) =>
      Object.entries(schema.properties as Record<string, Json>).filter(([, s]) => LIMITS.some((k) => k in s)).map(([k]) => at(path, k)),
    );
    const probed = new Set(bounds.map(([p]) => p));
    expect(limited.filter((p) => !probed.has(p)).sort()).toEqual([
      'dns.server',
      'grpc.service',
      'grpc.tls.servername',
      'http.expectHeaders[0].name',
      'http.host',
      'http.json[0].path',
      'http.tls.servername',
      'push.token',
      'target',
      'tcp.tls.servername',
    ]);
    expect(probed.size).toBe(54);
  });

  test.each(bounds.map(([p, doc, ok, shown]) => [p, ok ? 'accepts' : 'refuses', shown, doc] as const))(
    '%s: the validator %s %s as the schema does',
    (path, verdict, _shown, doc) => {
      const e = errorOf(validateSpec(doc, 'web-1'));
      const rangeErrorHere = e !== undefined && e.code === 'range' && e.path.startsWith(path);
      expect(rangeErrorHere).toBe(verdict === 'refuses');
      if (verdict === 'refuses') expect(accepts(doc)).toBe(false);
    },
  );
});
