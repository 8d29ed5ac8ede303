// The node's cluster view as a pure reducer, and the cluster.status responder on an in-memory bus:
// the reply is built from the latest view the node sent it (by message), one member of the queue
// group answers.
import { clusterStatus, clusterStatusResponder } from '../../actors/cluster-status';
import { emptyView, reduceView, type ClusterView, type ViewEvent } from '../../protocol/cluster-view';
import type { Member } from '../../protocol/failure-detector';
import { ManualClock } from '../../runtime/clock';
import { subjects } from '../../runtime/subjects';
import { flush, host, silentLog } from '../helpers/actor-host';
import { FakeHub } from '../helpers/fake-bus';

const member = (node: string, state: Member['state'], checks = 0): Member => ({ node, instance: `${node}-i`, startedAt: 1_700_000_000_000, incarnation: 0, seq: 1, version: '1.0.0', shards: 0, checks, leaving: false, state, lastHeard: 0, since: 0 });
const record = { term: 4, epoch: 9, leader: 'a', at: 1_700_000_000_000, members: ['a', 'b'], shards: [['a', 'b'], ['b', 'a'], ['a', 'b']] };

describe('reduceView', () => {
  const steps: [string, ViewEvent, Partial<ClusterView>][] = [
    ['members', { type: 'MEMBERS', members: [member('a', 'alive'), member('b', 'suspect')], live: ['a', 'b'] }, { live: ['a', 'b'] }],
    ['a term read from the lease', { type: 'TERM_SEEN', term: 3, holder: 'b' }, { leader: { node: 'b', term: 3 }, leading: false }],
    ['elected', { type: 'ELECTED', term: 4 }, { leader: { node: 'a', term: 4 }, leading: true }],
    ['an older term read late does not replace ours', { type: 'TERM_SEEN', term: 3, holder: 'b' }, { leader: { node: 'a', term: 4 }, leading: true }],
    ['a map', { type: 'ASSIGNED', record }, { assignment: record }],
    ['deposed: the leader is unknown until the lease is read again, never still ourselves', { type: 'DEPOSED' }, { leading: false, leader: null }],
    ['the new leader read from the lease', { type: 'TERM_SEEN', term: 6, holder: 'b' }, { leading: false, leader: { node: 'b', term: 6 } }],
  ];
  let view = emptyView('a');
  test.each(steps)('%s', (_what, event, expected) => {
    const before = view;
    view = reduceView(view, event);
    expect(view).toMatchObject(expected);
    // A change is a new view (the old one untouched); no change returns the same object.
    if (_what.includes('does not replace')) expect(view).toBe(before);
    else expect(view).not.toBe(before);
  });
});

test('cluster.status answers from the latest view it was sent, once per request across the queue group', async () => {
  const clock = new ManualClock();
  const hub = new FakeHub();
  const responders = ['a', 'b'].map((n) => host(clusterStatusResponder, { bus: hub.connect(n), subjects: subjects('lookout'), view: emptyView(n), log: silentLog }, clock));
  const user = hub.connect('user');
  const first = (await user.request('lookout.cluster.status', '', 1000)).json() as any;
  expect(first).toMatchObject({ ok: true, leader: null, term: null, epoch: null, assignment: null, clock: null, members: [] });

  // b's clock 30 s behind a's, c's with no estimate yet.
  const clocks = { boundMs: 1000, pending: 1, settling: false, nodes: new Map([['a', { offsetMs: 0, uncertaintyMs: 0, skewMs: 15_000.2 }], ['b', { offsetMs: -30_000.4, uncertaintyMs: 3, skewMs: -15_000.2 }]]) };
  let view = emptyView('a');
  for (const e of [
    { type: 'MEMBERS', members: [member('a', 'alive', 5), member('b', 'suspect', 2), { ...member('c', 'alive'), starting: true }], live: ['a', 'b', 'c'], clocks },
    { type: 'ELECTED', term: 4 },
    { type: 'ASSIGNED', record },
  ] as ViewEvent[]) view = reduceView(view, e);
  for (const r of responders) r.send({ type: 'VIEW', view });
  await flush();
  const st = (await user.request('lookout.cluster.status', '', 1000)).json() as any;
  expect(st).toEqual({
    ok: true,
    answeredBy: 'a',
    leader: { node: 'a', term: 4 },
    term: 4,
    epoch: 9,
    clock: { boundMs: 1000 },
    verdicts: { counts: { down: 0, degraded: 0, flapping: 0, up: 0, unknown: 0 }, total: 0, reported: [], unreported: ['a', 'b', 'c'] },
    assignment: { epoch: 9, term: 4, leader: 'a', at: '2023-11-14T22:13:20.000Z', members: ['a', 'b'], damped: [], relieved: [], quarantined: [], quarantineRefused: [] },
    members: [
      { node: 'a', state: 'alive', incarnation: 0, startedAt: '2023-11-14T22:13:20.000Z', version: '1.0.0', shards: { primary: 2, total: 3 }, checks: 5, damped: false, clockOffsetMs: 0, clockSkewMs: 15_000, overloaded: false, lagMs: null, relieved: false, quarantined: false, quarantineRefused: false, starting: false, returning: false, verdicts: null },
      { node: 'b', state: 'suspect', incarnation: 0, startedAt: '2023-11-14T22:13:20.000Z', version: '1.0.0', shards: { primary: 1, total: 3 }, checks: 2, damped: false, clockOffsetMs: -30_000, clockSkewMs: -15_000, overloaded: false, lagMs: null, relieved: false, quarantined: false, quarantineRefused: false, starting: false, returning: false, verdicts: null },
      { node: 'c', state: 'alive', incarnation: 0, startedAt: '2023-11-14T22:13:20.000Z', version: '1.0.0', shards: { primary: 0, total: 0 }, checks: 0, damped: false, clockOffsetMs: null, clockSkewMs: null, overloaded: false, lagMs: null, relieved: false, quarantined: false, quarantineRefused: false, starting: true, returning: false, verdicts: null },
    ],
  });
  expect(hub.published('_INBOX.>')).toHaveLength(2); // two requests, two replies
});

