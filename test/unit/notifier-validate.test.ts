// Notifier documents (protocol/notifier-validate.ts): every bound, error code and field path, as
// a table; the first failing rule is the one reported; a valid document comes back as written.
import { decodeNotifierPayload, validateNotifier } from '../../protocol/notifier-validate';
import { NOTIFIER_LIMITS as L, normalizeNotifier } from '../../protocol/notifier';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const URL_OK = 'http://127.0.0.1:9000/hook';
const doc = (extra: Record<string, unknown> = {}, webhook: Record<string, unknown> = {}) => ({ webhook: { url: URL_OK, ...webhook }, ...extra });
const silence = (s: Record<string, unknown>) => doc({ silences: [{ cron: '0 2 * * *', durationMs: 60_000, ...s }] });

const CASES: [string, unknown, string, string][] = [
  ['not an object', [], 'not_object', ''],
  ['unknown top-level field', doc({ extra: 1 }), 'unknown_field', 'extra'],
  ['id differs', doc({ id: 'x' }), 'id_mismatch', 'id'],
  ['webhook missing', {}, 'required', 'webhook'],
  ['webhook not an object', { webhook: 'http://x' }, 'not_object', 'webhook'],
  ['url missing', { webhook: {} }, 'required', 'webhook.url'],
  ['url not a string', doc({}, { url: 5 }), 'type', 'webhook.url'],
  ['url too long', doc({}, { url: `http://a.example/${'x'.repeat(L.urlLength)}` }), 'range', 'webhook.url'],
  ['url scheme', doc({}, { url: 'file:///etc/passwd' }), 'format', 'webhook.url'],
  ['url relative', doc({}, { url: '/hook' }), 'format', 'webhook.url'],
  ['url credentials', doc({}, { url: 'https://u:p@a.example/' }), 'format', 'webhook.url'],
  ['webhook unknown field', doc({}, { method: 'PUT' }), 'unknown_field', 'webhook.method'],
  ['format unknown', doc({}, { format: 'xml' }), 'enum', 'webhook.format'],
  ['template with slack', doc({}, { format: 'slack', template: '{}' }), 'conflict', 'webhook.template'],
  ['template empty', doc({}, { template: '' }), 'range', 'webhook.template'],
  ['template too long', doc({}, { template: `"${'x'.repeat(L.templateLength)}"` }), 'range', 'webhook.template'],
  ['template unknown placeholder', doc({}, { template: '{"t":"{{nope}}"}' }), 'format', 'webhook.template'],
  ['template label without name', doc({}, { template: '{"t":"{{labels.}}"}' }), 'format', 'webhook.template'],
  ['template not JSON once rendered', doc({}, { template: '{"t": {{check}} }' }), 'format', 'webhook.template'],
  ['template too many placeholders', doc({}, { template: `[${Array(33).fill('"{{check}}"').join(',')}]` }), 'format', 'webhook.template'],
  ['headers not an object', doc({}, { headers: [] }), 'not_object', 'webhook.headers'],
  ['too many headers', doc({}, { headers: Object.fromEntries(Array.from({ length: L.headers + 1 }, (_, i) => [`x-h${i}`, 'v'])) }), 'range', 'webhook.headers'],
  ['header name', doc({}, { headers: { 'bad name': 'v' } }), 'format', 'webhook.headers.bad name'],
  ['header managed', doc({}, { headers: { 'Lookout-Delivery': 'x' } }), 'conflict', 'webhook.headers.Lookout-Delivery'],
  ['header twice', doc({}, { headers: { 'X-A': '1', 'x-a': '2' } }), 'conflict', 'webhook.headers.x-a'],
  ['header value CRLF', doc({}, { headers: { 'X-A': 'a\r\nB: c' } }), 'format', 'webhook.headers.X-A'],
  ['header value too long', doc({}, { headers: { 'X-A': 'v'.repeat(L.headerValueLength + 1) } }), 'range', 'webhook.headers.X-A'],
  ['timeout low', doc({}, { timeoutMs: L.timeoutMs.min - 1 }), 'range', 'webhook.timeoutMs'],
  ['timeout high', doc({}, { timeoutMs: L.timeoutMs.max + 1 }), 'range', 'webhook.timeoutMs'],
  ['timeout fraction', doc({}, { timeoutMs: 100.5 }), 'type', 'webhook.timeoutMs'],
  ['match unknown', doc({ match: { id: [] } }), 'unknown_field', 'match.id'],
  ['ids empty', doc({ match: { ids: [] } }), 'range', 'match.ids'],
  ['too many ids', doc({ match: { ids: Array(L.idGlobs + 1).fill('a') } }), 'range', 'match.ids'],
  ['glob characters', doc({ match: { ids: ['a.b'] } }), 'format', 'match.ids[0]'],
  ['glob too long', doc({ match: { ids: ['a'.repeat(L.globLength + 1)] } }), 'range', 'match.ids[0]'],
  ['label name', doc({ match: { labels: { 'a b': 'x' } } }), 'format', 'match.labels.a b'],
  ['label value type', doc({ match: { labels: { team: 1 } } }), 'type', 'match.labels.team'],
  ['too many labels', doc({ match: { labels: Object.fromEntries(Array.from({ length: L.labels + 1 }, (_, i) => [`l${i}`, 'v'])) } }), 'range', 'match.labels'],
  ['on empty', doc({ on: [] }), 'range', 'on'],
  ['on unknown', doc({ on: ['sideways'] }), 'enum', 'on[0]'],
  ['on twice', doc({ on: ['down', 'down'] }), 'conflict', 'on'],
  ['attempts low', doc({ retry: { attempts: 0 } }), 'range', 'retry.attempts'],
  ['attempts high', doc({ retry: { attempts: L.attempts.max + 1 } }), 'range', 'retry.attempts'],
  ['backoff low', doc({ retry: { backoffMs: L.backoffMs.min - 1 } }), 'range', 'retry.backoffMs'],
  ['max backoff below backoff', doc({ retry: { backoffMs: 5000, maxBackoffMs: 4000 } }), 'conflict', 'retry.maxBackoffMs'],
  ['retry unknown', doc({ retry: { jitter: true } }), 'unknown_field', 'retry.jitter'],
  ['remind low', doc({ remindEveryMs: L.remindEveryMs.min - 1 }), 'range', 'remindEveryMs'],
  ['remind high', doc({ remindEveryMs: L.remindEveryMs.max + 1 }), 'range', 'remindEveryMs'],
  ['silences not array', doc({ silences: {} }), 'type', 'silences'],
  ['too many silences', doc({ silences: Array(L.silences + 1).fill({ cron: '0 2 * * *', durationMs: 60_000 }) }), 'range', 'silences'],
  ['silence cron missing', doc({ silences: [{ durationMs: 60_000 }] }), 'required', 'silences[0].cron'],
  ['silence duration missing', doc({ silences: [{ cron: '0 2 * * *' }] }), 'required', 'silences[0].durationMs'],
  ['silence cron bad', silence({ cron: '0 25 * * *' }), 'format', 'silences[0].cron'],
  ['silence cron never', silence({ cron: '0 0 0 31 2 * 2020' }), 'format', 'silences[0].cron'],
  ['silence cron too long', silence({ cron: `0 ${'1,'.repeat(70)}2 * * *` }), 'range', 'silences[0].cron'],
  ['silence duration low', silence({ durationMs: 999 }), 'range', 'silences[0].durationMs'],
  ['silence duration high', silence({ durationMs: L.silenceDurationMs.max + 1 }), 'range', 'silences[0].durationMs'],
  ['silence zone unknown', silence({ timezone: 'Europe/Atlantis' }), 'format', 'silences[0].timezone'],
  ['silence comment too long', silence({ comment: 'c'.repeat(L.commentLength + 1) }), 'range', 'silences[0].comment'],
  ['silence unknown field', silence({ every: 'day' }), 'unknown_field', 'silences[0].every'],
];

