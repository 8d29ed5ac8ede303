// Expected HTTP status sets: exact codes (200) and classes ("2xx").
import { StatusMatcherSchema, type StatusMatcher } from './spec-schema';

/** "1xx".."5xx": the pattern of the status-class member of the schema's StatusMatcher. */
export const STATUS_CLASS_PATTERN = new RegExp(StatusMatcherSchema.anyOf[1].pattern);

export function statusMatches(status: number, expected: readonly StatusMatcher[]): boolean {
  for (const m of expected) {
    if (typeof m === 'number' ? m === status : Math.floor(status / 100) === Number(m[0])) return true;
  }
  return false;
}

/** "2xx, 301" — for failure messages. */
export function describeStatusSet(expected: readonly StatusMatcher[]): string {
  return expected.map(String).join(', ');
}
