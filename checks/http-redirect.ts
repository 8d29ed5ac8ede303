// The redirect rules of an HTTP probe, pure: which answers redirect, when the probe stops following
// (too many, or a Location it cannot follow), and the request of the next hop — which method, and
// which headers are not carried across origins or onto a request that lost its body. The probe
// (checks/http-probe.ts) sends each hop; every hop's address passes the address policy at connect.
//
//   301 / 302   follow with the same request; a POST becomes a GET without body (what browsers do)
//   303         follow with a GET without body (HEAD stays HEAD)
//   307 / 308   follow with the same method and body
//   other       the answer: no redirect
import type { Failure } from './failures';
import { FailureReason } from './outcome';
import { quoteTarget, type ResultDetail } from './result-detail';

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Request headers not sent on to another origin after a redirect. */
const ORIGIN_BOUND_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization', 'host']);
/** Headers describing a request body, dropped when a redirect turns the request into a GET. */
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding']);

const withHost = new WeakMap<object, Record<string, string>>();

/** One request of a probe: the spec's own, or one a redirect asked for. */
export interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

/** The spec's request: the first hop (`host`: its Host header, sent on while redirects stay on its origin). */
export function firstHop(target: string, http: { method: string; headers: Record<string, string>; host?: string; body?: string }): Hop {
  let headers = http.headers;
  if (http.host !== undefined) {
    // Made once per spec's http section: the same object probe after probe.
    headers = withHost.get(http) ?? { ...http.headers, host: http.host };
    withHost.set(http, headers);
  }
  return { url: new URL(target), method: http.method, headers, ...(http.body !== undefined ? { body: http.body } : {}) };
}

/** The Location to follow, or undefined when the response is the answer (not a redirect, or redirects are off). */
export function redirectLocation(status: number, location: string | string[] | undefined, maxRedirects: number): string | undefined {
  if (!(maxRedirects > 0) || !REDIRECT_STATUSES.has(status)) return undefined;
  return Array.isArray(location) ? location[0] : location;
}

/**
 * After `hop` was answered `status` with `location`, having followed `followed` redirects: the
 * next hop, or the failure that ends the probe (both `status`: the answer was not the one expected).
 */
export function followRedirect(
  hop: Hop,
  status: number,
  location: string,
  followed: number,
  maxRedirects: number,
  detail: ResultDetail,
): { next: Hop } | { failure: Failure } {
  if (followed >= maxRedirects) {
    return { failure: { reason: FailureReason.status, message: `too many redirects (more than ${maxRedirects})` } };
  }
  const to = URL.canParse(location, hop.url.href) ? new URL(location, hop.url) : null;
  if (!to || (to.protocol !== 'http:' && to.protocol !== 'https:')) {
    return { failure: { reason: FailureReason.status, message: `redirect to an unsupported location: ${quoteTarget(location, detail)}` } };
  }
  return { next: redirected(hop, status, to) };
}

/** The request for the next hop: 303 (and 301/302 after a POST) become a GET without body. */
export function redirected(hop: Hop, status: number, to: URL): Hop {
  const toGet = hop.method !== 'HEAD' && (status === 303 || ((status === 301 || status === 302) && hop.method === 'POST'));
  const crossOrigin = hop.url.origin !== to.origin;
  const headers = Object.fromEntries(
    Object.entries(hop.headers).filter(([name]) => {
      const lower = name.toLowerCase();
      return !(crossOrigin && ORIGIN_BOUND_HEADERS.has(lower)) && !(toGet && BODY_HEADERS.has(lower));
    }),
  );
  if (toGet) return { url: to, method: 'GET', headers };
  return { ...hop, url: to, headers };
}
