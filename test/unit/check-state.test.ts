// A check's state and uptime from what the cluster stored (protocol/check-state.ts), and the state
// API's request shapes (protocol/state-query.ts): table tests of the pure rules.
import { checkState, uptimeOf, type StoredResultView, type Transition } from '../../protocol/check-state';
import { labelsMatch, parseHistory, parseStateList, STATE_LIST_MAX_LIMIT } from '../../protocol/state-query';

const H = 3600_000;
const T0 = 1_800_000_000_000;
const change = (from: Transition['from'], to: Transition['to'], storedAt: number, extra: Partial<Transition> = {}): Transition => ({
  from,
  to,
  storedAt,
  at: new Date(storedAt).toISOString(),
  node: 'n1',
  reason: to === 'down' ? 'timeout' : null,
  message: to === 'down' ? 'no answer within 500 ms' : null,
  ...extra,
});
const result = (storedAt: number, ok: boolean, extra: Partial<StoredResultView> = {}): StoredResultView => ({
  ok,
  status: ok ? 'up' : 'down',
  at: new Date(storedAt).toISOString(),
  node: 'n2',
  vantage: 0,
  latencyMs: 12,
  reason: ok ? null : 'status',
  message: ok ? null : 'HTTP 503',
  seq: storedAt - T0,
  epoch: 3,
  storedAt,
  ...extra,
});

describe('checkState', () => {
  test('verdict and since from the newest change; last result the newest retained; last failure the newest failed result', () => {
    const st = checkState('api', change('up', 'down', T0), [result(T0 + 3000, false), result(T0 + 1000, false), result(T0 + 2000, true)]);
    expect(st).toMatchObject({ checkId: 'api', verdict: 'down', since: new Date(T0).toISOString(), lastResult: { storedAt: T0 + 3000 } });
    expect(st.lastFailure).toEqual({ at: new Date(T0 + 3000).toISOString(), node: 'n2', reason: 'status', message: 'HTTP 503' });
  });

  test('a change to down newer than every retained failure is the last failure (its reason and message)', () => {
    const st = checkState('api', change('up', 'down', T0 + 5000), [result(T0 + 1000, false), result(T0 + 6000, true)]);
    expect(st.lastFailure).toEqual({ at: new Date(T0 + 5000).toISOString(), node: 'n1', reason: 'timeout', message: 'no answer within 500 ms' });
  });

  test('an inconclusive result (the node stalled, not the target) is no failure', () => {
    const st = checkState('api', change('unknown', 'up', T0), [result(T0 + 1000, false, { reason: 'inconclusive', status: 'up' })]);
    expect(st.lastFailure).toBeNull();
  });

  test('no change retained: the newest result\'s verdict, since unknown; nothing at all: unknown', () => {
    expect(checkState('api', null, [result(T0, true)])).toMatchObject({ verdict: 'up', since: null });
    expect(checkState('api', null, [])).toEqual({ checkId: 'api', verdict: 'unknown', since: null, lastResult: null, lastFailure: null });
  });
});

describe('uptimeOf', () => {
  const from = T0;
  const to = T0 + 24 * H;
  test.each([
    ['up the whole window (changed before it)', [change('unknown', 'up', from - H)], { ratio: 1, upMs: 24 * H, downMs: 0, degradedMs: 0, flappingMs: 0, changes: 0 }],
    ['down 6 h in the middle', [change('unknown', 'up', from - H), change('up', 'down', from + 6 * H), change('down', 'up', from + 12 * H)], { ratio: 0.75, upMs: 18 * H, downMs: 6 * H, degradedMs: 0, flappingMs: 0, changes: 2 }],
    ['created inside the window: the unknown hours before its first verdict do not count', [change('unknown', 'up', from + 12 * H)], { ratio: 1, upMs: 12 * H, downMs: 0, degradedMs: 0, flappingMs: 0, changes: 1 }],
    ['older changes gone (retention): the first retained change says what it was before', [change('up', 'down', from + 18 * H)], { ratio: 0.75, upMs: 18 * H, downMs: 6 * H, degradedMs: 0, flappingMs: 0, changes: 1 }],
    ['a change after the window is not in it', [change('unknown', 'down', from - H), change('down', 'up', to + H)], { ratio: 0, upMs: 0, downMs: 24 * H, degradedMs: 0, flappingMs: 0, changes: 0 }],
    ['no change at all: unknown unless the window is fully retained', [], { ratio: null, upMs: 0, downMs: 0, degradedMs: 0, flappingMs: 0, changes: 0 }],
    ['degraded counts as up, and on its own', [change('unknown', 'up', from - H), change('up', 'degraded', from + 6 * H), change('degraded', 'up', from + 12 * H)], { ratio: 1, upMs: 24 * H, downMs: 0, degradedMs: 6 * H, flappingMs: 0, changes: 2 }],
    ['flapping is left out of the ratio, like unknown', [change('unknown', 'up', from - H), change('up', 'flapping', from + 6 * H), change('flapping', 'down', from + 12 * H)], { ratio: 1 / 3, upMs: 6 * H, downMs: 12 * H, degradedMs: 0, flappingMs: 6 * H, changes: 2 }],
  ] as const)('%s', (_name, changes, want) => {
    expect(uptimeOf(changes, from, to)).toEqual(want);
  });

  test('no change retained and the window fully retained: the current verdict held throughout', () => {
    expect(uptimeOf([], from, to, 'down', true)).toEqual({ ratio: 0, upMs: 0, downMs: 24 * H, degradedMs: 0, flappingMs: 0, changes: 0 });
    expect(uptimeOf([], from, to, 'unknown', true).ratio).toBeNull();
  });
});

