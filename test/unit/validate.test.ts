// CheckSpec validation: the fixture table (test/fixtures/specs, see its README), error-code
// coverage, and never-throws property checks over seeded random junk.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import { SpecErrorCode } from '../../checks/spec-error';
import { decodeSpecPayload, validateSpec, type SpecResult } from '../../checks/validate';
import { prng } from '../helpers/prng';
import { loadSpecFixtures, type SpecFixture } from '../helpers/spec-fixtures';

const DEFAULT_MAX_BYTES = 1024 * 1024; // NATS's default max_payload
const ALL_CODES: readonly string[] = Object.values(SpecErrorCode);

type Fixture = SpecFixture;

const load = (kind: 'valid' | 'invalid'): [string, Fixture][] => loadSpecFixtures(kind).map(([name, f]) => [`${kind}/${name}.json`, f]);

const valid = load('valid');
const invalid = load('invalid');

function bytesOf(f: Fixture): Uint8Array {
  let bytes: Buffer;
  if ('payload' in f) bytes = Buffer.from(JSON.stringify(f.payload), 'utf8');
  else if (f.rawPayload !== undefined) bytes = Buffer.from(f.rawPayload, 'utf8');
  else bytes = Buffer.from(f.rawPayloadBase64 ?? '', 'base64');
  return f.padBytes ? Buffer.concat([bytes, Buffer.alloc(f.padBytes, 0x20)]) : bytes;
}

function decode(f: Fixture): SpecResult {
  return decodeSpecPayload(bytesOf(f), f.subjectId, f.maxBytes ?? DEFAULT_MAX_BYTES);
}

/** Only payload fixtures without size games can also go straight to validateSpec. */
function directlyValidatable(f: Fixture): boolean {
  return 'payload' in f && f.padBytes === undefined && f.maxBytes === undefined;
}

function expectWellFormed(r: SpecResult): void {
  expect(typeof r.ok).toBe('boolean');
  if (r.ok) {
    expect(Object.getPrototypeOf(r.spec)).toBe(Object.prototype);
    expect(['http', 'tcp', 'dns', 'grpc', 'push']).toContain(r.spec.kind);
  } else {
    expect(ALL_CODES).toContain(r.error.code);
    expect(typeof r.error.message).toBe('string');
    expect(r.error.message.length).toBeGreaterThan(0);
    expect(typeof r.error.path).toBe('string');
  }
}

/** Every object/array reachable from `v`. */
function containers(v: unknown, out = new Set<object>()): Set<object> {
  if (v !== null && typeof v === 'object') {
    out.add(v);
    for (const x of Object.values(v)) containers(x, out);
  }
  return out;
}

describe('fixture files', () => {
  test('both directories hold fixtures', () => {
    expect(valid.length).toBeGreaterThan(10);
    expect(invalid.length).toBeGreaterThan(50);
  });

  test.each([...valid, ...invalid])('%s is well-formed', (name, f) => {
    expect(name).toMatch(/^(valid|invalid)\/[a-z0-9]+(-[a-z0-9]+)*\.json$/);
    expect(typeof f.rule).toBe('string');
    expect(f.rule.length).toBeGreaterThan(0);
    expect(typeof f.subjectId).toBe('string');
    const sources = ['payload' in f, f.rawPayload !== undefined, f.rawPayloadBase64 !== undefined].filter(Boolean);
    expect(sources).toHaveLength(1);
    if (name.startsWith('valid/')) {
      expect(f.expect).toBeUndefined();
      expect('payload' in f && f.padBytes === undefined && f.maxBytes === undefined).toBe(true);
    } else {
      expect(ALL_CODES).toContain(f.expect?.code);
      expect(typeof f.expect?.path).toBe('string');
    }
  });
});

