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
//     4. id, kind, target, preset (enum), intervalMs, intervalWhileTransitioningMs (<= intervalMs),
//        intervalWhileDownMs, timeoutMs, timeoutMs < the shortest of the three intervals, replicas,
//        quorum, confirm, labels
//        (kind push: target, preset, state-dependent intervals, timeoutMs, replicas > 1 and confirm
//        true -> conflict; any other kind: target absent -> required, intervalMs over an hour ->
//        range (a push check's period may be 35 days); validate-push.ts)
//     5. http, tcp, dns, grpc, then push: present for another kind -> conflict; not an object -> not_object;
//        then inside the section: unknown fields, each field in schema order, then the section's
//        cross-field conflicts (validate-sections.ts)
//     6. policy: not_object; type (required/type/enum); fields of other types -> unknown_field;
//        then each field, with threshold and initial bounded by the effective window
//     7. degradedAfterMs: below the effective timeoutMs, then below the kind's maxLatencyMs
//     8. flap: not_object; unknown fields; low, high (0..100); then low < high (defaults filled)
//   Within every object the same pattern holds: unknown fields first, then the known fields in
//   the order of the schema's properties (checks/spec-schema.ts, read by `fields` in
//   validate-table.ts), then conflicts between them. Maps (labels, headers) and arrays
//   (expectStatus, json) are checked entry by entry in document order, after their size (every
//   list and map is capped: SPEC_LIMITS, carried by the schema). Every string must be
//   well-formed Unicode (no lone surrogate: `format`), checked after its length. A regex RE2
//   cannot run is `unsupported` (checks/regex.ts).
//
// Effective values for cross-field rules follow normalizeSpec, through the same functions
// (checks/spec-presets.ts): intervalMs defaults to the preset's or SPEC_DEFAULTS.intervalMs,
// timeoutMs to min(that timeout, shortest interval - 1), the window to the preset's or 8, method to GET.
// A message whose other side came from a preset names it ("intervalMs (2000, from preset high)").
// `preset` comes before intervalMs in schema order, so every rule that reads it sees it checked.
import type { TInteger } from '@sinclair/typebox';
import { CHECK_ID_PATTERN, SPEC_DEFAULTS } from './spec';
import {
  CheckSpecSchema,
  ConsecutivePolicySchema,
  PolicySpecSchema,
  QuorumAtLeastSchema,
  QuorumFractionSchema,
  QuorumSpecSchema,
  WindowPolicySchema,
  type CheckKind,
  type CheckSpec,
  type ConsecutivePolicy,
  type FlapSpec,
  type PolicySpec,
  type QuorumSpec,
  type WindowPolicy,
} from './spec-schema';
import { SpecError, type SpecErrorBody, type SpecErrorCode } from './spec-error';
import { effectiveInterval, effectiveTimeout, effectiveWindow, originNote, shortestIntervalField, timeoutNote, type PresetName } from './spec-presets';
import { checkDns, dnsNameProblem } from './validate-dns';
import { checkGrpc } from './validate-grpc';
import { checkPush, intervalRangeProblem, pushConflict } from './validate-push';
import { checkHttp, type TimeoutBound } from './validate-sections';
import { checkTcp } from './validate-tcp';
import { at, entries, fail, httpTargetProblem, object, oneOf, own, required, show, tcpTargetProblem, type Obj } from './validate-fields';
import type { TSchema } from '@sinclair/typebox';
import { choice, fields, flag, integer, mapParts, patternOf, text, type FieldCheck } from './validate-table';

export type SpecResult = { ok: true; spec: CheckSpec } | { ok: false; error: SpecErrorBody };

const LABELS = mapParts(CheckSpecSchema.properties.labels);
const TARGET_CHARACTERS = patternOf(CheckSpecSchema.properties.target);
const POLICY_TYPES = PolicySpecSchema.anyOf.map((s) => s.properties.type.const);
const QUORUM_TYPES = QuorumSpecSchema.anyOf.map((s) => s.properties.type.const);

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

