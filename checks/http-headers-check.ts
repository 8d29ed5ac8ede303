// `http.expectHeaders`: assertions on the final response's headers, checked after the status and
// before the body, in spec order; the first that fails is the probe's failure (reason `header`).
// As blackbox_exporter's fail_if_header_matches / fail_if_header_not_matches (`allow_missing`):
//
//   matches     some value of the header matches the regex     missing: fails, unless allowMissing
//   notMatches  no value of the header matches the regex       missing: fails, unless allowMissing
//   present     true: the header is there; false: it is not
//
// A header sent several times (Set-Cookie) is tested value by value. Regexes are RE2 syntax and run
// in the body worker like bodyRegex (checks/body-worker.ts), each within its budget: a header is at
// most undici's header-size limit, but a pattern whose automaton blows up would still stall the
// event loop. The messages name the header and the pattern, never a value: a value can carry
// anything (a session cookie), and LOOKOUT_RESULT_DETAIL bounds only previews of what was expected.
import type { Failure } from './failures';
import { reportOverrun, workStopped } from './body-work-stopped';
import type { BodyContext } from './http-body';
import { FailureReason } from './outcome';
import type { HeaderAssertion } from './spec-schema';

/** Response headers as undici gives them: lower-case names, a repeated header as an array. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Whether the spec asks anything of the headers that needs the body worker (to warm it early). */
export function headerRegexes(assertions: readonly HeaderAssertion[]): boolean {
  return assertions.some((a) => a.matches !== undefined || a.notMatches !== undefined);
}

/** The first header assertion that fails, or null. */
export async function checkHeaders(assertions: readonly HeaderAssertion[], headers: ResponseHeaders, c: BodyContext): Promise<Failure | null> {
  for (const assertion of assertions) {
    const failure = await checkOne(assertion, valuesOf(headers, assertion.name), c);
    if (failure) return failure;
  }
  return null;
}

function valuesOf(headers: ResponseHeaders, name: string): string[] {
  const v = headers[name.toLowerCase()];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

const fail = (message: string): Failure => ({ reason: FailureReason.header, message });

async function checkOne(a: HeaderAssertion, values: string[], c: BodyContext): Promise<Failure | null> {
  if (a.present !== undefined) {
    if (a.present && values.length === 0) return fail(`header ${a.name} is missing`);
    if (!a.present && values.length > 0) return fail(`header ${a.name} is present, and must not be`);
    return null;
  }
  if (values.length === 0) return a.allowMissing ? null : fail(`header ${a.name} is missing`);
  const negated = a.notMatches !== undefined;
  const pattern = (negated ? a.notMatches : a.matches)!;
  const matched = await anyMatches(pattern, values, negated ? 'notMatches' : 'matches', c);
  if (typeof matched !== 'boolean') return matched;
  const count = values.length === 1 ? '1 value' : `${values.length} values`;
  if (negated && matched) return fail(`header ${a.name} matches /${pattern}/ (${count})`);
  if (!negated && !matched) return fail(`header ${a.name} does not match /${pattern}/ (${count})`);
  return null;
}

/** Whether any value matches `pattern`, or the failure when the body worker gave no answer. */
async function anyMatches(pattern: string, values: string[], field: string, c: BodyContext): Promise<boolean | Failure> {
  for (const value of values) {
    const verdict = await c.env.bodyWorker.match(pattern, value, c.signal, c.wait);
    reportOverrun(c.env.onWorkerOverrun, 'expectHeaders', verdict);
    if (verdict.status === 'match') return true;
    if (verdict.status !== 'no_match') {
      return workStopped(verdict, FailureReason.header, `expectHeaders ${field} /${pattern}/`, value.length, 'simplify the pattern');
    }
  }
  return false;
}