describe('state list and history requests are hostile input', () => {
  const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
  test.each([
    ['empty: every check, the default page', '', { ok: true, value: { prefix: null, labels: {}, after: null, limit: 100 } }],
    ['prefix, labels, after and limit', { prefix: 'api-', labels: { team: 'pay' }, after: 'api-3', limit: 5 }, { ok: true, value: { prefix: 'api-', labels: { team: 'pay' }, after: 'api-3', limit: 5 } }],
    ['not JSON', '{', { ok: false, error: { code: 'invalid_json', path: '' } }],
    ['an array', [], { ok: false, error: { code: 'not_object', path: '' } }],
    ['an unknown field', { sort: 'id' }, { ok: false, error: { code: 'unknown_field', path: 'sort' } }],
    ['a prefix that no id can start with', { prefix: 'a.b' }, { ok: false, error: { code: 'format', path: 'prefix' } }],
    ['a label value that is not a string', { labels: { team: 1 } }, { ok: false, error: { code: 'type', path: 'labels.team' } }],
    ['too many labels', { labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }, { ok: false, error: { code: 'range', path: 'labels' } }],
    ['a label longer than 256 characters', { labels: { k: 'v'.repeat(257) } }, { ok: false, error: { code: 'range', path: 'labels.k' } }],
    ['a limit past the bound', { limit: STATE_LIST_MAX_LIMIT + 1 }, { ok: false, error: { code: 'range', path: 'limit' } }],
    ['an after that is no id', { after: '../x' }, { ok: false, error: { code: 'invalid_id', path: 'after' } }],
  ] as const)('list: %s', (_name, body, want) => {
    expect(parseStateList(enc(body))).toMatchObject(want);
  });

  const now = T0;
  test.each([
    ['empty: the last 24 hours', '', { ok: true, value: { fromMs: now - 24 * H, toMs: now } }],
    ['from and to', { from: '2027-01-15T08:00:00Z', to: '2027-01-15T09:00:00Z' }, { ok: true, value: { fromMs: Date.parse('2027-01-15T08:00:00Z'), toMs: Date.parse('2027-01-15T09:00:00Z') } }],
    ['not a time', { from: 'yesterday' }, { ok: false, error: { code: 'format', path: 'from' } }],
    ['from after to', { from: '2027-01-15T10:00:00Z', to: '2027-01-15T09:00:00Z' }, { ok: false, error: { code: 'range', path: 'from' } }],
    ['an unknown field', { step: '1h' }, { ok: false, error: { code: 'unknown_field', path: 'step' } }],
  ] as const)('history: %s', (_name, body, want) => {
    expect(parseHistory(enc(body), now)).toMatchObject(want);
  });

  test('labels match when the spec has every one asked for', () => {
    expect(labelsMatch({ team: 'pay', tier: '1' }, { team: 'pay' })).toBe(true);
    expect(labelsMatch({ team: 'pay' }, { team: 'pay', tier: '1' })).toBe(false);
    expect(labelsMatch(undefined, {})).toBe(true);
    expect(labelsMatch(undefined, { team: 'pay' })).toBe(false);
  });
});
