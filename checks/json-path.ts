// A small, strict JSON-path subset for equality assertions:
//   $                 the whole document
//   $.a.b             object members (identifier characters: letters, digits, _ and -)
//   $.list[0]         array index (non-negative integer)
//   $["any key"]      bracketed member name (JSON string syntax, double quotes)
// No wildcards, filters or recursive descent: a health check asserts one value at one place.
import { summarizeFound, type FoundSummary } from './result-detail';

export type PathSegment = string | number;

export class JsonPathError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'JsonPathError';
  }
}

const IDENT = /[A-Za-z0-9_-]/;

/** Parse a path; throws JsonPathError with the offset of the first bad character. */
export function parseJsonPath(path: string): PathSegment[] {
  if (path[0] !== '$') throw new JsonPathError('path must start with "$"', 0);
  const out: PathSegment[] = [];
  let i = 1;
  while (i < path.length) {
    const c = path[i];
    if (c === '.') {
      let j = i + 1;
      while (j < path.length && IDENT.test(path[j]!)) j++;
      if (j === i + 1) throw new JsonPathError('expected a member name after "."', i + 1);
      out.push(path.slice(i + 1, j));
      i = j;
    } else if (c === '[') {
      if (path[i + 1] === '"') {
        // Find the closing quote that is not escaped, then let JSON.parse decode escapes.
        let j = i + 2;
        while (j < path.length && path[j] !== '"') j += path[j] === '\\' ? 2 : 1;
        if (j >= path.length || path[j + 1] !== ']') throw new JsonPathError('unterminated ["..."] member', i);
        try {
          out.push(JSON.parse(path.slice(i + 1, j + 1)) as string);
        } catch {
          throw new JsonPathError('invalid string in ["..."] member', i + 1);
        }
        i = j + 2;
      } else {
        const m = /^\[(0|[1-9][0-9]{0,8})\]/.exec(path.slice(i));
        if (!m) throw new JsonPathError('expected [index] or ["name"]', i);
        out.push(Number(m[1]));
        i += m[0].length;
      }
    } else {
      throw new JsonPathError(`unexpected character ${JSON.stringify(c)}`, i);
    }
  }
  return out;
}

/** The value at `segments`, or `undefined` when any step is missing. */
export function lookupJsonPath(doc: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = doc;
  for (const seg of segments) {
    if (typeof seg === 'number') {
      if (!Array.isArray(cur) || seg >= cur.length) return undefined;
      cur = cur[seg];
    } else {
      if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, seg)) {
        return undefined;
      }
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return cur;
}

/** Deep equality on JSON values (objects compare by keys, not key order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * A spec's json assertion: the value at `path` must equal `equals`, or (with `notEquals`, whose
 * presence decides — its value may be null) must not equal `notEquals`: nothing at the path passes.
 */
export interface JsonAssertion {
  path: string;
  equals?: unknown;
  notEquals?: unknown;
}

/** Whether the assertion is the negated form (`notEquals` given, whatever its value). */
export function isNegated(a: JsonAssertion): boolean {
  return Object.hasOwn(a, 'notEquals');
}

/** What evaluating a body's json assertions found: all pass, the body is not JSON, or the first that failed. */
export type JsonAssertionResult =
  | { status: 'pass' }
  | { status: 'invalid' }
  /** `found`: a summary of the value at the path (undefined when nothing is there). */
  | { status: 'fail'; index: number; found?: FoundSummary };

/**
 * Parse `text` and evaluate the assertions in order. Costs what JSON.parse costs — up to ~0.2 s
 * for 1 MiB of a hostile shape (nested empty arrays) — so a node runs it in the body worker
 * (checks/body-worker.ts), never on the event loop. The found value leaves as a summary only.
 */
export function evaluateJsonAssertions(text: string, assertions: readonly JsonAssertion[]): JsonAssertionResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { status: 'invalid' };
  }
  for (let index = 0; index < assertions.length; index++) {
    const assertion = assertions[index]!;
    const actual = lookupJsonPath(doc, parseJsonPath(assertion.path));
    const passes = isNegated(assertion) ? actual === undefined || !jsonEqual(actual, assertion.notEquals) : jsonEqual(actual, assertion.equals);
    if (!passes) return actual === undefined ? { status: 'fail', index } : { status: 'fail', index, found: summarizeFound(actual) };
  }
  return { status: 'pass' };
}
