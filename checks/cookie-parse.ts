// One `Set-Cookie` line read as hostile input, pure (RFC 6265 §5.2, the subset a probe's cookie
// jar needs, checks/cookie-jar.ts): the name and value, and the attributes that decide where the
// cookie goes and whether it is already gone — Domain, Path, Secure, Max-Age, Expires. HttpOnly
// and SameSite are read past (a probe runs no scripts and follows redirects as one navigation);
// unknown attributes too. A line that is too long, has no `name=`, a name that is not an HTTP
// token or a control character in its value is refused whole (null), never half-read.
//
// Dates are read with the cookie-date algorithm of RFC 6265 §5.1.1 (what browsers do with
// `Expires`), not Date.parse: that one reads "1" as 2001 and a date without a zone in the node's
// own time zone.

/** Bounds on what one Set-Cookie line may carry (characters; undici gives one per byte received). */
export const SET_COOKIE_LIMITS = {
  /** A longer line is ignored whole (RFC 6265 §6.1 asks for 4096 bytes per cookie, attributes included; twice that here). */
  lineLength: 8192,
  /** name + value: a longer cookie is ignored (RFC 6265 §6.1). */
  pairLength: 4096,
} as const;

/** What a Set-Cookie line says, before the jar decides (domain and path are checked against the request there). */
export interface SetCookie {
  name: string;
  value: string;
  /** The Domain attribute, lower case, without a leading dot; absent (or empty): a host-only cookie. */
  domain?: string;
  /** The Path attribute when it starts with `/`; absent: the request's default path. */
  path?: string;
  secure: boolean;
  /** Seconds (the last valid Max-Age); ≤ 0 deletes the cookie. */
  maxAge?: number;
  /** Expires as ms since the epoch (UTC), compared with the response's own Date by the jar. */
  expires?: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
const MAX_AGE = /^-?[0-9]+$/;

/** The cookie a Set-Cookie line sets, or null when the line is refused (too long, malformed). */
export function parseSetCookie(line: string): SetCookie | null {
  if (line.length > SET_COOKIE_LIMITS.lineLength || CONTROL.test(line)) return null;
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq < 0) return null;
  const name = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (!TOKEN.test(name) || name.length + value.length > SET_COOKIE_LIMITS.pairLength) return null;

  const cookie: SetCookie = { name, value, secure: false };
  for (const attribute of attributes) {
    const at = attribute.indexOf('=');
    const key = (at < 0 ? attribute : attribute.slice(0, at)).trim().toLowerCase();
    const v = at < 0 ? '' : attribute.slice(at + 1).trim();
    switch (key) {
      case 'domain': {
        const domain = (v.startsWith('.') ? v.slice(1) : v).toLowerCase();
        if (domain) cookie.domain = domain;
        else delete cookie.domain; // §5.2.3: an empty Domain is no Domain
        break;
      }
      case 'path':
        if (v.startsWith('/')) cookie.path = v;
        else delete cookie.path; // §5.2.4: the default path
        break;
      case 'secure':
        cookie.secure = true;
        break;
      case 'max-age':
        // §5.2.2: digits with an optional leading minus; anything else leaves the attribute out.
        if (MAX_AGE.test(v)) cookie.maxAge = Math.max(-1, Math.min(Number(v.slice(0, 16)), Number.MAX_SAFE_INTEGER));
        break;
      case 'expires': {
        const ms = parseCookieDate(v);
        if (ms !== undefined) cookie.expires = ms;
        break;
      }
      default: // HttpOnly, SameSite, Priority, Partitioned, …: nothing a probe does with them
    }
  }
  return cookie;
}

// §5.1.1: delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E.
const DELIMITERS = /[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+/;
const TIME = /^(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\D|$)/;
const DAY = /^(\d{1,2})(?:\D|$)/;
const YEAR = /^(\d{2,4})(?:\D|$)/;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** A cookie date (RFC 6265 §5.1.1; also every HTTP-date form of a `Date` header) as ms since the epoch, or undefined. */
export function parseCookieDate(text: string): number | undefined {
  let time: number[] | undefined;
  let day: number | undefined;
  let month: number | undefined;
  let year: number | undefined;
  for (const token of text.slice(0, 256).split(DELIMITERS)) {
    if (!token) continue;
    let m: RegExpExecArray | null;
    if (time === undefined && (m = TIME.exec(token))) time = [Number(m[1]), Number(m[2]), Number(m[3])];
    else if (day === undefined && (m = DAY.exec(token))) day = Number(m[1]);
    else if (month === undefined && MONTHS.includes(token.slice(0, 3).toLowerCase())) month = MONTHS.indexOf(token.slice(0, 3).toLowerCase());
    else if (year === undefined && (m = YEAR.exec(token))) year = Number(m[1]);
  }
  if (time === undefined || day === undefined || month === undefined || year === undefined) return undefined;
  if (year >= 70 && year <= 99) year += 1900;
  else if (year <= 69) year += 2000;
  const [hour, minute, second] = time as [number, number, number];
  if (day < 1 || day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, month, day, hour, minute, second);
  return new Date(ms).getUTCDate() === day ? ms : undefined; // no 31 April
}
