// What the status page's JSON endpoints accept in a URL (pure): the query of /api/checks and the
// id of /api/checks/<id>, read as hostile input. Every value is capped before it is looked at, an
// unknown parameter is refused, and an error names the parameter (`path`) and never repeats more
// than a bounded slice of what was sent. What passes becomes a `<prefix>.state.list` request body
// (protocol/state-query.ts), which the state API validates again.

import { SpecErrorCode } from '../checks/spec-error';
import { CHECK_ID_PATTERN } from '../checks/spec';
import { STATE_LABEL_MAX_CHARS, STATE_LIST_MAX_LABELS, STATE_LIST_MAX_LIMIT, VERDICT_FILTER_MESSAGE, type Parsed } from './state-query';
import { isCountedVerdict, type CountedVerdict } from './verdict-counts';

/** Longest query string the page's API reads (the rest of the URL is bounded by Node's header limit). */
export const PAGE_QUERY_MAX_CHARS = 4096;
/** Parameters one query may carry (a `label` counts once per occurrence). */
const MAX_PARAMS = STATE_LIST_MAX_LABELS + 4;
const ID_PREFIX = /^[A-Za-z0-9_-]{0,128}$/;

/** The body of a `state.list` request. */
export interface ChecksListBody {
  prefix?: string;
  labels?: Record<string, string>;
  verdict?: CountedVerdict;
  after?: string;
  limit?: number;
}

const fail = <T>(code: SpecErrorCode, message: string, path: string): Parsed<T> => ({ ok: false, error: { code, message, path } });
/** A parameter name as an error may name it: short, and only harmless characters. */
const shown = (name: string) => name.slice(0, 32).replace(/[^A-Za-z0-9_-]/g, '?');

/** `?prefix=P&label=k=v&label=k2=v2&verdict=down&after=<id>&limit=N`, each at most once but `label`. */
export function parseChecksQuery(query: string): Parsed<ChecksListBody> {
  if (query.length > PAGE_QUERY_MAX_CHARS) return fail(SpecErrorCode.range, `the query is at most ${PAGE_QUERY_MAX_CHARS} characters`, '');
  const params = [...new URLSearchParams(query)];
  if (params.length > MAX_PARAMS) return fail(SpecErrorCode.range, `at most ${MAX_PARAMS} query parameters`, '');
  const body: ChecksListBody = {};
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (name !== 'label' && seen.has(name)) return fail(SpecErrorCode.bad_request, `"${shown(name)}" is given twice`, shown(name));
    seen.add(name);
    switch (name) {
      case 'prefix':
        if (!ID_PREFIX.test(value)) return fail(SpecErrorCode.format, '"prefix" must be the start of a check id (^[A-Za-z0-9_-]{0,128}$)', 'prefix');
        if (value) body.prefix = value;
        break;
      case 'label': {
        const eq = value.indexOf('=');
        if (eq <= 0) return fail(SpecErrorCode.format, '"label" must be key=value', 'label');
        const k = value.slice(0, eq);
        const v = value.slice(eq + 1);
        if (k.length > STATE_LABEL_MAX_CHARS || v.length > STATE_LABEL_MAX_CHARS) return fail(SpecErrorCode.range, `label keys and values are at most ${STATE_LABEL_MAX_CHARS} characters`, 'label');
        body.labels ??= {};
        body.labels[k] = v;
        if (Object.keys(body.labels).length > STATE_LIST_MAX_LABELS) return fail(SpecErrorCode.range, `at most ${STATE_LIST_MAX_LABELS} labels`, 'label');
        break;
      }
      case 'verdict':
        if (!isCountedVerdict(value)) return fail(SpecErrorCode.enum, VERDICT_FILTER_MESSAGE, 'verdict');
        body.verdict = value;
        break;
      case 'after':
        if (!CHECK_ID_PATTERN.test(value)) return fail(SpecErrorCode.invalid_id, '"after" must be a check id (a previous answer\'s "next")', 'after');
        body.after = value;
        break;
      case 'limit': {
        const n = /^\d{1,4}$/.test(value) ? Number(value) : NaN;
        if (!(n >= 1 && n <= STATE_LIST_MAX_LIMIT)) return fail(SpecErrorCode.range, `"limit" must be an integer from 1 to ${STATE_LIST_MAX_LIMIT}`, 'limit');
        body.limit = n;
        break;
      }
      default:
        return fail(SpecErrorCode.unknown_field, `unknown query parameter "${shown(name)}" (prefix, label, verdict, after, limit)`, shown(name));
    }
  }
  return { ok: true, value: body };
}

/** The check id of a `/api/checks/<id>` path segment (still percent-encoded), or an invalid_id error. */
export function parseCheckId(segment: string): Parsed<string> {
  let id: string;
  try {
    id = segment.length <= 3 * 128 ? decodeURIComponent(segment) : segment;
  } catch {
    id = segment;
  }
  if (!CHECK_ID_PATTERN.test(id)) return fail(SpecErrorCode.invalid_id, 'check id must match ^[A-Za-z0-9_-]{1,128}$', 'id');
  return { ok: true, value: id };
}
