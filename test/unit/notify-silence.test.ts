// Silences (protocol/notify-silence.ts), judged at fixed instants: croner patterns read in their
// time zone (daylight saving time included), windows longer than the period, the next window,
// and what is not a silence.
import { openWindow, silencedAt, silenceProblem, upcomingSilences } from '../../protocol/notify-silence';
import type { Silence } from '../../protocol/notifier';

const at = (iso: string) => Date.parse(iso);
const HOUR = 3_600_000;
// Sundays 02:00 for two hours, Berlin time (CET in winter = UTC+1, CEST in summer = UTC+2).
const sunday: Silence = { cron: '0 2 * * SUN', durationMs: 2 * HOUR, timezone: 'Europe/Berlin', comment: 'patching' };

test.each([
  ['winter: Sun 01:00 UTC is 02:00 Berlin, the start', '2026-01-04T01:00:00Z', true],
  ['winter: just before', '2026-01-04T00:59:59Z', false],
  ['winter: the last millisecond', '2026-01-04T02:59:59.999Z', true],
  ['winter: the end is open', '2026-01-04T03:00:00Z', false],
  ['summer: Sun 00:00 UTC is 02:00 Berlin', '2026-07-05T00:00:00Z', true],
  ['summer: 02:00 UTC is 04:00 Berlin, closed', '2026-07-05T02:00:00Z', false],
  ['a Monday', '2026-01-05T01:30:00Z', false],
])('%s', (_w, iso, open) => expect(openWindow(sunday, at(iso)) !== null).toBe(open));

test('the window says when it opened and closes', () => {
  expect(openWindow(sunday, at('2026-01-04T02:00:00Z'))).toEqual({ startMs: at('2026-01-04T01:00:00Z'), endMs: at('2026-01-04T03:00:00Z') });
  expect(silencedAt([sunday], at('2026-01-04T02:00:00Z'))).toEqual({ index: 0, silence: sunday, startsAt: '2026-01-04T01:00:00.000Z', endsAt: '2026-01-04T03:00:00.000Z' });
});

test('UTC when no zone is given', () => expect(openWindow({ cron: '0 2 * * *', durationMs: HOUR }, at('2026-01-04T02:30:00Z'))).not.toBeNull());

test('a window longer than the period: the latest start counts (it closes last)', () => {
  const s: Silence = { cron: '*/10 * * * *', durationMs: 25 * 60_000 };
  expect(openWindow(s, at('2026-01-04T12:34:00Z'))).toEqual({ startMs: at('2026-01-04T12:30:00Z'), endMs: at('2026-01-04T12:55:00Z') });
});

test('of several silences, the open one that closes last', () => {
  const short: Silence = { cron: '0 12 * * *', durationMs: HOUR };
  const long: Silence = { cron: '30 11 * * *', durationMs: 4 * HOUR };
  expect(silencedAt([short, long], at('2026-01-04T12:10:00Z'))).toMatchObject({ index: 1, endsAt: '2026-01-04T15:30:00.000Z' });
  expect(silencedAt([short, long], at('2026-01-04T10:00:00Z'))).toBeNull();
  expect(silencedAt([], at('2026-01-04T10:00:00Z'))).toBeNull();
});

test('a one-off window (a 7-field pattern with its year)', () => {
  const once: Silence = { cron: '0 0 22 15 3 * 2026', durationMs: 6 * HOUR, timezone: 'America/New_York' };
  expect(openWindow(once, at('2026-03-16T03:00:00Z'))).not.toBeNull(); // 23:00 New York (EDT, UTC-4)
  expect(openWindow(once, at('2027-03-16T03:00:00Z'))).toBeNull();
  expect(upcomingSilences([once], at('2027-01-01T00:00:00Z'))).toEqual([{ index: 0, silence: once, startsAt: null }]);
});

test('the next window of each silence', () => {
  expect(upcomingSilences([sunday], at('2026-01-05T00:00:00Z'))).toEqual([{ index: 0, silence: sunday, startsAt: '2026-01-11T01:00:00.000Z' }]);
});

test.each([
  ['a valid pattern and zone', { cron: '0 2 * * SUN', timezone: 'Asia/Kolkata' }, null, undefined],
  ['an unknown zone', { cron: '0 2 * * *', timezone: 'Nowhere/Town' }, null, 'timezone'],
  ['a minute of 60', { cron: '60 * * * *' }, null, 'cron'],
  ['garbage', { cron: 'every day' }, null, 'cron'],
  ['never again (put time)', { cron: '0 0 1 1 * * 2020' }, at('2026-01-01T00:00:00Z'), 'cron'],
  ['never again, read back', { cron: '0 0 1 1 * * 2020' }, null, undefined],
])('silenceProblem: %s', (_w, s, now, field) => expect(silenceProblem(s, now)?.field).toBe(field));
