// Validation driven by the declarative schema (checks/spec-schema.ts). Which members an object
// may have, the order they are checked in, which are required, and each leaf's limits and
// allowed values are read from the schema objects, so the validator keeps no list of its own.
// What JSON Schema cannot say well (messages, cross-field rules, URL and regex syntax) stays in
// the per-field checks that validate.ts passes to `fields`.
//
// Every error is raised by the helpers of validate-fields.ts; nothing here calls `fail`.
import type { Static, TArray, TInteger, TLiteral, TObject, TRecord, TSchema, TString, TUnion } from '@sinclair/typebox';
import { array, at, bool, int, oneOf, onlyKnown, own, required, str, type Obj } from './validate-fields';

/**
 * The check of member `K` of the object schema `S`: it gets the member's path, its raw value,
 * its own schema (to read limits from) and the members already checked (the ones before it in
 * schema order), and returns the value with its proper type or throws a SpecError.
 */
export type FieldCheck<S extends TObject, K extends keyof S['properties']> = (
  path: string,
  v: unknown,
  field: S['properties'][K],
  before: Partial<Static<S>>,
) => Static<S['properties'][K]>;

/** One check per member of `S`, no more, no fewer: the compiler holds the validator to the schema. */
export type FieldChecks<S extends TObject> = { [K in keyof S['properties']]-?: FieldCheck<S, K> };

/**
 * Check the object `obj` at `path` against the object schema `schema`: unknown members first, in
 * the document's key order (`hint` may explain a near miss); then each member in schema order,
 * `required` when absent and listed as required (or as `absent` decides), else its check. The result holds exactly the
 * members present, in schema order.
 */
export function fields<S extends TObject>(
  path: string,
  obj: Obj,
  schema: S,
  checks: FieldChecks<S>,
  hint?: (key: string) => string | undefined,
  absent?: (key: string, p: string, partial: Partial<Static<S>>) => void,
): Static<S> {
  const known = Object.keys(schema.properties);
  onlyKnown(path, obj, known, hint);
  const out: Record<string, unknown> = {};
  for (const key of known) {
    const p = at(path, key);
    const v = own(obj, key);
    if (v === undefined) {
      if (schema.required?.includes(key)) required(p, v);
      // A member optional in the schema but required by an earlier one (target, by kind).
      absent?.(key, p, out as Partial<Static<S>>);
      continue;
    }
    const check = checks[key as keyof S['properties']] as FieldCheck<S, keyof S['properties']>;
    out[key] = check(p, v, schema.properties[key] as S['properties'][keyof S['properties']], out as Partial<Static<S>>);
  }
  return out as Static<S>;
}

// ---- leaves, with the limits their schema states ---------------------------------------------

/** A string within the schema's minLength..maxLength (UTF-16 code units), well-formed. */
export function text(path: string, v: unknown, s: TString): string {
  return str(path, v, s.minLength ?? 0, s.maxLength ?? Number.MAX_SAFE_INTEGER);
}

/** An integer within the schema's minimum..maximum. */
export function integer(path: string, v: unknown, s: TInteger): number {
  return int(path, v, s.minimum ?? Number.MIN_SAFE_INTEGER, s.maximum ?? Number.MAX_SAFE_INTEGER);
}

export function flag(path: string, v: unknown): boolean {
  return bool(path, v);
}

/** The values of a union of string literals, in schema order. */
export function literals<T extends string>(s: TUnion<TLiteral<T>[]>): T[] {
  return s.anyOf.map((l) => l.const);
}

/** One of the string literals the union allows. */
export function choice<T extends string>(path: string, v: unknown, s: TUnion<TLiteral<T>[]>): T {
  return oneOf(path, v, literals(s));
}

/** An array within the schema's minItems..maxItems; its elements are the caller's to check. */
export function list(path: string, v: unknown, s: TArray): unknown[] {
  return array(path, v, s.minItems ?? 0, s.maxItems);
}

/** A compiled schema pattern (`pattern` of a string schema). */
export function patternOf(s: { pattern?: string }): RegExp {
  if (s.pattern === undefined) throw new Error('the schema has no pattern');
  return new RegExp(s.pattern);
}

/** The parts of a map schema (labels, headers): its key pattern, its value schema and its size cap. */
export function mapParts<T extends TSchema>(s: TRecord<TString, T>): { key: RegExp; value: T; max: number } {
  const [[pattern, value]] = Object.entries(s.patternProperties) as [string, T][];
  return { key: new RegExp(pattern!), value: value!, max: s.maxProperties ?? Number.MAX_SAFE_INTEGER };
}