describe('valid specs', () => {
  test.each(valid)('%s is accepted', (_name, f) => {
    const r = decode(f);
    if (!r.ok) throw new Error(`rejected: ${JSON.stringify(r.error)}`);
    // Same content (every known field kept, nothing defaulted), but a fresh copy.
    expect(r.spec).toEqual(f.payload);
    const inputObjects = containers(f.payload);
    for (const o of containers(r.spec)) expect(inputObjects.has(o)).toBe(false);

    const direct = validateSpec(f.payload, f.subjectId);
    expect(direct).toEqual(r);
    const again = validateSpec(r.spec, f.subjectId);
    expect(again).toEqual(r);
  });

  function accepted(name: string): CheckSpec {
    const f = valid.find(([n]) => n === `valid/${name}.json`)?.[1];
    if (!f) throw new Error(`no fixture ${name}`);
    const r = validateSpec(f.payload, f.subjectId);
    if (!r.ok) throw new Error(JSON.stringify(r.error));
    return r.spec;
  }

  test('a minimal http spec normalizes to the documented defaults', () => {
    const n = normalizeSpec('web-1', accepted('http-minimal'));
    expect(n).toMatchObject({ kind: 'http', intervalMs: 5000, timeoutMs: 2000, replicas: 1, labels: {} });
    expect(n.http).toMatchObject({ method: 'GET', headers: {}, expectStatus: ['2xx'], json: [], maxRedirects: 0, maxBodyBytes: 65536, reuseConnection: false, tls: { verify: true } });
    expect(n.policy).toEqual({ type: 'window', window: 8, threshold: 3, initial: 2, rise: 0, fall: 0, initialUp: false });
  });

  test('the shortest interval without a timeout normalizes to a timeout below it', () => {
    const n = normalizeSpec('web-1', accepted('interval-min'));
    expect(n.intervalMs).toBe(1000);
    expect(n.timeoutMs).toBe(999);
  });

  test('specs that leave their kind\'s options at the defaults share one frozen options object; set options get their own', () => {
    const a = normalizeSpec('a', { kind: 'tcp', target: '127.0.0.1:1' });
    const b = normalizeSpec('b', { kind: 'tcp', target: '127.0.0.1:2', tcp: {} });
    expect(a.tcp).toBe(b.tcp);
    expect(Object.isFrozen(a.tcp)).toBe(true);
    expect(a.tcp).toEqual({ dialog: [], maxBodyBytes: 65536 });
    expect(normalizeSpec('c', { kind: 'tcp', target: '127.0.0.1:3', tcp: { send: 'x' } }).tcp).toEqual({ dialog: [{ kind: 'send', data: 'x', at: 'tcp.send' }], maxBodyBytes: 65536 });
    const h = normalizeSpec('h', { kind: 'http', target: 'http://127.0.0.1/' });
    expect(h.http).toBe(normalizeSpec('i', { kind: 'http', target: 'http://127.0.0.1/', http: {} }).http);
    expect(h.http).toBe(a.http);
    expect(normalizeSpec('j', { kind: 'http', target: 'http://127.0.0.1/', http: { method: 'HEAD' } }).http.method).toBe('HEAD');
  });

  test('a consecutive policy and tcp options survive normalization', () => {
    const n = normalizeSpec('web-1', accepted('tcp-every-option'));
    expect(n.policy).toMatchObject({ type: 'consecutive', rise: 3, fall: 2, initialUp: true });
    expect(n.tcp).toEqual({
      tls: { verify: true, servername: 'mail.example.com' },
      dialog: [
        { kind: 'send', data: 'EHLO lookout\r\n', at: 'tcp.send' },
        { kind: 'expect', text: '250', at: 'tcp.expect' },
      ],
      maxLatencyMs: 4999,
      maxBodyBytes: 4096,
    });
  });
});

