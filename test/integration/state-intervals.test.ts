// State-dependent intervals end to end (issue 15): a `lookout node` process (dist/) on its own
// nats-server probes a real local HTTP server the test switches between 200 and 500. Everything is decided from what the
// node published — each result's `slot`, `intervalMs`, `seq`, `status` and `history` — never from
// when results arrived: after every result the next one must run at the interval that result's
// state calls for (protocol/state-interval.ts), one grid step on when the interval stays, and at
// least the shorter of the two intervals on (on the new grid) when it changes.
import { phaseOf } from '../../protocol/hash';
import { intervalPhase, probeInterval } from '../../protocol/state-interval';
import { request } from '../helpers/lookout';
import { startNodeProcess, type NodeProcessFixture } from '../helpers/node-process';
import { waitFor } from '../helpers/poll';

let f: NodeProcessFixture;

beforeAll(async () => {
  f = await startNodeProcess({});
  // The node is up once its spec API answers.
  await waitFor('the spec API', () => request(f.nc, 'lookout.spec.list', '', 1000).then((r) => r.ok === true), { timeoutMs: 60_000 });
});

afterAll(async () => {
  await f?.close();
});

const I = 3000;
const T = 1000;
const D = 2000;
const spec = {
  kind: 'http',
  intervalMs: I,
  intervalWhileTransitioningMs: T,
  intervalWhileDownMs: D,
  timeoutMs: 500,
  confirm: false,
  policy: { type: 'consecutive', rise: 2, fall: 2, initial: 'up' },
};

/** The results of `id` in seq order, from the last one of `seq` on. */
const resultsOf = (id: string, fromSeq = 0) => (f.events.results(id) as any[]).filter((r) => r.seq >= fromSeq).sort((a, b) => a.seq - b.seq);
const last = (id: string) => resultsOf(id).at(-1);

test('the slots follow the verdict state: intervalMs while up, the fast interval while it changes, the down interval while down', async () => {
  const id = 'flip';
  f.target.set('/flip', { status: 200 });
  expect(await f.put(id, { ...spec, target: `${f.target.url}/flip` })).toMatchObject({ ok: true });

  // Up and settled: two results on the 3 s grid.
  await waitFor('two passing results', () => resultsOf(id), { until: (rs) => rs.filter((r) => r.ok && r.status === 'up').length >= 2, timeoutMs: 30_000 });
  f.target.set('/flip', { status: 500 });
  const failedFrom = last(id).seq + 1;
  // Going down (a fast probe), then down: two results on the down grid.
  await waitFor('two results on the down grid', () => resultsOf(id, failedFrom), { until: (rs) => rs.filter((r) => r.intervalMs === D).length >= 2, timeoutMs: 30_000 });
  f.target.set('/flip', { status: 200 });
  const passedFrom = last(id).seq + 1;
  // Going up (a fast probe), then up: two results on the 3 s grid again.
  await waitFor('up again, two results on the intervalMs grid', () => resultsOf(id, passedFrom), {
    until: (rs) => rs.filter((r) => r.status === 'up' && r.intervalMs === I).length >= 2,
    timeoutMs: 30_000,
  });

  const rs = resultsOf(id);
  const seen = rs.map((r) => `${r.ok ? 'pass' : 'fail'}:${r.status}:${r.intervalMs}`);
  // The phases, in order: settled up, a failure's fast probe, down, a pass's fast probe, up.
  expect(seen).toEqual(expect.arrayContaining([`pass:up:${I}`, `fail:up:${I}`, `fail:down:${T}`, `fail:down:${D}`, `pass:down:${D}`, `pass:up:${T}`]));
  expect(seen.indexOf(`fail:down:${T}`)).toBeGreaterThan(seen.indexOf(`fail:up:${I}`));
  expect(seen.indexOf(`pass:up:${T}`)).toBeGreaterThan(seen.indexOf(`fail:down:${D}`));

  // Every step from one result to the next, judged by the published state alone.
  for (let k = 1; k < rs.length; k++) {
    const [a, b] = [rs[k - 1], rs[k]];
    const want = probeInterval({ intervalMs: I, intervalWhileTransitioningMs: T, intervalWhileDownMs: D }, { status: a.status, history: a.history });
    const gap = b.slot - a.slot;
    const step = { seq: b.seq, after: `${a.status}/${intervalPhase(a)}`, ranAt: a.intervalMs, next: b.intervalMs, gap, skipped: b.skipped };
    expect([step, b.seq]).toEqual([step, a.seq + 1]);
    expect([step, b.intervalMs]).toEqual([step, want]);
    expect([step, (((b.slot - phaseOf(id, want)) % want) + want) % want]).toEqual([step, 0]); // on its interval's grid
    if (b.skipped === 0) {
      // Same interval: exactly one step. Changed: at least the shorter interval, below that plus one new step.
      const ok = a.intervalMs === want ? gap === want : gap >= Math.min(a.intervalMs, want) && gap < Math.min(a.intervalMs, want) + want;
      expect([step, ok]).toEqual([step, true]);
    } else {
      expect([step, gap >= Math.min(a.intervalMs, want)]).toEqual([step, true]); // the node fell behind: passed slots skipped, announced
    }
  }
});

test('a spec without the options runs at intervalMs whatever its verdict', async () => {
  const id = 'plain';
  f.target.set('/plain', { status: 500 });
  const { intervalWhileTransitioningMs: _t, intervalWhileDownMs: _d, ...plain } = spec;
  expect(await f.put(id, { ...plain, intervalMs: 1000, target: `${f.target.url}/plain` })).toMatchObject({ ok: true });
  const rs = await waitFor('four results, down', () => resultsOf(id), { until: (x) => x.length >= 4 && x.some((r) => r.status === 'down'), timeoutMs: 30_000 });
  for (let k = 1; k < rs.length; k++) {
    expect(rs[k].intervalMs).toBe(1000);
    if (rs[k].skipped === 0) expect(rs[k].slot - rs[k - 1].slot).toBe(1000);
  }
});
