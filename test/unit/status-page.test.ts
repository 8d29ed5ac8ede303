// The status page's server side without a browser or NATS: the URL parameters it accepts
// (protocol/status-page-query.ts), the view the page reads from its own URL (web/view.js, pure), its JSON errors (runtime/status-api.ts) on an in-memory bus, the
// live-update hub (runtime/status-events.ts) with fake streams under a manual clock — the client
// bound, a slow client dropped and logged, hostile messages re-encoded, cleanup on stop.
import { Writable } from 'node:stream';
import pino from 'pino';
import { STATE_LABEL_MAX_CHARS, STATE_LIST_MAX_LABELS, STATE_LIST_MAX_LIMIT } from '../../protocol/state-query';
import { parseCheckId, parseChecksQuery, PAGE_QUERY_MAX_CHARS } from '../../protocol/status-page-query';
import { COUNTED_VERDICTS } from '../../protocol/verdict-counts';
import { ManualClock } from '../../runtime/clock';
import { statusApi } from '../../runtime/status-api';
import { startStatusEvents, type EventSink } from '../../runtime/status-events';
import { subjects } from '../../runtime/subjects';
import { FakeHub } from '../helpers/fake-bus';

const s = subjects('lookout');
// Plain browser JavaScript (no build step), loaded here through its CommonJS export.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const V = require('../../web/view.js');

