// Expected HTTP status sets: exact codes (200) and classes ("2xx").
import type { StatusMatcher } from './spec';

export const STATUS_CLASS_PATTERN = /^[1-5]xx$/;

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