type Spec = typeof CheckSpecSchema;

function checkSpec(raw: unknown, subjectId: string): CheckSpec {
  if (!isCheckId(subjectId)) fail('invalid_id', 'id', subjectIdMessage(subjectId));
  const noPush = <T>(field: Parameters<typeof pushConflict>[0], check: (path: string, v: unknown, s: never, spec: Partial<CheckSpec>) => T) =>
    (path: string, v: unknown, s: TSchema, spec: Partial<CheckSpec>): T => {
      const why = spec.kind === 'push' ? pushConflict(field, v) : undefined;
      if (why) fail('conflict', path, why);
      return check(path, v, s as never, spec);
    };
  const spec = fields('', object('', raw), CheckSpecSchema, {
    id: (path, v) => {
      if (typeof v !== 'string') fail('type', path, `id must be a string, got ${show(v)}`);
      if (v !== subjectId) fail('id_mismatch', path, `the spec's id ${show(v)} differs from the id in the subject ${show(subjectId)}`);
      return v;
    },
    kind: choice,
    target: noPush('target', (path, v, s, spec) => checkTarget(spec.kind!, text(path, v, s))),
    preset: noPush('preset', choice<PresetName>),
    intervalMs: (path, v, s, spec) => {
      const ms = integer(path, v, s);
      const why = intervalRangeProblem(spec.kind, ms);
      if (why) fail('range', path, why);
      return ms;
    },
    intervalWhileTransitioningMs: noPush('intervalWhileTransitioningMs', (path, v, s, spec) => {
      const ms = integer(path, v, s);
      const interval = effectiveInterval(spec);
      if (ms > interval) {
        fail('conflict', path, `intervalWhileTransitioningMs (${ms}) must not exceed intervalMs (${interval}${originNote(spec.intervalMs !== undefined, spec.preset)}): it probes faster while the verdict changes, never slower`);
      }
      return ms;
    }),
    intervalWhileDownMs: noPush('intervalWhileDownMs', integer),
    timeoutMs: noPush('timeoutMs', (path, v, s, spec) => {
      const timeout = integer(path, v, s);
      const shortest = shortestIntervalField(spec);
      if (timeout >= shortest.ms) {
        const note = shortest.field === 'intervalMs' ? originNote(spec.intervalMs !== undefined, spec.preset) : '';
        fail('conflict', path, `timeoutMs (${timeout}) must be less than ${shortest.field} (${shortest.ms}${note})`);
      }
      return timeout;
    }),
    replicas: noPush('replicas', integer),
    quorum: (path, v, _s, spec) => checkQuorum(path, v, spec.replicas ?? SPEC_DEFAULTS.replicas),
    confirm: noPush('confirm', (path, v, _s, spec) => checkConfirm(path, v, spec.replicas ?? SPEC_DEFAULTS.replicas)),
    labels: checkLabels,
    http: section('http', (path, v, spec) => checkHttp(path, v, spec.target!, timeoutBound(spec))),
    tcp: section('tcp', (path, v, spec) => checkTcp(path, v, timeoutBound(spec))),
    dns: section('dns', (path, v, spec) => checkDns(path, v, timeoutBound(spec))),
    grpc: section('grpc', (path, v, spec) => checkGrpc(path, v, timeoutBound(spec))),
    push: section('push', (path, v, spec) => checkPush(path, v, effectiveInterval(spec))),
    policy: (path, v, _s, spec) => checkPolicy(path, v, spec.preset),
    degradedAfterMs: noPush('degradedAfterMs', (path, v, s, spec) => checkDegradedAfter(path, integer(path, v, s), spec)),
    flap: (path, v, s) => checkFlap(path, fields(path, object(path, v), s, { low: integer, high: integer })),
  }, undefined, (key, path, spec) => {
    // Optional in the schema for kind push only (it has none): every other kind needs its target.
    if (key === 'target' && spec.kind !== 'push') fail('required', path, `target is required for a ${spec.kind} check`);
  });
  return spec;
}

