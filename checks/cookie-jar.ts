// The cookie jar of one HTTP probe (`http.cookies`), pure: what the redirect answers of this probe
// set, and what the next hops send back — RFC 6265 §5.3 (storage) and §5.4 (the Cookie header),
// the subset a health check needs. The probe (checks/http-probe.ts) makes a new, empty jar for
// every probe and drops it at the end: nothing is carried from one probe to the next, or between
// checks. No clock is read: a cookie lives as long as the probe, so expiry matters only to delete.
//
//   storage   a Set-Cookie line is read by checks/cookie-parse.ts; a Domain attribute must
//             domain-match the request's host and have a dot (no single-label "public suffix"
//             such as `com` or `localhost`, unless it is the host itself: then host-only); on an
//             IP-address host every cookie is host-only. No Path: the request's default path.
//             A Secure cookie from a plain-http answer is ignored (RFC 6265bis).
//   expiry    Max-Age ≤ 0 deletes; otherwise an Expires at or before the answer's own `Date`
//             header deletes (both the target's clock; without a Date, Expires deletes nothing).
//   identity  name + domain + path: a cookie set again replaces the value, keeping its place.
//   sending   host (exact for host-only, else domain-match), path-match, Secure only over https;
//             longer paths first, then older first (§5.4 step 2).
//   bounds    at most 50 cookies per probe (more are ignored, a replacement still counts), the jar's
//             part of a Cookie header at most 8192 characters (cookies that do not fit are left out).
//
// The request's host is the name its Host header carries (`http.host` on the target's origin),
// else the URL's. A spec's own Cookie header (http.headers) stays with the target's origin as
// before; on a hop that sends it, a jar cookie of the same name replaces that pair (the server's
// latest word wins, as in a browser whose jar had held the spec's cookies), the others go first.
import { isIP } from 'node:net';
import { parseCookieDate, parseSetCookie } from './cookie-parse';

export const COOKIE_JAR_LIMITS = { cookies: 50, headerLength: 8192 } as const;

interface StoredCookie {
  name: string;
  value: string;
  domain: string;
  hostOnly: boolean;
  path: string;
  secure: boolean;
  /** Order of creation (§5.4: older cookies first among equal paths); a counter, not a clock. */
  created: number;
}

export class CookieJar {
  private readonly cookies: StoredCookie[] = [];
  private created = 0;

  /** How many cookies the jar holds. */
  get size(): number {
    return this.cookies.length;
  }

  /**
   * Store what an answer to a request for `url` set. `setCookie` and `date` as undici gives them;
   * `host`: the request's host (default: the URL's). Refused lines are skipped, never thrown.
   */
  receive(url: URL, setCookie: string | string[] | undefined, date: string | string[] | undefined, host = hostOf(url)): void {
    if (setCookie === undefined) return;
    const now = parseCookieDate(Array.isArray(date) ? (date[0] ?? '') : (date ?? ''));
    for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
      const c = parseSetCookie(line);
      if (!c || (c.secure && url.protocol !== 'https:')) continue;
      const scope = scopeOf(host, c.domain);
      if (!scope) continue;
      const path = c.path ?? defaultPath(url.pathname);
      const i = this.cookies.findIndex((s) => s.name === c.name && s.domain === scope.domain && s.path === path);
      const expired = c.maxAge !== undefined ? c.maxAge <= 0 : c.expires !== undefined && now !== undefined && c.expires <= now;
      if (expired) {
        if (i >= 0) this.cookies.splice(i, 1);
        continue;
      }
      const stored = { name: c.name, value: c.value, ...scope, path, secure: c.secure };
      if (i >= 0) this.cookies[i] = { ...stored, created: this.cookies[i]!.created };
      else if (this.cookies.length < COOKIE_JAR_LIMITS.cookies) this.cookies.push({ ...stored, created: this.created++ });
    }
  }

  /** The cookies a request for `url` sends, in §5.4 order, within the header bound. */
  matching(url: URL, host = hostOf(url)): { name: string; value: string }[] {
    const https = url.protocol === 'https:';
    const path = url.pathname || '/';
    const sorted = this.cookies
      .filter((c) => (c.hostOnly ? c.domain === host : domainMatch(host, c.domain)) && pathMatch(path, c.path) && (!c.secure || https))
      .sort((a, b) => b.path.length - a.path.length || a.created - b.created);
    const out: { name: string; value: string }[] = [];
    let length = 0;
    for (const { name, value } of sorted) {
      const more = name.length + 1 + value.length + (out.length ? 2 : 0);
      if (length + more > COOKIE_JAR_LIMITS.headerLength) continue;
      length += more;
      out.push({ name, value });
    }
    return out;
  }
}

/**
 * The request headers of a hop with the jar's cookies: `headers` itself when the jar has none for
 * it; else a copy whose Cookie header is the spec's own pairs (those the jar does not replace) and
 * then the jar's.
 */
export function withJarCookies(headers: Record<string, string>, jar: CookieJar, url: URL): Record<string, string> {
  const cookies = jar.matching(url, requestHost(headers, url));
  if (cookies.length === 0) return headers;
  const names = new Set(cookies.map((c) => c.name));
  const out: Record<string, string> = {};
  const pairs: string[] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== 'cookie') out[k] = v;
    else pairs.push(...v.split(';').map((p) => p.trim()).filter((p) => p && !names.has(p.split('=', 1)[0]!.trim())));
  }
  out.cookie = [...pairs, ...cookies.map((c) => `${c.name}=${c.value}`)].join('; ');
  return out;
}

/** The request's host as cookies see it: the name its Host header carries (`http.host`), else the URL's. */
export function requestHost(headers: Record<string, string>, url: URL): string {
  return headers.host !== undefined ? hostOfHeader(headers.host) : hostOf(url);
}

/** The host a URL names, as cookies compare it: lower case, an IPv6 address without brackets. */
export function hostOf(url: URL): string {
  return unbracket(url.hostname);
}

/** The host a Host header value names: without its port, lower case. */
export function hostOfHeader(value: string): string {
  const host = value.startsWith('[') ? value.slice(0, value.indexOf(']') + 1) : value.replace(/:\d*$/, '');
  return unbracket(host.toLowerCase());
}

function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Where a cookie may go (§5.3 steps 4–6), or null when its Domain is refused for this host. */
export function scopeOf(host: string, domain: string | undefined): { domain: string; hostOnly: boolean } | null {
  if (domain === undefined) return { domain: host, hostOnly: true };
  // An address, or a Domain no registrable name has: only the host itself, and then host-only.
  if (isIP(host) || !domain.includes('.') || domain.endsWith('.')) return domain === host ? { domain: host, hostOnly: true } : null;
  return domain === host || host.endsWith(`.${domain}`) ? { domain, hostOnly: false } : null;
}

/** §5.1.3: the host is the domain, or a name under it (never an IP address). */
export function domainMatch(host: string, domain: string): boolean {
  return host === domain || (!isIP(host) && host.endsWith(`.${domain}`));
}

/** §5.1.4: the directory of the request path ("/" for "/login" and for "/"). */
export function defaultPath(path: string): string {
  const last = path.lastIndexOf('/');
  return !path.startsWith('/') || last === 0 ? '/' : path.slice(0, last);
}

/** §5.1.4: the cookie's path is the request path, or a directory of it. */
export function pathMatch(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  return requestPath.startsWith(cookiePath) && (cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/');
}