test('cluster.status shows the members the followed map holds out (damped)', () => {
  let view = emptyView('a');
  view = reduceView(view, { type: 'MEMBERS', members: [member('a', 'alive'), member('b', 'alive'), member('c', 'alive')], live: ['a', 'b', 'c'] });
  view = reduceView(view, { type: 'ASSIGNED', record: { ...record, damped: ['c'] } });
  const st = clusterStatus(view);
  expect(st.assignment).toMatchObject({ members: ['a', 'b'], damped: ['c'] });
  expect(st.members.map((m) => [m.node, m.damped, m.shards.total])).toEqual([
    ['a', false, 3],
    ['b', false, 3],
    ['c', true, 0],
  ]);
});

test('cluster.status shows who says it is overloaded (its heartbeat) and whom the followed map relieves', () => {
  let view = emptyView('a');
  view = reduceView(view, { type: 'MEMBERS', members: [member('a', 'alive'), { ...member('b', 'alive'), overloaded: true, lagMs: 1_450 }], live: ['a', 'b'] });
  view = reduceView(view, { type: 'ASSIGNED', record: { ...record, relieved: ['b'] } });
  const st = clusterStatus(view);
  expect(st.assignment).toMatchObject({ relieved: ['b'] });
  expect(st.members.map((m) => [m.node, m.overloaded, m.lagMs, m.relieved])).toEqual([
    ['a', false, null, false],
    ['b', true, 1_450, true],
  ]);
});

test('cluster.status shows who says it quarantined itself (its heartbeat) and whom the followed map holds out or refuses', () => {
  let view = emptyView('a');
  view = reduceView(view, { type: 'MEMBERS', members: [member('a', 'alive'), { ...member('b', 'alive'), quarantined: true }, { ...member('c', 'alive'), quarantined: true }], live: ['a', 'b', 'c'] });
  view = reduceView(view, { type: 'ASSIGNED', record: { ...record, quarantined: ['b'], quarantineRefused: ['c'] } });
  const st = clusterStatus(view);
  expect(st.assignment).toMatchObject({ quarantined: ['b'], quarantineRefused: ['c'] });
  expect(st.members.map((m) => [m.node, m.quarantined, m.quarantineRefused])).toEqual([
    ['a', false, false],
    ['b', true, false],
    ['c', true, true],
  ]);
});

test("cluster.status sums the live members' verdict counts (their heartbeats) and names the live ones that did not say", () => {
  const c = (up: number, down: number) => ({ down, degraded: 1, flapping: 0, up, unknown: 2 });
  let view = emptyView('a');
  const members = [{ ...member('a', 'alive'), verdicts: c(5, 1) }, { ...member('b', 'suspect'), verdicts: c(3, 2) }, member('old', 'alive'), { ...member('gone', 'dead'), verdicts: c(100, 100) }, member('left', 'left')];
  view = reduceView(view, { type: 'MEMBERS', members, live: ['a', 'b', 'old'] });
  const st = clusterStatus(view);
  expect(st.verdicts).toEqual({ counts: { down: 3, degraded: 2, flapping: 0, up: 8, unknown: 4 }, total: 17, reported: ['a', 'b'], unreported: ['old'] });
  expect(st.members.map((m) => [m.node, m.verdicts])).toEqual([
    ['a', c(5, 1)],
    ['b', c(3, 2)],
    ['old', null],
    ['gone', c(100, 100)],
    ['left', null],
  ]);
});