/** A pino logger whose lines the test reads. */
function capturedLog() {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

class FakeSink implements EventSink {
  chunks: string[] = [];
  writableLength = 0;
  ended = false;
  destroyed = false;
  private onClose: (() => void) | null = null;
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  once(_e: 'close', fn: () => void): unknown {
    this.onClose = fn;
    return this;
  }
  close(): void {
    this.onClose?.();
  }
  events(): { event: string; data: any }[] {
    return this.chunks.filter((c) => c.startsWith('event: ')).map((c) => {
      const [ev, data, ...rest] = c.split('\n');
      expect(rest).toEqual(['', '']); // one event is exactly two lines and a blank one
      return { event: ev!.slice('event: '.length), data: JSON.parse(data!.slice('data: '.length)) };
    });
  }
}

describe('parseChecksQuery', () => {
  test('prefix, labels, after and limit become a state.list body', () => {
    expect(parseChecksQuery('prefix=web-&label=team=pay&label=tier=1&after=web-a&limit=50')).toEqual({
      ok: true,
      value: { prefix: 'web-', labels: { team: 'pay', tier: '1' }, after: 'web-a', limit: 50 },
    });
    expect(parseChecksQuery('')).toEqual({ ok: true, value: {} });
  });

  test.each([
    ['an unknown parameter', 'sort=id', 'unknown_field', 'sort'],
    ['a parameter twice', 'limit=1&limit=2', 'bad_request', 'limit'],
    ['a limit out of range', 'limit=501', 'range', 'limit'],
    ['a limit that is no integer', 'limit=1e3', 'range', 'limit'],
    ['a prefix that is no id start', 'prefix=a.b', 'format', 'prefix'],
    ['a label without =', 'label=team', 'format', 'label'],
    ['an after that is no id', 'after=%3Cscript%3E', 'invalid_id', 'after'],
    ['a query past the cap', `prefix=${'a'.repeat(PAGE_QUERY_MAX_CHARS)}`, 'range', ''],
    ['too many parameters', Array.from({ length: 40 }, (_, i) => `label=k${i}=v`).join('&'), 'range', ''],
  ])('refuses %s', (_n, query, code, path) => {
    expect(parseChecksQuery(query)).toMatchObject({ ok: false, error: { code, path } });
  });

  test('an error never repeats the parameter name beyond a short, harmless slice', () => {
    const r = parseChecksQuery(`${encodeURIComponent('<img src=x onerror=alert(1)>')}=1`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(JSON.stringify(r.error)).not.toMatch(/[<>]/);
  });
});

describe('the page\'s view (web/view.js)', () => {
  const def = { prefix: '', labels: [], verdict: '', after: null, from: 1, size: 100 };

  test.each([
    ['nothing', '', {}],
    ['a prefix', '?prefix=web-', { prefix: 'web-' }],
    ['labels, repeated, the later value of a key winning', 'label=env%3Dprod&label=team=edge&label=env=stage', { labels: [['env', 'stage'], ['team', 'edge']] }],
    ['a cursor with its row number', 'after=fleet-099&from=101', { after: 'fleet-099', from: 101 }],
    ['a row number without a cursor (meaningless: 1)', 'from=101', {}],
    ['a page size of the list', 'size=25', { size: 25 }],
    ['a verdict', 'verdict=down', { verdict: 'down' }],
    ['everything', 'prefix=x&label=a=b&verdict=unknown&after=x-1&from=3&size=200', { prefix: 'x', labels: [['a', 'b']], verdict: 'unknown', after: 'x-1', from: 3, size: 200 }],
  ])('reads %s', (_n, search, want) => {
    expect(V.parseView(search)).toEqual({ view: { ...def, ...want }, problems: [] });
  });

  test.each([
    ['an unknown parameter', 'sort=id', {}],
    ['a prefix that is no id start', 'prefix=%3Cscript%3E', {}],
    ['a prefix past 128 characters', `prefix=${'a'.repeat(129)}`, {}],
    ['a label without =', 'label=env', {}],
    ['a label key past the bound', `label=${'k'.repeat(STATE_LABEL_MAX_CHARS + 1)}=v`, {}],
    ['a cursor that is no id', 'after=a.b', {}],
    ['a row number that is no integer', 'after=a&from=1e3', { after: 'a' }],
    ['a row number of 0', 'after=a&from=0', { after: 'a' }],
    ['a page size not offered', 'size=100000', {}],
    ['a verdict that is none of the names', 'verdict=%3Cb%3Esideways', {}],
    ['a verdict twice (the first is kept)', 'verdict=down&verdict=up', { verdict: 'down' }],
    ['a parameter twice (the first is kept)', 'prefix=a&prefix=b', { prefix: 'a' }],
    ['a query past 4096 characters', `prefix=a&label=k=${'v'.repeat(4100)}`, {}],
  ])('drops %s and says so', (_n, search, kept) => {
    const r = V.parseView(search);
    expect(r.view).toEqual({ ...def, ...kept });
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).not.toMatch(/[<>]/);
  });

  test('labels past the bound are dropped with one problem each', () => {
    const r = V.parseView(Array.from({ length: STATE_LIST_MAX_LABELS + 2 }, (_, i) => `label=k${i}=v`).join('&'));
    expect(r.view.labels).toHaveLength(STATE_LIST_MAX_LABELS);
    expect(r.problems).toHaveLength(2);
  });

  test('viewSearch writes what parseView reads (defaults left out)', () => {
    const views = [def, { ...def, prefix: 'web-' }, { ...def, verdict: 'flapping' }, { ...def, labels: [['env', 'prod'], ['a b', 'c=d']], after: 'w-9', from: 201, size: 50 }];
    for (const v of views) expect(V.parseView(V.viewSearch(v))).toEqual({ view: v, problems: [] });
    expect(V.viewSearch(def)).toBe('');
    expect(V.viewSearch({ ...def, after: 'a' })).toBe('?after=a');
  });

  test('apiQuery is what the API accepts: the filter, the cursor and a limit', () => {
    const q = V.apiQuery({ ...def, prefix: 'web-', labels: [['env', 'prod']], after: 'x', from: 7 }, 'web-9', 101);
    expect(q).toBe('prefix=web-&label=env%3Dprod&after=web-9&limit=101');
    expect(parseChecksQuery(q)).toEqual({ ok: true, value: { prefix: 'web-', labels: { env: 'prod' }, after: 'web-9', limit: 101 } });
    // The page asks for one row more than it shows: every size stays within the API's limit.
    for (const size of V.PAGE_SIZES) expect(parseChecksQuery(V.apiQuery(def, null, size + 1)).ok).toBe(true);
    expect(Math.max(...V.PAGE_SIZES) + 1).toBeLessThanOrEqual(STATE_LIST_MAX_LIMIT);
    expect(V.MAX_LABELS).toBe(STATE_LIST_MAX_LABELS);
    // Every verdict the page offers is one the API accepts, and the other way round.
    expect(V.VERDICTS).toEqual(COUNTED_VERDICTS);
    for (const verdict of V.VERDICTS) expect(parseChecksQuery(V.apiQuery({ ...def, verdict }, null, 10))).toEqual({ ok: true, value: { verdict, limit: 10 } });
  });

  test.each([
    ['env=prod, team=edge', [['env', 'prod'], ['team', 'edge']], 0],
    ['  env = prod ,, ', [['env', 'prod']], 0],
    ['', [], 0],
    ['env', [], 1],
    ['=x, a=b', [['a', 'b']], 1],
  ])('the labels box %j', (text, labels, problems) => {
    const r = V.parseLabelsText(text);
    expect(r.labels).toEqual(labels);
    expect(r.problems).toHaveLength(problems);
    expect(V.labelsText(r.labels)).toBe(labels.map(([k, v]) => `${k}=${v}`).join(', '));
  });
});

describe('one page of a view (web/view.js fetchPage) against a list shaped like state.list', () => {
  const def = { prefix: '', labels: [], after: null, from: 1, size: 3 };
  /** state.list's rules in small: list order, a prefix filter, at most `limit` states, at most `scan` ids looked at. */
  function fakeList(ids: string[], scan: number) {
    const asked: string[] = [];
    const ask = async (query: string) => {
      asked.push(query);
      const q = parseChecksQuery(query);
      if (!q.ok) throw new Error(q.error.message);
      const { prefix = '', after, limit = 100 } = q.value;
      const from = after === undefined ? 0 : ids.indexOf(after) + 1;
      const states: { checkId: string }[] = [];
      let i = from;
      for (; i < ids.length && i - from < scan && states.length < limit; i++) if (ids[i]!.startsWith(prefix)) states.push({ checkId: ids[i]! });
      return { ok: true, states, next: i >= ids.length ? null : ids[i - 1]!, scanned: i - from };
    };
    return { ask, asked };
  }
  const ids = ['b1', 'a1', 'a2', 'c1', 'a3', 'b2', 'a4'];

  test.each([
    ['the first page: one row more asked, so more is known', def, { states: ['b1', 'a1', 'a2'], next: 'a2', partial: false }],
    ['a middle page', { ...def, after: 'a2' }, { states: ['c1', 'a3', 'b2'], next: 'b2', partial: false }],
    ['the last page, full to the row: no more', { ...def, after: 'c1' }, { states: ['a3', 'b2', 'a4'], next: null, partial: false }],
    ['a short last page', { ...def, after: 'b2' }, { states: ['a4'], next: null, partial: false }],
    ['a filter filling the page over several scans', { ...def, prefix: 'a' }, { states: ['a1', 'a2', 'a3'], next: 'a3', partial: false }],
    ['a filter matching nothing', { ...def, prefix: 'z' }, { states: [], next: null, partial: false }],
  ])('%s', async (_n, view, want) => {
    const r = await V.fetchPage(view, fakeList(ids, 2).ask);
    expect({ states: r.states.map((st: any) => st.checkId), next: r.next, partial: r.partial }).toEqual(want);
  });

  test('after maxCalls requests the page is partial: it says how far it looked, and next goes on from there', async () => {
    const many = [...Array.from({ length: 20 }, (_, i) => `b${String(i).padStart(2, '0')}`), 'a1'];
    const f = fakeList(many, 4);
    const r = await V.fetchPage({ ...def, prefix: 'a' }, f.ask, 3);
    expect([r.states, r.next, r.partial, r.scanned, f.asked.length]).toEqual([[], 'b11', true, 12, 3]);
    const rest = await V.fetchPage({ ...def, prefix: 'a', after: r.next }, f.ask, 3);
    expect([rest.states.map((st: any) => st.checkId), rest.next, rest.partial]).toEqual([['a1'], null, false]);
  });

  test('an answer\'s hostile ids are left out', async () => {
    const r = await V.fetchPage(def, async () => ({ states: [{ checkId: '<img>' }, null, { checkId: 'ok-1' }], next: '../x', scanned: 3 }));
    expect([r.states, r.next]).toEqual([[{ checkId: 'ok-1' }], null]);
  });
});

test('parseCheckId: the check-id pattern, percent-decoded', () => {
  expect(parseCheckId('web-1')).toEqual({ ok: true, value: 'web-1' });
  expect(parseCheckId('web%2D1')).toEqual({ ok: true, value: 'web-1' });
  for (const bad of ['', '%3Cscript%3E', 'a.b', 'a%2Fb', '%E0%A4%A', 'x'.repeat(129)]) expect(parseCheckId(bad)).toMatchObject({ ok: false, error: { code: 'invalid_id', path: 'id' } });
});

describe('statusApi', () => {
  const hub = new FakeHub();
  const bus = hub.connect('page');
  const api = statusApi({ bus, subjects: s, log: pino({ level: 'silent' }), timeoutMs: 200 });

  test('a bad id is a 400 with invalid_id, and nothing is asked of the cluster', async () => {
    const before = hub.log.length;
    expect(await api.check('%3Cb%3E')).toEqual({ status: 400, body: { ok: false, error: { code: 'invalid_id', message: expect.any(String), path: 'id' } } });
    expect(hub.log.length).toBe(before);
  });

  test('nobody answering is a 503 no_responders; an answer too late a 504 request_timeout', async () => {
    expect(await api.cluster()).toMatchObject({ status: 503, body: { ok: false, error: { code: 'no_responders' } } });
    const off = bus.subscribe(s.clusterStatus(), () => {});
    expect(await api.cluster()).toMatchObject({ status: 504, body: { ok: false, error: { code: 'request_timeout' } } });
    off();
  });

  test("the state API's own error keeps its code (not_found → 404); an answer that is no object is a 500", async () => {
    const offs = [
      bus.subscribe(s.stateOpWildcard('get'), (m) => m.respond({ ok: false, error: { code: 'not_found', message: 'no check with id gone', path: 'id' } })),
      bus.subscribe(s.stateOpWildcard('history'), (m) => m.respond({ ok: false, error: { code: 'not_found', message: 'no check', path: 'id' } })),
      bus.subscribe(s.stateList(), (m) => m.respond([1, 2])),
    ];
    expect(await api.check('gone')).toEqual({ status: 404, body: { ok: false, error: { code: 'not_found', message: 'no check with id gone', path: 'id' } } });
    expect(await api.checks('')).toMatchObject({ status: 500, body: { ok: false, error: { code: 'internal' } } });
    offs.forEach((off) => off());
  });
});

describe('startStatusEvents', () => {
  const setup = (o: { maxClients?: number; maxBufferedBytes?: number } = {}) => {
    const hub = new FakeHub();
    const bus = hub.connect('page');
    const publisher = hub.connect('cluster');
    const clock = new ManualClock();
    const { log, lines } = capturedLog();
    let gauge = -1;
    const events = startStatusEvents({ bus, subjects: s, clock, log, pingMs: 1000, onClients: (n) => (gauge = n), ...o });
    return { hub, publisher, clock, lines, events, gauge: () => gauge };
  };

  test('at most maxClients clients; one that leaves makes room; the gauge follows', () => {
    const { events, gauge } = setup({ maxClients: 2 });
    const [a, b, c] = [new FakeSink(), new FakeSink(), new FakeSink()];
    expect(events.add(a)).toBe(true);
    expect(events.add(b)).toBe(true);
    expect(events.accepting()).toBe(false);
    expect(events.add(c)).toBe(false);
    expect(c.chunks).toEqual([]);
    expect(gauge()).toBe(2);
    a.close();
    expect(events.clients()).toBe(1);
    expect(events.add(c)).toBe(true);
    expect(gauge()).toBe(2);
  });

  test('verdict changes and cluster events reach every client as bounded, re-encoded JSON; requests and hostile subjects do not', async () => {
    const { hub, publisher, events } = setup();
    const [a, b] = [new FakeSink(), new FakeSink()];
    events.add(a);
    events.add(b);
    publisher.publish(s.status('web-1'), { checkId: 'web-1', from: 'up', to: 'down', at: '2026-11-30T12:00:00.000Z', node: 'n1', reason: 'status', message: 'line one\n\nevent: fake\ndata: x', extra: 'x'.repeat(1000) });
    publisher.publishBytes(s.status('web-2'), 'not json');
    publisher.publishBytes(`${s.status('')}a.b`, JSON.stringify({ to: 'up' }));
    publisher.publish(s.clusterStatus(), {});
    publisher.publish(s.cluster('leader'), { node: 'n2', term: 7, at: '2026-11-30T12:00:01.000Z' });
    publisher.publish(s.status('huge'), { to: 'up', at: 'x'.repeat(20_000) });
    await hub.settle();
    for (const sink of [a, b]) {
      expect(sink.events()).toEqual([
        { event: 'status', data: { checkId: 'web-1', from: 'up', to: 'down', at: '2026-11-30T12:00:00.000Z', node: 'n1', reason: 'status', held: null } },
        { event: 'cluster', data: { event: 'leader', node: 'n2', at: '2026-11-30T12:00:01.000Z' } },
      ]);
    }
  });

  test('a client whose unread events pass the bound is dropped and logged; the others keep theirs', async () => {
    const { hub, publisher, events, lines } = setup({ maxBufferedBytes: 1024 });
    const [fast, slow] = [new FakeSink(), new FakeSink()];
    events.add(fast);
    events.add(slow);
    slow.writableLength = 1000;
    publisher.publish(s.status('web-1'), { to: 'down', from: 'up', at: '2026-11-30T12:00:00.000Z' });
    await hub.settle();
    expect(slow.destroyed).toBe(true);
    expect(events.clients()).toBe(1);
    expect(fast.events()).toHaveLength(1);
    expect(lines.filter((l) => l.event === 'status_page_client_dropped')).toEqual([expect.objectContaining({ why: 'slow', maxBufferedBytes: 1024 })]);
  });

  test('drops are logged a few times a minute at most, the rest counted into the next line', async () => {
    const { hub, publisher, events, lines, clock } = setup({ maxBufferedBytes: 100 });
    for (let i = 0; i < 8; i++) {
      const sink = new FakeSink();
      events.add(sink);
      sink.writableLength = 100;
      publisher.publish(s.status('web-1'), { to: 'down' });
      await hub.settle();
    }
    expect(lines.filter((l) => l.event === 'status_page_client_dropped')).toHaveLength(5);
    clock.advance(61_000);
    const sink = new FakeSink();
    events.add(sink);
    sink.writableLength = 100;
    publisher.publish(s.status('web-1'), { to: 'down' });
    await hub.settle();
    expect(lines.filter((l) => l.event === 'status_page_client_dropped').at(-1)).toMatchObject({ alsoDroppedUnlogged: 3 });
  });

  test('a ping comment every pingMs while clients listen; subscriptions only while someone listens; stop ends every stream', async () => {
    const { hub, publisher, events, clock } = setup();
    expect(hub.hasSubscriber(s.status('web-1'))).toBe(false);
    const [a, b] = [new FakeSink(), new FakeSink()];
    events.add(a);
    events.add(b);
    expect(hub.hasSubscriber(s.status('web-1'))).toBe(true);
    clock.advance(1000);
    expect(a.chunks.at(-1)).toBe(': ping\n\n');
    events.stop();
    expect([a.ended, b.ended]).toEqual([true, true]);
    expect(events.clients()).toBe(0);
    expect(hub.hasSubscriber(s.status('web-1'))).toBe(false);
    expect(events.add(new FakeSink())).toBe(false);
    publisher.publish(s.status('web-1'), { to: 'down' });
    await hub.settle();
    const pings = a.chunks.length;
    clock.advance(5000);
    expect(a.chunks.length).toBe(pings);
  });
});
