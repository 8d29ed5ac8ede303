// The status page's JSON, read from what any client of the cluster can ask over NATS, through this
// node's connection (runtime/status-page.ts routes to it):
//
//   GET /api/cluster          → the answer of `<prefix>.cluster.status` (members, leader, term, …)
//   GET /api/checks?prefix=&label=k=v&verdict=&after=&limit=
//                             → the answer of `<prefix>.state.list` (states, next)
//   GET /api/checks/<id>      → {ok, state, history}: `<prefix>.state.get.<id>` and
//                               `<prefix>.state.history.<id>` (uptime, changes, latency series)
//   GET /api/notifiers        → the answer of `<prefix>.notify.list` (summaries: no URLs or headers;
//                               each notifier's silences and the window open now)
//
// Every request has a deadline (STATUS_API_TIMEOUT_MS); a request that fails — nobody answers, no
// answer in time, an answer that is no JSON object, the state API's own error — is a JSON error
// {ok: false, error: {code, message, path}} with an HTTP status for its code, never a crash.

import { SpecErrorCode } from '../checks/spec-error';
import { errorCode, ErrorCode } from '../protocol/errors';
import { NOTIFY_LIST_MAX } from '../protocol/notifier-summary';
import { parseCheckId, parseChecksQuery } from '../protocol/status-page-query';
import type { Bus } from './bus';
import type { Logger } from './logger';
import type { Subjects } from './subjects';

/** How long the page's API waits for the cluster's answer. */
export const STATUS_API_TIMEOUT_MS = 3_000;
/** Largest answer passed on (a state.list of 500 checks is well below it). */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

export interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface StatusApiOptions {
  bus: Bus;
  subjects: Subjects;
  log: Logger;
  timeoutMs?: number;
}

export interface StatusApi {
  cluster(): Promise<ApiAnswer>;
  checks(query: string): Promise<ApiAnswer>;
  check(idSegment: string): Promise<ApiAnswer>;
  notifiers(): Promise<ApiAnswer>;
}

/** The HTTP status of an error code. */
export function httpStatusOf(code: string): number {
  switch (code) {
    case SpecErrorCode.not_found:
      return 404;
    case SpecErrorCode.unavailable:
    case ErrorCode.no_responders:
      return 503;
    case ErrorCode.request_timeout:
      return 504;
    case 'internal':
      return 500;
    default:
      return 400;
  }
}

export const apiError = (code: string, message: string, path = ''): ApiAnswer => ({ status: httpStatusOf(code), body: { ok: false, error: { code, message, path } } });

type Asked = { ok: true; body: Record<string, unknown> } | { ok: false; answer: ApiAnswer };

export function statusApi(o: StatusApiOptions): StatusApi {
  const s = o.subjects;
  const timeoutMs = o.timeoutMs ?? STATUS_API_TIMEOUT_MS;

  /** One request: its answer as a JSON object, or the error answer. */
  const ask = async (subject: string, payload: unknown): Promise<Asked> => {
    try {
      const m = await o.bus.request(subject, payload, timeoutMs);
      const body = m.data.length <= MAX_ANSWER_BYTES ? m.json() : undefined;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, answer: apiError('internal', 'the cluster\'s answer was not a JSON object') };
      return { ok: true, body: body as Record<string, unknown> };
    } catch (err) {
      const code = errorCode(err);
      o.log.warn({ event: 'status_api_request_failed', subject, code: code ?? 'internal', err }, 'status page request to the cluster failed');
      if (code === ErrorCode.no_responders) return { ok: false, answer: apiError(code, 'no node answers the request (is the cluster running?)') };
      if (code === ErrorCode.request_timeout) return { ok: false, answer: apiError(code, `no answer within ${timeoutMs} ms`) };
      return { ok: false, answer: apiError('internal', 'the request to the cluster failed') };
    }
  };

  /** The state API's own answer: passed on when ok, its error (code, message, path) otherwise. */
  const passOn = (a: Asked): ApiAnswer => {
    if (!a.ok) return a.answer;
    if (a.body.ok === true) return { status: 200, body: a.body };
    const e = a.body.error as { code?: unknown; message?: unknown; path?: unknown } | undefined;
    const code = typeof e?.code === 'string' ? e.code : 'internal';
    return apiError(code, typeof e?.message === 'string' ? e.message : 'the cluster refused the request', typeof e?.path === 'string' ? e.path : '');
  };

  return {
    cluster: async () => passOn(await ask(s.clusterStatus(), {})),
    notifiers: async () => passOn(await ask(s.notifyList(), { limit: NOTIFY_LIST_MAX })),
    checks: async (query) => {
      const q = parseChecksQuery(query);
      if (!q.ok) return apiError(q.error.code, q.error.message, q.error.path);
      return passOn(await ask(s.stateList(), q.value));
    },
    check: async (idSegment) => {
      const id = parseCheckId(idSegment);
      if (!id.ok) return apiError(id.error.code, id.error.message, id.error.path);
      const [state, history] = await Promise.all([ask(s.stateGet(id.value), {}), ask(s.stateHistory(id.value), {})]);
      const st = passOn(state);
      if (st.status !== 200) return st;
      const hi = passOn(history);
      // The state without its history is still worth showing (the history may time out alone).
      return { status: 200, body: { ok: true, state: st.body.state, history: hi.status === 200 ? hi.body : null, historyError: hi.status === 200 ? null : hi.body.error } };
    },
  };
}
