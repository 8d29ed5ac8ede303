// Routing of verdict changes to notifiers (protocol/notify-match.ts): globs, labels, `on`, what is
// no news, the delivery id, and status messages read as hostile input.
import { deliveryId, globMatch, notifiable, routeChange, statusViewOf, wantsChange, type StatusView } from '../../protocol/notify-match';
import { normalizeNotifier, type Notifier } from '../../protocol/notifier';

const hook = { url: 'http://127.0.0.1:9/' };
const n = (id: string, doc: Omit<Notifier, 'webhook'> = {}) => normalizeNotifier(id, { webhook: hook, ...doc });
const change = (over: Partial<StatusView> = {}): StatusView => ({ checkId: 'api-1', from: 'up', to: 'down', at: '2026-06-01T12:00:00.000Z', node: 'n1', epoch: 3, seq: 41, reason: 'status', message: 'got 503', ...over });

test.each([
  ['api-*', 'api-1', true],
  ['api-*', 'api-', true],
  ['api-*', 'xapi-1', false],
  ['*-1', 'api-1', true],
  ['a?i-1', 'api-1', true],
  ['a?i-1', 'ai-1', false],
  ['*', 'anything', true],
  ['a*b*c', 'aXXbYYc', true],
  ['a*b*c', 'aXXbYY', false],
  ['**', '', true],
  ['exact', 'exact', true],
  ['exact', 'exactly', false],
  [`${'*a'.repeat(60)}b`, 'a'.repeat(128), false],
])('glob %s on %s → %s', (glob, id, want) => expect(globMatch(glob, id)).toBe(want));

test.each([
  ['up → down', 'up', 'down', null],
  ['down → up', 'down', 'up', null],
  ['unknown → down', 'unknown', 'down', null],
  ['unknown → up (a first verdict)', 'unknown', 'up', 'first_verdict_up'],
  ['down → down (a quorum formed again)', 'down', 'down', 'not_a_change'],
])('%s', (_w, from, to, want) => expect(notifiable({ from, to })).toBe(want));

describe('routeChange', () => {
  const all = [
    n('any'),
    n('downs', { on: ['down'] }),
    n('ups', { on: ['up'] }),
    n('api', { match: { ids: ['api-*'] } }),
    n('db', { match: { ids: ['db-*'] } }),
    n('payments', { match: { labels: { team: 'payments' } } }),
    n('api-payments', { match: { ids: ['api-*'], labels: { team: 'payments', tier: '1' } } }),
  ];
  const ids = (r: { id: string }[]) => r.map((x) => x.id);
  test('a down of api-1 with team=payments', () => expect(ids(routeChange(all, change(), { team: 'payments' }))).toEqual(['any', 'downs', 'api', 'payments']));
  test('every label must match', () => expect(ids(routeChange(all, change(), { team: 'payments', tier: '1' }))).toEqual(['any', 'downs', 'api', 'payments', 'api-payments']));
  test('a check without a spec has no labels', () => expect(ids(routeChange(all, change({ checkId: 'db-2' }), undefined))).toEqual(['any', 'downs', 'db']));
  test('a recovery', () => expect(ids(routeChange(all, change({ from: 'down', to: 'up' }), {}))).toEqual(['any', 'ups', 'api']));
  test('no news goes nowhere', () => expect(routeChange(all, change({ from: 'unknown', to: 'up' }), {})).toEqual([]));
});

describe('degraded and flapping: opt-in per notifier; without degraded, degraded reads as up', () => {
  test.each([
    // from, to, on → told?
    ['up', 'degraded', ['down', 'up'], false],
    ['degraded', 'up', ['down', 'up'], false],
    ['degraded', 'down', ['down', 'up'], true],
    ['down', 'degraded', ['down', 'up'], true], // a recovery, as far as it knows
    ['down', 'degraded', ['down'], false],
    ['unknown', 'degraded', ['down', 'up'], false], // a first verdict up
    ['up', 'degraded', ['degraded'], true],
    ['degraded', 'up', ['up', 'degraded'], true],
    ['up', 'flapping', ['down', 'up'], false],
    ['up', 'flapping', ['flapping'], true],
    ['flapping', 'down', ['down'], true],
    ['flapping', 'up', ['down'], false],
  ] as const)('%s → %s, on %j: %s', (from, to, on, want) => {
    expect(wantsChange(on, { from, to })).toBe(want);
    expect(routeChange([n('x', { on: [...on] })], change({ from, to }), {}).length).toBe(want ? 1 : 0);
  });

  test('a status message with a widened verdict is read; an unknown one is not', () => {
    expect(statusViewOf({ ...change(), to: 'flapping' })?.to).toBe('flapping');
    expect(statusViewOf({ ...change(), to: 'sideways' })).toBeNull();
  });
});

test('the delivery id names the notifier and the transition', () => expect(deliveryId('ops', change())).toBe('ops:api-1:3:41'));

describe('statusViewOf (hostile input)', () => {
  test('a status message', () => expect(statusViewOf({ ...change(), vantage: 0, extra: 'ignored' })).toEqual(change()));
  test('a quorum message (no vantage) with nulls', () => expect(statusViewOf({ ...change(), node: null, reason: null, message: null, quorum: {} })).toEqual({ ...change(), node: null, reason: null, message: null }));
  test.each([
    ['null', null],
    ['an array', []],
    ['no checkId', { ...change(), checkId: undefined }],
    ['a checkId with a dot', { ...change(), checkId: 'a.b' }],
    ['a verdict that is not one', { ...change(), to: 'sideways' }],
    ['a negative seq', { ...change(), seq: -1 }],
    ['a fractional epoch', { ...change(), epoch: 1.5 }],
    ['a huge from', { ...change(), from: 'x'.repeat(100) }],
  ])('%s is not one', (_w, data) => expect(statusViewOf(data)).toBeNull());
  test('an over-long message is dropped, not kept', () => expect(statusViewOf({ ...change(), message: 'm'.repeat(5000) })?.message).toBeNull());
});