describe('invalid specs', () => {
  test.each(invalid)('%s is rejected', (_name, f) => {
    const r = decode(f);
    if (r.ok) throw new Error(`accepted: ${JSON.stringify(r.spec)}`);
    expect({ code: r.error.code, path: r.error.path }).toEqual(f.expect);
    expect(r.error.message.trim().length).toBeGreaterThan(0);
    if (directlyValidatable(f)) expect(validateSpec(f.payload, f.subjectId)).toEqual(r);
  });

  test('a bad regex names the syntax error', () => {
    const r = validateSpec({ kind: 'http', target: 'http://x/', http: { bodyRegex: '(a' } }, 'x');
    expect(!r.ok && r.error.message).toMatch(/http\.bodyRegex does not compile: missing closing \)/);
  });

  test.each([
    ['(?=up)', 'lookahead (?=...)'],
    ['(?<!not )up', 'negative lookbehind (?<!...)'],
    ['(a)\\1', 'backreferences'],
    ['a++', 'possessive quantifiers'],
  ])('an unsupported regex feature is named: %s', (bodyRegex, what) => {
    const r = validateSpec({ kind: 'http', target: 'http://x/', http: { bodyRegex } }, 'x');
    expect(r).toEqual({ ok: false, error: { code: 'unsupported', path: 'http.bodyRegex', message: expect.stringContaining(`http.bodyRegex uses ${what}`) } });
  });

  test('a lone surrogate is named with its position; a BOM is named', () => {
    const r = validateSpec({ kind: 'http', target: 'http://x/', labels: { env: 'ab\udc01' } }, 'x');
    expect(!r.ok && r.error).toEqual({ code: 'format', path: 'labels.env', message: 'labels.env contains a lone surrogate (U+DC01 at index 2); strings must be well-formed Unicode' });
    const bom = decodeSpecPayload(Buffer.from('\ufeff{"kind":"tcp","target":"db:1"}', 'utf8'), 'x', DEFAULT_MAX_BYTES);
    expect(!bom.ok && bom.error.message).toMatch(/byte order mark/);
  });

  test('60,000 expected statuses are refused before any entry is looked at', () => {
    const r = validateSpec({ kind: 'http', target: 'http://x/', http: { expectStatus: Array.from({ length: 60_000 }, () => 200) } }, 'x');
    expect(!r.ok && r.error).toEqual({ code: 'range', path: 'http.expectStatus', message: 'http.expectStatus must have at most 32 elements, got 60000' });
  });

  test.each([
    // spec fields, path → message
    [{ intervalMs: 5000, intervalWhileTransitioningMs: 5001 }, 'intervalWhileTransitioningMs', 'intervalWhileTransitioningMs (5001) must not exceed intervalMs (5000): it probes faster while the verdict changes, never slower'],
    [{ preset: 'high', intervalWhileTransitioningMs: 3000 }, 'intervalWhileTransitioningMs', 'intervalWhileTransitioningMs (3000) must not exceed intervalMs (2000, from preset high): it probes faster while the verdict changes, never slower'],
    [{ intervalMs: 10_000, intervalWhileTransitioningMs: 2000, timeoutMs: 2000 }, 'timeoutMs', 'timeoutMs (2000) must be less than intervalWhileTransitioningMs (2000)'],
    [{ intervalMs: 10_000, intervalWhileTransitioningMs: 4000, intervalWhileDownMs: 1500, timeoutMs: 2000 }, 'timeoutMs', 'timeoutMs (2000) must be less than intervalWhileDownMs (1500)'],
    [{ intervalWhileTransitioningMs: 1000, tcp: { maxLatencyMs: 999 } }, 'tcp.maxLatencyMs', 'tcp.maxLatencyMs (999) must be less than timeoutMs (999, intervalWhileTransitioningMs - 1); a slower probe already times out'],
  ])('state-dependent intervals: %j is refused at %s, naming the interval', (fields, path, message) => {
    const r = validateSpec({ kind: 'tcp', target: 'db.internal:5432', ...fields }, 'x');
    expect(!r.ok && r.error).toEqual({ code: 'conflict', path, message });
  });

  test('every error code the validator can emit has an invalid fixture, and no fixture expects another', () => {
    const checks = join(__dirname, '..', '..', 'checks');
    const files = readdirSync(checks).filter((f) => /^validate(-[a-z]+)*\.ts$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['validate.ts', 'validate-fields.ts']));
    const sources = files.map((f) => readFileSync(join(checks, f), 'utf8'));
    const emitted = new Set<string>();
    for (const src of sources) {
      // Every error is raised as fail('code', ...) or failure('code', ...) with a literal code;
      // a call with a computed code would escape this scan, so there must be none.
      expect(src.match(/(?<!function )\b(?:fail|failure)\((?!\s*')/g)).toBeNull();
      for (const m of src.matchAll(/\b(?:fail|failure)\(\s*'([a-z_]+)'/g)) emitted.add(m[1]!);
    }
    expect(emitted.size).toBeGreaterThan(5);
    for (const code of emitted) expect(ALL_CODES).toContain(code);
    const expected = new Set(invalid.map(([, f]) => f.expect!.code));
    expect([...expected].sort()).toEqual([...emitted].sort());
  });
});

// ---- never throws ----------------------------------------------------------------------------


const FIELD_NAMES = [
  'id', 'kind', 'target', 'intervalMs', 'intervalWhileTransitioningMs', 'intervalWhileDownMs', 'timeoutMs', 'replicas', 'quorum', 'labels', 'http', 'tcp', 'policy',
  'method', 'headers', 'body', 'expectStatus', 'bodyContains', 'bodyRegex', 'json', 'maxLatencyMs', 'tls',
  'maxRedirects', 'maxBodyBytes', 'reuseConnection', 'send', 'expect', 'verify', 'servername', 'minDaysLeft',
  'dns', 'server', 'expectRcode', 'answersContain', 'answersEqual', 'minAnswers', 'grpc', 'service', 'push', 'graceMs', 'token',
  'type', 'window', 'threshold', 'initial', 'rise', 'fall', 'up', 'path', 'equals', '__proto__', 'constructor', 'Host', '',
];
const STRINGS = [
  '', 'http', 'tcp', 'dns', 'grpc', 'push', 'abcdefghijklmnop', 'pkg.v1.Orders', 'A', 'MX', 'NXDOMAIN', '10 mx.example.com', 'window', 'consecutive', 'up', 'GET', 'HEAD', 'POST', '2xx', '9xx', '200', '$.a', '$[', '(', 'a\r\nb',
  'http://example.com/', 'https://u:p@x/', 'db:5432', '[::1]:80', 'web-1', '\u0000', '\ud800', 'x'.repeat(5000),
];
const NUMBERS = [0, -0, 1, -1, 0.5, 99, 100, 599, 1000, 2000, 3600000, 2 ** 53, 1e308, NaN, Infinity, -Infinity];

function exotic(rnd: () => number): unknown {
  const cyclic: Record<string, unknown> = { kind: 'http' };
  cyclic.self = cyclic;
  const options: (() => unknown)[] = [
    () => undefined,
    () => Symbol('s'),
    () => BigInt(7),
    () => () => 1,
    () => new Date(0),
    () => new Map([['kind', 'http']]),
    () => new (class Spec { kind = 'http'; target = 'http://x/'; })(),
    () => Object.assign(Object.create(null) as object, { kind: 'tcp', target: 'db:1' }),
    () => Object.defineProperty({}, 'kind', { enumerable: true, get: () => { throw new Error('boom'); } }),
    () => new Proxy({}, { getPrototypeOf: () => { throw new Error('trap'); }, ownKeys: () => { throw new Error('trap'); } }),
    () => cyclic,
    () => [, 200], // sparse
  ];
  return options[Math.floor(rnd() * options.length)]!();
}

function junk(rnd: () => number, depth = 0): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const r = rnd();
  if (r < 0.08) return null;
  if (r < 0.16) return rnd() < 0.5;
  if (r < 0.32) return rnd() < 0.7 ? pick(NUMBERS) : Math.floor(rnd() * 200000) - 1000;
  if (r < 0.5) return rnd() < 0.8 ? pick(STRINGS) : String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 12) }, () => Math.floor(rnd() * 0x10000)));
  if (r < 0.58) return exotic(rnd);
  if (depth > 4) return pick(STRINGS);
  if (r < 0.75) return Array.from({ length: Math.floor(rnd() * 5) }, () => junk(rnd, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 6) }, () => [pick(FIELD_NAMES), junk(rnd, depth + 1)]));
}

