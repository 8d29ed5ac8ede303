// What `<prefix>.notify.list` (and the status page) shows of a notifier: how it routes and when it
// is silent — never its URL, headers or template (a Slack webhook URL is a secret). Pure: the
// silences are judged at the `nowMs` the caller read once. And the list request's shape.

import type { SpecErrorBody } from '../checks/spec-error';
import { normalizeNotifier, type Notifier } from './notifier';
import { silencedAt, upcomingSilences, type OpenSilence } from './notify-silence';

export interface NotifierSummary {
  id: string;
  revision: number;
  match: { ids: string[] | null; labels: Record<string, string> };
  on: string[];
  format: string;
  retry: { attempts: number; backoffMs: number; maxBackoffMs: number };
  remindEveryMs: number | null;
  /** Each silence with when its next window opens (null: never again). */
  silences: { cron: string; durationMs: number; timezone: string; comment: string | null; nextStartsAt: string | null }[];
  /** The window open now, if any. */
  silencedNow: OpenSilence | null;
}

export function notifierSummary(id: string, revision: number, doc: Notifier, nowMs: number): NotifierSummary {
  const n = normalizeNotifier(id, doc);
  const next = upcomingSilences(n.silences, nowMs);
  return {
    id,
    revision,
    match: n.match,
    on: n.on,
    format: n.webhook.format,
    retry: n.retry,
    remindEveryMs: n.remindEveryMs,
    silences: n.silences.map((s, i) => ({ cron: s.cron, durationMs: s.durationMs, timezone: s.timezone ?? 'UTC', comment: s.comment ?? null, nextStartsAt: next[i]?.startsAt ?? null })),
    silencedNow: silencedAt(n.silences, nowMs),
  };
}

export const NOTIFY_LIST_DEFAULT = 100;
export const NOTIFY_LIST_MAX = 200;

export type ListQuery = { ok: true; after: string | null; limit: number } | { ok: false; error: SpecErrorBody };

/** `{"after": "<id>", "limit": n}`, both optional; an empty body is the first page. */
export function parseListQuery(payload: Uint8Array): ListQuery {
  if (payload.length === 0) return { ok: true, after: null, limit: NOTIFY_LIST_DEFAULT };
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, error: { code: 'invalid_json', message: 'list request body must be JSON: {"after": "<id>", "limit": n}', path: '' } };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, error: { code: 'not_object', message: 'list request body must be a JSON object', path: '' } };
  let after: string | null = null;
  let limit: number = NOTIFY_LIST_DEFAULT;
  for (const [k, v] of Object.entries(body)) {
    if (k === 'after') {
      if (typeof v !== 'string' || v.length > 64) return { ok: false, error: { code: 'type', message: '"after" must be a notifier id', path: 'after' } };
      after = v;
    } else if (k === 'limit') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > NOTIFY_LIST_MAX) return { ok: false, error: { code: 'range', message: `"limit" must be an integer from 1 to ${NOTIFY_LIST_MAX}`, path: 'limit' } };
      limit = v;
    } else return { ok: false, error: { code: 'unknown_field', message: `unknown field "${k}" in list request`, path: k } };
  }
  return { ok: true, after, limit };
}
