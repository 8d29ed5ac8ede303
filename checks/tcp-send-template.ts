// A dialog `send` as a template over the groups of the latest `expectRegex` match before it
// (blackbox_exporter's query_response `send: "PONG ${1}"`). Pure: parsed at validation and at
// normalization, expanded by checks/tcp-dialog-run.ts with what the body worker captured.
//
//   ${0}        the whole match
//   ${1} … ${9} a numbered group
//   ${name}     a named group, (?P<name>…) or (?<name>…) (a name of at most 32 characters)
//   $$          a literal $
//   $x          any other $ is itself: "cost $5" is sent as written
//   ${ … }      anything else in braces (${10}, ${}, ${a-b}, an unclosed ${) is a format error
//
// Which references can fail is decided at put (checks/validate-tcp.ts): a group the regex does
// not have, a name it does not define, a reference with no expectRegex before the send. A group
// that exists but did not take part in the match (`(a)?` with no a) is the empty string. The
// expanded send is bounded like a written one (TCP_LIMITS.stepMaxLength characters): past it the
// probe fails with `too_large` and sends nothing.

/** One piece of a template: literal text, or a reference to a captured group. */
export type SendPart = string | { group: number } | { name: string };

/** What a match captured: groups 0 … 9 by number (null: did not take part), named groups by name. */
export interface Captures {
  groups: readonly (string | null)[];
  named: Readonly<Record<string, string | null>>;
}

export type TemplateParse = { ok: true; parts: SendPart[] } | { ok: false; message: string };

/** The highest group number a send may name: blackbox's ${1} … ${9} (and ${0}, the whole match). */
export const MAX_GROUP_REF = 9;

const REFERENCE = /^\$\{([^}]{0,40})\}/;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

/**
 * The same syntax as a JSON Schema pattern (checks/spec-json-schema.ts): every $ is $$, a
 * reference, or followed by neither $ nor {.
 */
export const SEND_TEMPLATE_PATTERN = '^(?:[^$]|\\$\\$|\\$\\{(?:[0-9]|[A-Za-z_][A-Za-z0-9_]{0,31})\\}|\\$[^{$]|\\$$)*$';

/** A send's text as parts (adjacent literal text joined), or why it does not parse. */
export function parseSendTemplate(text: string): TemplateParse {
  const parts: SendPart[] = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '$' || (text[i + 1] !== '$' && text[i + 1] !== '{')) {
      literal += c;
      continue;
    }
    if (text[i + 1] === '$') {
      literal += '$';
      i++;
      continue;
    }
    const ref = REFERENCE.exec(text.slice(i, i + 260));
    if (!ref) return { ok: false, message: `an unclosed \${ at character ${i} (write $$ for a literal $)` };
    const inner = ref[1]!;
    const part = /^[0-9]$/.test(inner) ? { group: Number(inner) } : NAME.test(inner) ? { name: inner } : undefined;
    if (!part) {
      const why = /^[0-9]+$/.test(inner) ? `groups go up to \${${MAX_GROUP_REF}}` : 'a reference is ${0} … ${9} or ${name}';
      return { ok: false, message: `\${${inner}} at character ${i} is not a group reference: ${why} (write $$ for a literal $)` };
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push(part);
    i += ref[0].length - 1;
  }
  if (literal) parts.push(literal);
  return { ok: true, parts };
}

/** The references of a template, in order (repeats kept). */
export function referencesOf(parts: readonly SendPart[]): Exclude<SendPart, string>[] {
  return parts.filter((p): p is Exclude<SendPart, string> => typeof p !== 'string');
}

/** How a reference reads in a message: "${1}", "${version}". */
export function showReference(ref: Exclude<SendPart, string>): string {
  return 'group' in ref ? `\${${ref.group}}` : `\${${ref.name}}`;
}

/** The literal text of a template without references (its `$$` already reduced). */
export function literalOf(parts: readonly SendPart[]): string {
  return parts.map((p) => (typeof p === 'string' ? p : '')).join('');
}

export type Expansion = { ok: true; text: string } | { ok: false; length: number };

/**
 * The send with its references replaced by what `captures` holds (a group that did not take
 * part, or is not there at all, is empty). At most `max` characters: a longer result is not
 * built past the bound and answers its length so far (at least max + 1).
 */
export function expandSend(parts: readonly SendPart[], captures: Captures | null, max: number): Expansion {
  let text = '';
  for (const p of parts) {
    const piece = typeof p === 'string' ? p : (('group' in p ? captures?.groups[p.group] : captures?.named[p.name]) ?? '');
    if (text.length + piece.length > max) return { ok: false, length: text.length + piece.length };
    text += piece;
  }
  return { ok: true, text };
}