/** A valid fixture with one member somewhere replaced by junk or removed. */
function mutate(rnd: () => number, spec: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  const nodes = [...containers(copy)] as Record<string, unknown>[];
  const node = nodes[Math.floor(rnd() * nodes.length)]!;
  const keys = Object.keys(node);
  const key = keys.length > 0 && rnd() < 0.7 ? keys[Math.floor(rnd() * keys.length)]! : FIELD_NAMES[Math.floor(rnd() * FIELD_NAMES.length)]!;
  if (rnd() < 0.15) delete node[key];
  else Object.defineProperty(node, key, { value: junk(rnd, 2), enumerable: true, writable: true, configurable: true });
  return copy;
}

describe('validateSpec never throws', () => {
  const rnd = prng(0x10c0_0c7);

  test('on 400 random junk values', () => {
    for (let i = 0; i < 400; i++) {
      const value = junk(rnd);
      const subject = rnd() < 0.9 ? 'web-1' : (junk(rnd) as string);
      let r: SpecResult | undefined;
      expect(() => (r = validateSpec(value, subject))).not.toThrow();
      expectWellFormed(r!);
    }
  });

  test('on 600 valid specs with one member replaced by junk or removed', () => {
    let accepted = 0;
    for (let i = 0; i < 600; i++) {
      const [, f] = valid[Math.floor(rnd() * valid.length)]!;
      const value = mutate(rnd, f.payload);
      let r: SpecResult | undefined;
      expect(() => (r = validateSpec(value, f.subjectId))).not.toThrow();
      expectWellFormed(r!);
      if (r!.ok) {
        accepted++;
        // Whatever is accepted is plain JSON and accepted again unchanged.
        expect(JSON.parse(JSON.stringify(r!.spec))).toEqual(r!.spec);
        expect(validateSpec(r!.spec, f.subjectId)).toEqual(r);
      }
    }
    expect(accepted).toBeGreaterThan(0); // the mutations sometimes land on optional fields
  });

  test('decodeSpecPayload on 300 random and corrupted byte strings', () => {
    for (let i = 0; i < 300; i++) {
      let bytes: Uint8Array;
      if (rnd() < 0.5) {
        bytes = Uint8Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256));
      } else {
        const [, f] = valid[Math.floor(rnd() * valid.length)]!;
        bytes = bytesOf(f);
        bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
      }
      let r: SpecResult | undefined;
      expect(() => (r = decodeSpecPayload(bytes, 'web-1', DEFAULT_MAX_BYTES))).not.toThrow();
      expectWellFormed(r!);
    }
  });
});