/**
 * `degradedAfterMs` (protocol/published-verdict.ts) marks a passing probe slower than it: below
 * timeoutMs (a slower probe times out) and below the kind's maxLatencyMs (a slower one fails).
 */
function checkDegradedAfter(path: string, ms: number, spec: Partial<CheckSpec>): number {
  const timeout = timeoutBound(spec);
  if (ms >= timeout.ms) fail('conflict', path, `degradedAfterMs (${ms}) must be less than timeoutMs (${timeout.ms}${timeout.note}); a slower probe already times out`);
  const kind = spec.kind!;
  const bound = kind === 'push' ? undefined : spec[kind]?.maxLatencyMs;
  if (bound !== undefined && ms >= bound) {
    fail('conflict', path, `degradedAfterMs (${ms}) must be less than ${kind}.maxLatencyMs (${bound}); a slower probe already fails with reason latency`);
  }
  return ms;
}

/** `flap` (protocol/flapping.ts): low < high, each filled with its default when absent. */
function checkFlap(path: string, f: FlapSpec): FlapSpec {
  const low = f.low ?? SPEC_DEFAULTS.flapLow;
  const high = f.high ?? SPEC_DEFAULTS.flapHigh;
  if (low >= high) {
    const shown = (n: number, given: boolean) => `${n}${given ? '' : ', the default'}`;
    fail('conflict', at(path, f.low !== undefined ? 'low' : 'high'), `${path}.low (${shown(low, f.low !== undefined)}) must be less than ${path}.high (${shown(high, f.high !== undefined)}): flapping starts at high and ends at low`);
  }
  return f;
}

/** timeoutMs as normalizeSpec fills it, and where it came from (for a maxLatencyMs message). */
function timeoutBound(spec: Partial<CheckSpec>): TimeoutBound {
  return { ms: effectiveTimeout(spec), note: timeoutNote(spec) };
}

function checkTarget(kind: CheckKind, target: string): string {
  if (!TARGET_CHARACTERS.test(target)) fail('format', 'target', 'target must not contain spaces or control characters');
  const problem = kind === 'http' ? httpTargetProblem(target) : kind === 'dns' ? dnsNameProblem(target) : tcpTargetProblem(target);
  if (problem) fail('format', 'target', `target ${show(target)} is not a valid ${kind} target: ${problem}`);
  return target;
}

/** The `http` / `tcp` / `dns` / `grpc` section: only allowed for its own kind. */
function section<K extends CheckKind>(key: K, check: (path: string, v: unknown, spec: Partial<CheckSpec>) => CheckSpec[K]): FieldCheck<Spec, K> {
  return (path, v, _s, spec) => {
    if (key !== spec.kind) fail('conflict', path, `${key} options are only allowed for kind "${key}"; this check is kind "${spec.kind}"`);
    return check(path, v, spec) as ReturnType<FieldCheck<Spec, K>>;
  };
}

function checkLabels(path: string, v: unknown): Record<string, string> {
  return Object.fromEntries(
    entries(path, v, LABELS.max).map(([key, value]) => {
      const p = at(path, key);
      if (!LABELS.key.test(key)) fail('format', p, `label name ${show(key)} must match ${LABELS.key.source}`);
      return [key, text(p, value, LABELS.value)];
    }),
  );
}

// ---- quorum ----------------------------------------------------------------------------------

/**
 * `quorum` combines the vantages of a check with replicas > 1 (protocol/quorum.ts). With one
 * vantage there is nothing to combine: refused (`conflict`) rather than silently ignored, so a spec
 * says what runs. `atLeast.up` is at most replicas; `fraction.up` is in (0, 1].
 */
