// Notifier document validation (protocol/notifier.ts): a `<prefix>.notify.put.<id>` payload
// becomes a Notifier or the first {code, message, path} error, with the codes and field paths of
// spec validation (checks/spec-error.ts). Pure; never throws. Nothing is stored unless the whole
// document is valid (runtime/notify-api.ts).
//
// Rule order (the first failing rule is reported): the id in the subject; size; UTF-8 and JSON;
// a plain object; unknown top-level fields in document order; then id, match (ids, labels), on,
// webhook (url, format, template, headers, timeoutMs; template only with format json), retry
// (attempts, backoffMs, maxBackoffMs ≥ backoffMs), remindEveryMs, silences (cron, durationMs,
// timezone, comment: croner must read the pattern in the zone, and it must run again).

import { SpecError, type SpecErrorBody } from '../checks/spec-error';
import { SPEC_PATTERNS } from '../checks/spec-schema';
import { array, at, entries, fail, httpTargetProblem, int, object, oneOf, onlyKnown, own, required, show, str, type Obj } from '../checks/validate-fields';
import { NOTIFIER_LIMITS as L, NOTIFY_MANAGED_HEADERS, NOTIFY_ON, NotifyFormat, type Notifier, type NotifierMatch, type NotifierRetry, type NotifierWebhook, type NotifyOn, type Silence } from './notifier';
import { templateProblem } from './notify-render';
import { silenceProblem } from './notify-silence';

export type NotifierResult = { ok: true; notifier: Notifier } | { ok: false; error: SpecErrorBody };

/** A notifier id: one subject token, like a check id. */
export const NOTIFIER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const GLOB = /^[A-Za-z0-9_*?-]+$/;
const LABEL_NAME = new RegExp(SPEC_PATTERNS.labelName);
const HEADER_NAME = new RegExp(SPEC_PATTERNS.headerName);
const HEADER_VALUE = new RegExp(SPEC_PATTERNS.headerValue);

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decode and validate the raw bytes of a `notify.put.<id>` message; `nowMs` judges whether a silence runs again. */
export function decodeNotifierPayload(payload: Uint8Array, id: string, nowMs: number): NotifierResult {
  if (!NOTIFIER_ID.test(id)) return failure('invalid_id', 'id', `the notifier id in the subject must match ${NOTIFIER_ID.source}, got ${show(id)}`);
  if (payload.byteLength > L.maxBytes) return failure('too_large', '', `the document is ${payload.byteLength} bytes; at most ${L.maxBytes} bytes are accepted`);
  let raw: unknown;
  try {
    const text = utf8.decode(payload);
    if (text.charCodeAt(0) === 0xfeff) return failure('invalid_json', '', 'the payload starts with a byte order mark; send JSON without one');
    raw = JSON.parse(text);
  } catch (e) {
    return failure('invalid_json', '', `the payload is not UTF-8 JSON: ${e instanceof Error ? e.message : 'parse error'}`);
  }
  return validateNotifier(raw, id, nowMs);
}

/**
 * `nowMs`: a document being put must have silences that run again after it; null (a document read
 * back from the bucket) skips that rule, so a one-off window that has passed does not void it.
 */
export function validateNotifier(raw: unknown, id: string, nowMs: number | null): NotifierResult {
  try {
    return { ok: true, notifier: checkNotifier(raw, id, nowMs) };
  } catch (e) {
    if (e instanceof SpecError) return { ok: false, error: e.toJSON() };
    return failure('type', '', 'the document is not plain JSON data and could not be inspected');
  }
}

function failure(code: SpecErrorBody['code'], path: string, message: string): NotifierResult {
  return { ok: false, error: { code, message, path } };
}

const TOP = ['id', 'match', 'on', 'webhook', 'retry', 'remindEveryMs', 'silences'] as const;

function checkNotifier(raw: unknown, id: string, nowMs: number | null): Notifier {
  if (!NOTIFIER_ID.test(id)) fail('invalid_id', 'id', `the notifier id must match ${NOTIFIER_ID.source}, got ${show(id)}`);
  const o = object('', raw);
  onlyKnown('', o, TOP);
  const out: Notifier = { webhook: undefined as unknown as NotifierWebhook };
  const docId = own(o, 'id');
  if (docId !== undefined) {
    if (docId !== id) fail('id_mismatch', 'id', `"id" is ${show(docId)} but the subject says ${show(id)}`);
    out.id = id;
  }
  if (own(o, 'match') !== undefined) out.match = checkMatch(own(o, 'match'));
  if (own(o, 'on') !== undefined) out.on = checkOn(own(o, 'on'));
  out.webhook = checkWebhook(required('webhook', own(o, 'webhook')));
  if (own(o, 'retry') !== undefined) out.retry = checkRetry(own(o, 'retry'));
  const remind = own(o, 'remindEveryMs');
  if (remind !== undefined) out.remindEveryMs = int('remindEveryMs', remind, L.remindEveryMs.min, L.remindEveryMs.max);
  if (own(o, 'silences') !== undefined) out.silences = checkSilences(own(o, 'silences'), nowMs);
  return out;
}

function checkMatch(v: unknown): NotifierMatch {
  const o = object('match', v);
  onlyKnown('match', o, ['ids', 'labels']);
  const out: NotifierMatch = {};
  if (own(o, 'ids') !== undefined) {
    out.ids = array('match.ids', own(o, 'ids'), 1, L.idGlobs).map((g, i) => {
      const p = at('match.ids', i);
      const s = str(p, g, 1, L.globLength);
      if (!GLOB.test(s)) fail('format', p, `${p} must be a check id glob (A-Z a-z 0-9 _ - and the wildcards * and ?), got ${show(s)}`);
      return s;
    });
  }
  if (own(o, 'labels') !== undefined) out.labels = stringMap('match.labels', own(o, 'labels'), L.labels, LABEL_NAME, (p, v) => str(p, v, 0, L.labelValueLength));
  return out;
}

