// How much of what a target returned may appear in a result's `message` (LOOKOUT_RESULT_DETAIL).
// Results go to every subscriber of lookout.result.>, so a message is a disclosure surface: a
// spec author could point a JSON assertion at an internal endpoint and read its values back one
// failed assertion at a time. Pure.
//
//   redacted (the node's default) — never quote the target: say what kind of value was found
//                                    ("$.server_id is another string, expected \"x\""), keep only
//                                    the headline of peer-derived error text
//   full                          — quote at most FULL_DETAIL_MAX_CHARS characters of it
//
// What the spec itself says (expected values, patterns, the target) is quoted in both modes.

export const ResultDetail = {
  redacted: 'redacted',
  full: 'full',
} as const;
export type ResultDetail = (typeof ResultDetail)[keyof typeof ResultDetail];

/** The most of a target's answer a `full` message quotes (as JSON text). */
export const FULL_DETAIL_MAX_CHARS = 80;

/**
 * JSON text of `value` (JSON.stringify's text), cut to `max` characters with "...". Built only as
 * far as it is shown, without recursion: a found value may be a megabyte of nested arrays, which
 * JSON.stringify would serialise in full — or overflow the stack on ("Maximum call stack size
 * exceeded" at ~10^4 levels). Costs O(max) plus the key lists of the objects it enters.
 */
export function preview(value: unknown, max = FULL_DETAIL_MAX_CHARS): string {
  if (omitted(value)) return String(value); // what JSON.stringify leaves out (undefined, a function)
  const out = new BoundedText(max + 1); // one past max: enough to know whether to cut
  const stack: Frame[] = [];
  const write = (v: unknown): void => {
    const data = toJsonData(v);
    if (Array.isArray(data)) {
      out.add('[');
      stack.push({ items: data, i: 0 });
    } else if (data !== null && typeof data === 'object') {
      out.add('{');
      stack.push({ members: data as Record<string, unknown>, keys: Object.keys(data), i: 0, written: false });
    } else {
      out.add(typeof data === 'string' ? quoted(data, out.room()) : (JSON.stringify(data) ?? 'null'));
    }
  };
  write(value);
  while (stack.length > 0 && !out.full()) {
    const f = stack[stack.length - 1]!;
    if ('items' in f) {
      if (f.i === f.items.length) {
        out.add(']');
        stack.pop();
        continue;
      }
      if (f.i > 0) out.add(',');
      const item = f.items[f.i++];
      write(omitted(item) ? null : item);
    } else {
      while (f.i < f.keys.length && omitted(f.members[f.keys[f.i]!])) f.i++;
      if (f.i === f.keys.length) {
        out.add('}');
        stack.pop();
        continue;
      }
      if (f.written) out.add(',');
      f.written = true;
      const key = f.keys[f.i++]!;
      out.add(`${quoted(key, out.room())}:`);
      write(f.members[key]);
    }
  }
  const s = out.text();
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

type Frame = { items: unknown[]; i: number } | { members: Record<string, unknown>; keys: string[]; i: number; written: boolean };

/** What JSON.stringify omits from an object (and writes as null in an array). */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/** A value as JSON.stringify sees it: toJSON() applied (a Date becomes its ISO string). */
function toJsonData(v: unknown): unknown {
  const toJSON = (v as { toJSON?: unknown } | null)?.toJSON;
  return typeof toJSON === 'function' ? (toJSON as () => unknown).call(v) : v;
}

/**
 * A string as JSON text, quoting at most `room` characters of it: the first `room` characters of
 * the result are the same as JSON.stringify(s)'s (each character is escaped on its own; a
 * surrogate pair cut in half lands past `room`).
 */
function quoted(s: string, room: number): string {
  return JSON.stringify(s.length > room ? s.slice(0, room) : s);
}

/** Text built in parts that stops growing at `limit` characters. */
class BoundedText {
  private readonly parts: string[] = [];
  private length = 0;
  constructor(private readonly limit: number) {}
  add(s: string): void {
    const room = this.limit - this.length;
    if (room <= 0) return;
    const part = s.length > room ? s.slice(0, room) : s;
    this.parts.push(part);
    this.length += part.length;
  }
  room(): number {
    return Math.max(0, this.limit - this.length);
  }
  full(): boolean {
    return this.length >= this.limit;
  }
  text(): string {
    return this.parts.join('');
  }
}

/** What a failed JSON assertion found, as a result message may describe it (built where the value is). */
export interface FoundSummary {
  /** "a string", "an array", "null", … */
  kind: string;
  /** JSON text of the value, cut to FULL_DETAIL_MAX_CHARS (quoted only when detail is full). */
  preview: string;
}

export function summarizeFound(value: unknown): FoundSummary {
  return { kind: kindOf(value), preview: preview(value) };
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'object':
      return 'an object';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return 'a value';
  }
}

/**
 * The found side of a failed JSON assertion, from its summary (undefined: nothing at the path):
 * "missing", the quoted value (full), or its kind (redacted: "another string" when the expected
 * value is a string too, else "a number", …).
 */
export function describeFound(found: FoundSummary | undefined, expected: unknown, detail: ResultDetail): string {
  if (found === undefined) return 'missing';
  if (detail === ResultDetail.full) return found.preview;
  if (found.kind === 'null') return 'null';
  return found.kind === kindOf(expected) ? found.kind.replace(/^an? /, 'another ') : found.kind;
}

/** A value the target sent (a Location header, …): quoted when full, withheld when redacted. */
export function quoteTarget(value: string, detail: ResultDetail): string {
  return detail === ResultDetail.full ? preview(value) : '(not shown: LOOKOUT_RESULT_DETAIL=redacted)';
}

/**
 * Error text that may carry what the peer sent (a certificate's names after "…altnames: "): its
 * headline before the first ": " when redacted, cut to the full limit when full.
 */
export function peerErrorText(text: string, detail: ResultDetail): string {
  if (detail === ResultDetail.full) return text.length > FULL_DETAIL_MAX_CHARS ? `${text.slice(0, FULL_DETAIL_MAX_CHARS - 3)}...` : text;
  const colon = text.indexOf(': ');
  return colon === -1 ? text : text.slice(0, colon);
}
