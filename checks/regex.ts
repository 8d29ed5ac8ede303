// Spec regexes (`http.bodyRegex`) are RE2 syntax, run by re2js: a linear-time engine, so no
// pattern can backtrack exponentially (`^(a+)+$` on 10 KiB of "a" + "!" takes well under a
// millisecond instead of forever). RE2 has no backreferences, lookaround, atomic groups or
// possessive quantifiers — the features that need backtracking. This file decides whether a
// pattern is acceptable; checks/body-worker.ts runs the matches off the event loop. Pure.
//
// A pattern RE2 rejects gets one of two answers:
//   unsupported  valid JavaScript, but a feature RE2 lacks; the message names the feature
//   format       not a regex in either syntax (an unclosed group, a dangling quantifier)
import { RE2JS } from 're2js';

export interface RegexProblem {
  code: 'unsupported' | 'format';
  message: string;
}

/** What RE2 lacks, by the syntax that asks for it (checked in this order, outside classes). */
const UNSUPPORTED: readonly { syntax: RegExp; what: string }[] = [
  { syntax: /^\(\?=/, what: 'lookahead (?=...)' },
  { syntax: /^\(\?!/, what: 'negative lookahead (?!...)' },
  { syntax: /^\(\?<=/, what: 'lookbehind (?<=...)' },
  { syntax: /^\(\?<!/, what: 'negative lookbehind (?<!...)' },
  { syntax: /^\(\?>/, what: 'atomic groups (?>...)' },
  { syntax: /^\\[1-9]/, what: 'backreferences (\\1 ... \\9)' },
  { syntax: /^\\k</, what: 'named backreferences (\\k<name>)' },
  { syntax: /^\\u/, what: '\\u escapes (write \\x{hex} instead, e.g. \\x{e9})' },
  { syntax: /^\\c[A-Za-z]/, what: 'control escapes \\cX (write \\x{hex} instead)' },
];

const COUNTED_REPEAT = /\{[0-9]+(?:,[0-9]*)?\}/y;

/**
 * The first construct in `source` that JavaScript (or PCRE) accepts and RE2 does not, or
 * undefined. A small scanner: it skips escapes and character classes, so `[(?=]` and `\(?=` are
 * literals, and it tracks whether the previous token was a quantifier, so `a++` is possessive
 * while `a+?` (lazy) and `\++` (a literal plus, repeated) are not.
 */
export function unsupportedConstruct(source: string): string | undefined {
  let inClass = false;
  let afterQuantifier = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const rest = source.slice(i, i + 4);
    if (c === '\\') {
      if (!inClass) {
        const hit = UNSUPPORTED.find((u) => u.syntax.test(rest));
        if (hit) return hit.what;
      }
      i++; // the escaped character is never syntax
      afterQuantifier = false;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '*' || c === '+' || c === '?') {
      if (afterQuantifier && c === '+') return 'possessive quantifiers (a++, a*+, a?+, a{n}+)';
      afterQuantifier = !afterQuantifier; // `?` after a quantifier makes it lazy, and ends it
      continue;
    }
    COUNTED_REPEAT.lastIndex = i;
    const counted = c === '{' ? COUNTED_REPEAT.exec(source) : null;
    if (counted) {
      i += counted[0].length - 1;
      afterQuantifier = true;
      continue;
    }
    afterQuantifier = false;
    if (c === '[') {
      inClass = true;
      if (source[i + 1] === '^') i++;
      if (source[i + 1] === ']') i++; // a leading ] is a literal in RE2
    } else if (c === '(') {
      const hit = UNSUPPORTED.find((u) => u.syntax.test(rest));
      if (hit) return hit.what;
    }
  }
  return undefined;
}

/** Where a pattern was found wanting, for messages: "http.bodyRegex". */
function problemOf(source: string, path: string): RegexProblem | undefined {
  const what = unsupportedConstruct(source);
  if (what) {
    return { code: 'unsupported', message: `${path} uses ${what}, which RE2 does not support: regexes run on a linear-time engine (RE2 syntax) so no pattern can stall a node` };
  }
  try {
    RE2JS.compile(source);
    return undefined;
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^error parsing regexp: /, '') : 'invalid regular expression';
    if (jsAccepts(source)) {
      return { code: 'unsupported', message: `${path} is valid JavaScript but not RE2 syntax: ${why} (regexes run on a linear-time engine, RE2 syntax)` };
    }
    return { code: 'format', message: `${path} does not compile: ${why}` };
  }
}

/** Compiling (not running) a JavaScript regex only parses it: safe on any input. */
function jsAccepts(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

/** Distinct patterns whose verdict is remembered: specs repeat patterns, and nodes validate every spec. */
export const REGEX_VERDICT_CACHE_LIMIT = 1024;
const verdicts = new Map<string, RegexProblem | null>();

/**
 * Why `source` cannot be a spec regex, or undefined when it can. `path` names the field in the
 * message. Compiling costs ~0.05 ms for a typical pattern and a few ms for the largest
 * (BENCHMARKS.md §6), so verdicts are cached (bounded, least recently used first out).
 */
export function regexProblem(source: string, path: string): RegexProblem | undefined {
  const key = `${path}\u0000${source}`;
  const cached = verdicts.get(key);
  if (cached !== undefined) {
    verdicts.delete(key); // refresh: most recently used goes last
    verdicts.set(key, cached);
    return cached ?? undefined;
  }
  const problem = problemOf(source, path) ?? null;
  if (verdicts.size >= REGEX_VERDICT_CACHE_LIMIT) verdicts.delete(verdicts.keys().next().value!);
  verdicts.set(key, problem);
  return problem ?? undefined;
}

/** How many verdicts are cached (for the test of the bound). */
export function cachedRegexVerdicts(): number {
  return verdicts.size;
}

/** The capturing groups of a valid spec regex: how many (group 0, the whole match, not counted) and their names. */
export interface RegexGroups {
  count: number;
  names: readonly string[];
}

/** The groups of `source`, which regexProblem accepted (compiled again: validation only, ~0.05 ms). */
export function regexGroups(source: string): RegexGroups {
  const re = RE2JS.compile(source);
  return { count: re.groupCount(), names: Object.keys(re.namedGroups()) };
}
