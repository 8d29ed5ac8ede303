// The assertions of an `http` section as validation sees them (used by validate-sections.ts):
// spec regexes (RE2 syntax, checks/regex.ts), json assertions (a path, and exactly one of equals
// and notEquals) and header assertions (a header name, and exactly one of matches, notMatches and
// present; allowMissing only with a regex). Each field is checked in schema order, then the rules
// between the fields of one assertion; every problem is a {code, message, path} SpecError.
import { parseJsonPath, JsonPathError } from './json-path';
import { regexProblem } from './regex';
import { HeaderAssertionSchema, JsonAssertionSchema, type HeaderAssertion, type JsonAssertion } from './spec-schema';
import { at, fail, jsonValue, object, show } from './validate-fields';
import { fields, flag, patternOf, text } from './validate-table';
import type { TString } from '@sinclair/typebox';

const HEADER_NAME = patternOf(HeaderAssertionSchema.properties.name);

/** RE2 syntax (checks/regex.ts): what RE2 lacks is `unsupported`, what parses nowhere is `format`. */
export function checkRegex(path: string, v: unknown, s: TString): string {
  const source = text(path, v, s);
  const problem = regexProblem(source, path);
  if (problem?.code === 'unsupported') fail('unsupported', path, problem.message);
  if (problem) fail('format', path, problem.message);
  return source;
}

export function checkJsonAssertion(path: string, v: unknown): JsonAssertion {
  const a = fields(path, object(path, v), JsonAssertionSchema, {
    path: (p, x, s) => {
      const jsonPath = text(p, x, s);
      try {
        parseJsonPath(jsonPath);
      } catch (e) {
        const why = e instanceof JsonPathError ? `${e.message} (at offset ${e.offset})` : 'unparsable';
        fail('format', p, `${show(jsonPath)} is not a supported JSON path: ${why}`);
      }
      return jsonPath;
    },
    equals: (p, x) => jsonValue(p, x),
    notEquals: (p, x) => jsonValue(p, x),
  });
  // `fields` keeps exactly the members present: presence, not the value (null is a value), decides.
  const has = (key: keyof JsonAssertion): boolean => Object.hasOwn(a, key);
  if (has('equals') && has('notEquals')) fail('conflict', at(path, 'notEquals'), `${path} has both equals and notEquals; give one`);
  if (!has('equals') && !has('notEquals')) fail('required', at(path, 'equals'), `${path} needs equals (the value the path must hold) or notEquals (one it must not)`);
  return a;
}

const HEADER_TESTS = ['matches', 'notMatches', 'present'] as const;

export function checkHeaderAssertion(path: string, v: unknown): HeaderAssertion {
  const h = fields(path, object(path, v), HeaderAssertionSchema, {
    name: (p, x, s) => {
      const name = text(p, x, s);
      if (!HEADER_NAME.test(name)) fail('format', p, `header name ${show(name)} is not a valid HTTP token (RFC 9110)`);
      return name;
    },
    matches: checkRegex,
    notMatches: checkRegex,
    present: flag,
    allowMissing: flag,
  });
  const tests = HEADER_TESTS.filter((k) => h[k] !== undefined);
  if (tests.length === 0) fail('required', at(path, 'matches'), `${path} needs one of matches, notMatches or present`);
  if (tests.length > 1) fail('conflict', at(path, tests[1]!), `${path} has both ${tests[0]} and ${tests[1]}; one test per assertion (add another assertion for the same header)`);
  if (h.present !== undefined && h.allowMissing !== undefined) {
    fail('conflict', at(path, 'allowMissing'), `${path}.allowMissing goes with matches or notMatches; present already says whether the header may be missing`);
  }
  return h;
}