describe('validateNotifier', () => {
  test.each(CASES)('%s', (_what, raw, code, path) => {
    const r = validateNotifier(raw, 'ops', NOW);
    expect(r).toEqual({ ok: false, error: { code, path, message: expect.any(String) } });
  });

  test('a full document comes back as written; defaults are filled by normalizeNotifier', () => {
    const full = {
      id: 'ops',
      match: { ids: ['api-*', 'db-?'], labels: { team: 'payments' } },
      on: ['down'],
      webhook: { url: 'https://hooks.example/x?y=1', format: 'json', template: '{"text":"{{text}}","team":"{{labels.team}}"}', headers: { Authorization: 'Bearer x' }, timeoutMs: 2000 },
      retry: { attempts: 3, backoffMs: 500, maxBackoffMs: 4000 },
      remindEveryMs: 3_600_000,
      silences: [{ cron: '0 2 * * SUN', durationMs: 7_200_000, timezone: 'Europe/Berlin', comment: 'patching' }],
    };
    expect(validateNotifier(full, 'ops', NOW)).toEqual({ ok: true, notifier: full });
    const n = normalizeNotifier('min', { webhook: { url: URL_OK } });
    expect(n).toEqual({ id: 'min', match: { ids: null, labels: {} }, on: ['down', 'up'], webhook: { url: URL_OK, format: 'json', template: null, headers: {}, timeoutMs: 5000 }, retry: { attempts: 5, backoffMs: 1000, maxBackoffMs: 300_000 }, remindEveryMs: null, silences: [] });
  });

  test('on may name the published verdicts degraded and flapping (opt-in: not in the default)', () => {
    const doc2 = { webhook: { url: URL_OK }, on: ['down', 'up', 'degraded', 'flapping'] };
    expect(validateNotifier(doc2, 'ops', NOW)).toEqual({ ok: true, notifier: doc2 });
  });

  test('a one-off window that has passed is refused at put time, kept when read back (nowMs null)', () => {
    const past = silence({ cron: '0 0 2 1 1 * 2026' });
    expect(validateNotifier(past, 'ops', NOW)).toMatchObject({ ok: false, error: { code: 'format', path: 'silences[0].cron' } });
    expect(validateNotifier(past, 'ops', null)).toMatchObject({ ok: true });
  });
});

describe('decodeNotifierPayload', () => {
  const bytes = (s: string) => Buffer.from(s);
  test.each([
    ['bad id', 'a.b', bytes('{}'), 'invalid_id', 'id'],
    ['too large', 'ops', Buffer.alloc(L.maxBytes + 1, 0x20), 'too_large', ''],
    ['not UTF-8', 'ops', Buffer.from([0x7b, 0xff, 0x7d]), 'invalid_json', ''],
    ['byte order mark', 'ops', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes('{}')]), 'invalid_json', ''],
    ['not JSON', 'ops', bytes('{"webhook":'), 'invalid_json', ''],
  ])('%s', (_what, id, payload, code, path) => {
    expect(decodeNotifierPayload(payload, id, NOW)).toEqual({ ok: false, error: { code, path, message: expect.any(String) } });
  });

  test('valid bytes', () => {
    expect(decodeNotifierPayload(bytes(JSON.stringify(doc())), 'ops', NOW)).toEqual({ ok: true, notifier: doc() });
  });
});