function checkQuorum(path: string, v: unknown, replicas: number): QuorumSpec {
  const o = object(path, v);
  const typePath = at(path, 'type');
  const type = oneOf(typePath, required(typePath, own(o, 'type')), QUORUM_TYPES);
  if (type === 'atLeast') {
    const upToReplicas = (p: string, x: unknown, s: TInteger): number => {
      const n = integer(p, x, s);
      if (n > replicas) fail('range', p, `${p} must not exceed replicas (${replicas}), got ${n}`);
      return n;
    };
    const q = fields(path, o, QuorumAtLeastSchema, { type: policyType, up: upToReplicas });
    if (replicas < 2) quorumNeedsReplicas(path, replicas);
    return q;
  }
  const fraction = (p: string, x: unknown): number => {
    if (typeof x !== 'number' || !Number.isFinite(x)) fail('type', p, `${p} must be a number, got ${show(x)}`);
    if (!(x > 0 && x <= 1)) fail('range', p, `${p} must be a fraction greater than 0 and at most 1, got ${x}`);
    return x;
  };
  const q = fields(path, o, QuorumFractionSchema, { type: policyType, up: fraction });
  if (replicas < 2) quorumNeedsReplicas(path, replicas);
  return q;
}

function quorumNeedsReplicas(path: string, replicas: number): never {
  fail('conflict', path, `quorum combines several vantages; this check has replicas ${replicas}${replicas === SPEC_DEFAULTS.replicas ? ' (the default)' : ''}: set replicas to 2 or more, or drop quorum`);
}

/** `confirm` asks another node before a single-vantage check goes down; replicas > 1 combine vantages instead. */
function checkConfirm(path: string, v: unknown, replicas: number): boolean {
  const on = flag(path, v);
  if (on && replicas > 1) fail('conflict', path, `confirm asks another node before a single-vantage check goes down; this check has replicas ${replicas}, whose vantages combine by quorum: drop confirm or set replicas to 1`);
  return on;
}

// ---- policy ----------------------------------------------------------------------------------

/** A consecutive policy replaces a preset's window policy as a whole; a window policy's fields win one by one. */
function checkPolicy(path: string, v: unknown, preset: PresetName | undefined): PolicySpec {
  const o = object(path, v);
  const typePath = at(path, 'type');
  const type = oneOf(typePath, required(typePath, own(o, 'type')), POLICY_TYPES);
  return type === 'window' ? windowPolicy(path, o, preset) : consecutivePolicy(path, o);
}

/** An unknown field that belongs to the other policy type says so. */
function otherPolicyHint(type: string, others: { properties: object }) {
  return (key: string) => (Object.hasOwn(others.properties, key) ? `${key} belongs to the ${type} policy` : undefined);
}

function windowPolicy(path: string, o: Obj, preset: PresetName | undefined): WindowPolicy {
  const upToWindow = (p: string, x: unknown, s: TInteger, policy: Partial<WindowPolicy>): number => {
    const n = integer(p, x, s);
    const size = effectiveWindow(policy, preset).window;
    if (n > size) fail('range', p, `${p} must not exceed the window (${size}${originNote(policy.window !== undefined, preset)}), got ${n}`);
    return n;
  };
  const checks = { type: policyType, window: integer, threshold: upToWindow, initial: upToWindow };
  return fields(path, o, WindowPolicySchema, checks, otherPolicyHint('consecutive', ConsecutivePolicySchema));
}

function consecutivePolicy(path: string, o: Obj): ConsecutivePolicy {
  const checks = { type: policyType, rise: integer, fall: integer, initial: choice };
  return fields(path, o, ConsecutivePolicySchema, checks, otherPolicyHint('window', WindowPolicySchema));
}

/** `type` was checked first (it picks the schema); its value is the schema's literal. */
function policyType<T extends string>(_path: string, _v: unknown, s: { const: T }): T {
  return s.const;
}