function checkOn(v: unknown): NotifyOn[] {
  const items = array('on', v, 1, NOTIFY_ON.length).map((x, i) => oneOf(at('on', i), x, NOTIFY_ON));
  if (new Set(items).size !== items.length) fail('conflict', 'on', `"on" lists a verdict twice: ${show(items)}`);
  return items;
}

function checkWebhook(v: unknown): NotifierWebhook {
  const o = object('webhook', v);
  onlyKnown('webhook', o, ['url', 'format', 'template', 'headers', 'timeoutMs']);
  const url = str('webhook.url', required('webhook.url', own(o, 'url')), 1, L.urlLength);
  const problem = httpTargetProblem(url);
  if (problem) fail('format', 'webhook.url', `webhook.url is not an http(s) URL a node can call: ${problem}`);
  const out: NotifierWebhook = { url };
  if (own(o, 'format') !== undefined) out.format = oneOf('webhook.format', own(o, 'format'), Object.values(NotifyFormat));
  if (own(o, 'template') !== undefined) {
    if ((out.format ?? NotifyFormat.json) !== NotifyFormat.json) fail('conflict', 'webhook.template', 'a template is for format "json" only; the slack format has a fixed payload');
    const t = str('webhook.template', own(o, 'template'), 1, L.templateLength);
    const why = templateProblem(t);
    if (why) fail('format', 'webhook.template', `webhook.template: ${why}`);
    out.template = t;
  }
  if (own(o, 'headers') !== undefined) out.headers = checkHeaders(own(o, 'headers'));
  if (own(o, 'timeoutMs') !== undefined) out.timeoutMs = int('webhook.timeoutMs', own(o, 'timeoutMs'), L.timeoutMs.min, L.timeoutMs.max);
  return out;
}

function checkHeaders(v: unknown): Record<string, string> {
  const seen = new Set<string>();
  return stringMap('webhook.headers', v, L.headers, HEADER_NAME, (p, value) => {
    const name = p.slice('webhook.headers.'.length).toLowerCase();
    if ((NOTIFY_MANAGED_HEADERS as readonly string[]).includes(name)) fail('conflict', p, `${p}: Lookout sets this header itself (${NOTIFY_MANAGED_HEADERS.join(', ')})`);
    if (seen.has(name)) fail('conflict', p, `${p}: the header is set twice (names are case-insensitive)`);
    seen.add(name);
    const s = str(p, value, 0, L.headerValueLength);
    if (!HEADER_VALUE.test(s)) fail('format', p, `${p} may hold tab, printable ASCII and U+0080..U+00FF only (no CR, LF or NUL)`);
    return s;
  });
}

/** An object of string values, at most `max` entries, each name matching `name`. */
function stringMap(path: string, v: unknown, max: number, name: RegExp, value: (p: string, v: unknown) => string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, raw] of entries(path, v, max)) {
    const p = at(path, k);
    if (!name.test(k)) fail('format', p, `the name ${show(k)} in ${path} must match ${name.source}`);
    Object.defineProperty(out, k, { value: value(p, raw), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function checkRetry(v: unknown): NotifierRetry {
  const o = object('retry', v);
  onlyKnown('retry', o, ['attempts', 'backoffMs', 'maxBackoffMs']);
  const out: NotifierRetry = {};
  if (own(o, 'attempts') !== undefined) out.attempts = int('retry.attempts', own(o, 'attempts'), L.attempts.min, L.attempts.max);
  if (own(o, 'backoffMs') !== undefined) out.backoffMs = int('retry.backoffMs', own(o, 'backoffMs'), L.backoffMs.min, L.backoffMs.max);
  if (own(o, 'maxBackoffMs') !== undefined) {
    out.maxBackoffMs = int('retry.maxBackoffMs', own(o, 'maxBackoffMs'), L.maxBackoffMs.min, L.maxBackoffMs.max);
    if (out.backoffMs !== undefined && out.maxBackoffMs < out.backoffMs) fail('conflict', 'retry.maxBackoffMs', `retry.maxBackoffMs (${out.maxBackoffMs}) must be at least retry.backoffMs (${out.backoffMs})`);
  }
  return out;
}

function checkSilences(v: unknown, nowMs: number | null): Silence[] {
  return array('silences', v, 0, L.silences).map((item, i) => {
    const p = at('silences', i);
    const o: Obj = object(p, item);
    onlyKnown(p, o, ['cron', 'durationMs', 'timezone', 'comment']);
    const s: Silence = {
      cron: str(at(p, 'cron'), required(at(p, 'cron'), own(o, 'cron')), 1, L.cronLength),
      durationMs: int(at(p, 'durationMs'), required(at(p, 'durationMs'), own(o, 'durationMs')), L.silenceDurationMs.min, L.silenceDurationMs.max),
    };
    if (own(o, 'timezone') !== undefined) s.timezone = str(at(p, 'timezone'), own(o, 'timezone'), 1, L.timezoneLength);
    if (own(o, 'comment') !== undefined) s.comment = str(at(p, 'comment'), own(o, 'comment'), 0, L.commentLength);
    const problem = silenceProblem(s, nowMs);
    if (problem) fail('format', at(p, problem.field), `${at(p, problem.field)}: ${problem.message}`);
    return s;
  });
}
