// What a job sends to report in, read as hostile input (pure), and the other piece of a push check
// that comes from outside: the carry in a release (protocol/handover.ts reads it with the rest of
// the release).
//
// A report is the payload of `<prefix>.push.<id>` (the HTTP endpoint publishes the same form):
//   empty (or only whitespace)                              ok, no message
//   {"signal"?: "ok"|"fail"|"start", "message"?: string, "token"?: string}
// Anything else is refused (`invalid`); a payload over the node's LOOKOUT_PUSH_MAX_BYTES is refused
// before it is decoded (`too_large`). A message is kept sanitized: control characters become
// spaces, lone surrogates U+FFFD, and it is cut to PUSH_LIMITS.messageMaxLength characters.
import { PUSH_LIMITS } from './spec-schema-push';
import { PUSH_MAX_AGE_MS, PUSH_SIGNALS, PushSignal, type PushCarry } from './push-deadline';

export interface PushReport {
  signal: PushSignal;
  message: string | null;
  /** As sent: compared with the spec's token in constant time (runtime/push-registry.ts), never logged. */
  token: string | null;
}

export type PushRefusal = { refused: 'too_large' | 'invalid'; why: string };

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const FIELDS = new Set(['signal', 'message', 'token']);

/** A report from its raw bytes, or why it is refused. */
export function parsePushReport(data: Uint8Array, maxBytes: number): PushReport | PushRefusal {
  if (data.byteLength > maxBytes) return { refused: 'too_large', why: `${data.byteLength} bytes; at most ${maxBytes}` };
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return { refused: 'invalid', why: 'not UTF-8' };
  }
  if (text.trim() === '') return { signal: PushSignal.ok, message: null, token: null };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { refused: 'invalid', why: 'not JSON' };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { refused: 'invalid', why: 'not a JSON object' };
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !FIELDS.has(k));
  if (unknown !== undefined) return { refused: 'invalid', why: `unknown field (allowed: signal, message, token)` };
  const { signal = PushSignal.ok, message, token } = o;
  if (!PUSH_SIGNALS.includes(signal as PushSignal)) return { refused: 'invalid', why: 'signal must be "ok", "fail" or "start"' };
  if (message !== undefined && message !== null && typeof message !== 'string') return { refused: 'invalid', why: 'message must be a string' };
  if (token !== undefined && typeof token !== 'string') return { refused: 'invalid', why: 'token must be a string' };
  return { signal: signal as PushSignal, message: typeof message === 'string' ? sanitizeMessage(message) : null, token: token ?? null };
}

/** Control characters as spaces, lone surrogates as U+FFFD, at most messageMaxLength characters; null when nothing is left. */
export function sanitizeMessage(s: string): string | null {
  const clean = s.slice(0, PUSH_LIMITS.messageMaxLength).replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(LONE_SURROGATE, '\ufffd').trim();
  return clean === '' ? null : clean;
}

const age = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= PUSH_MAX_AGE_MS;

/** A release's `push` member (hostile input): the carry, or null when it does not parse. */
export function parsePushCarry(raw: unknown): PushCarry | null {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return null;
  const { sinceAgoMs, last, runAgoMs, runMs } = raw as Record<string, unknown>;
  if (!age(sinceAgoMs)) return null;
  if (runAgoMs !== undefined && !age(runAgoMs)) return null;
  if (runMs !== undefined && !age(runMs)) return null;
  let l: PushCarry['last'];
  if (last !== undefined) {
    if (last === null || typeof last !== 'object') return null;
    const { agoMs, signal, message } = last as Record<string, unknown>;
    if (!age(agoMs) || !PUSH_SIGNALS.includes(signal as PushSignal)) return null;
    if (message !== null && (typeof message !== 'string' || message.length > PUSH_LIMITS.messageMaxLength)) return null;
    l = { agoMs, signal: signal as PushSignal, message: message === null ? null : sanitizeMessage(message) };
  }
  return { sinceAgoMs, ...(l ? { last: l } : {}), ...(runAgoMs !== undefined ? { runAgoMs } : {}), ...(runMs !== undefined ? { runMs } : {}) };
}
