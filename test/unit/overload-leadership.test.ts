// Leadership of an overloaded node (protocol/overload-leadership.ts): table tests of when it stands
// for the lease and when a leader hands it over.
import { candidacy, DEFER_LEASES, freeFor, healthyPeers, ownLoad, overloadStepDown, STEP_DOWN_COOLDOWN_LEASES, type Standing } from '../../protocol/overload-leadership';
import type { LeaseConfig } from '../../protocol/lease';

const cfg: LeaseConfig & { startHoldMs: number } = { leaseMs: 4000, renewMs: 1000, pollMs: 250, takeoverMarginMs: 200, startHoldMs: 60_000 };
const now = 100_000;
/** Ran since long before (past the start hold), as the failure detector records a member it heard running. */
const ranLong = now - 2 * cfg.startHoldMs;
const m = (node: string, extra: Partial<Standing> = {}): Standing => ({ node, state: 'alive', instance: `${node}-i`, leaving: false, ...extra });
const hot = (node: string, extra: Partial<Standing> = {}) => m(node, { overloaded: true, ...extra });

describe('healthyPeers: who could lead instead', () => {
  test.each<[string, Standing[], string[]]>([
    ['alive and clear peers, sorted; not self', [m('c'), hot('a'), m('b')], ['b', 'c']],
    ['an overloaded peer cannot', [hot('a'), hot('b')], []],
    ['a suspect peer cannot', [hot('a'), m('b', { state: 'suspect' })], []],
    ['a dead or left peer cannot', [hot('a'), m('b', { state: 'dead' }), m('c', { state: 'left' })], []],
    ['a leaving peer cannot', [hot('a'), m('b', { leaving: true })], []],
    ['a peer only seeded from the map (never heard) cannot', [hot('a'), m('b', { instance: '' })], []],
    ['a starting peer cannot (about to be busy loading; its clear says nothing of its room)', [hot('a'), m('b', { starting: true }), m('c')], ['c']],
    ['a peer overloaded within the start hold of its running can (its lag is its start\'s)', [hot('a'), hot('b', { runningSince: now - cfg.startHoldMs + 1 })], ['b']],
    ['a peer overloaded past its start hold cannot', [hot('a'), hot('b', { runningSince: now - cfg.startHoldMs })], []],
    ['an overloaded peer never heard running (no runningSince) cannot: judged at once', [hot('a'), hot('b')], []],
  ])('%s', (_name, members, want) => {
    expect(healthyPeers('a', members, now, cfg.startHoldMs)).toEqual(want);
  });
});

describe('candidacy: does a follower that may acquire the lease stand', () => {
  const defer = DEFER_LEASES * cfg.leaseMs;
  test.each<[string, Standing[], number, { stand: boolean; reason: string }]>([
    ['clear: stands', [m('a'), m('b')], 0, { stand: true, reason: 'clear' }],
    ['clear among overloaded peers: stands', [m('a'), hot('b')], 0, { stand: true, reason: 'clear' }],
    ['overloaded, a clear peer: defers', [hot('a'), m('b')], 0, { stand: false, reason: 'overloaded' }],
    ['overloaded, a clear peer, free just under the deferral: still defers', [hot('a'), m('b')], defer - 1, { stand: false, reason: 'overloaded' }],
    ['overloaded, a clear peer that has not taken it for the deferral: stands', [hot('a'), m('b')], defer, { stand: true, reason: 'deferred_too_long' }],
    ['overloaded and alone: stands', [hot('a')], 0, { stand: true, reason: 'alone' }],
    ['overloaded, the only other member dead: stands', [hot('a'), m('b', { state: 'dead' })], 0, { stand: true, reason: 'alone' }],
    ['everyone overloaded: stands', [hot('a'), hot('b'), hot('c')], 0, { stand: true, reason: 'no_clear_peer' }],
    ['overloaded, every clear peer starting (a cluster start): stands', [hot('a'), m('b', { starting: true }), m('c', { starting: true })], 0, { stand: true, reason: 'no_clear_peer' }],
    ['overloaded, the clear peer only suspect: stands', [hot('a'), m('b', { state: 'suspect' })], 0, { stand: true, reason: 'no_clear_peer' }],
    ['no own entry yet (not overloaded as far as it knows): stands', [m('b')], 0, { stand: true, reason: 'clear' }],
    ['overloaded while starting, a clear peer: stands (its lag is its start\'s)', [hot('a', { starting: true }), m('b')], 0, { stand: true, reason: 'starting' }],
    ['overloaded, running for less than the start hold, a clear peer: stands', [hot('a', { runningSince: now - cfg.startHoldMs + 1 }), m('b')], 0, { stand: true, reason: 'starting' }],
    ['overloaded, running for the start hold, a clear peer: defers', [hot('a', { runningSince: now - cfg.startHoldMs }), m('b')], 0, { stand: false, reason: 'overloaded' }],
    ['overloaded, running long, a clear peer: defers', [hot('a', { runningSince: ranLong }), m('b', { runningSince: ranLong })], 0, { stand: false, reason: 'overloaded' }],
    ['overloaded, running long, the only peer overloaded right after its start: defers to it', [hot('a', { runningSince: ranLong }), hot('b', { runningSince: now - 1000 })], 0, { stand: false, reason: 'overloaded' }],
  ])('%s', (_name, members, free, want) => {
    expect(candidacy('a', members, free, now, cfg)).toMatchObject(want);
  });
});

describe('overloadStepDown: does a leader hand the lease over', () => {
  const cooldown = STEP_DOWN_COOLDOWN_LEASES * cfg.leaseMs;
  test.each<[string, Standing[], number, boolean]>([
    ['clear leader: keeps it', [m('a'), m('b')], -Infinity, false],
    ['overloaded, a clear alive peer: steps down', [hot('a'), m('b')], -Infinity, true],
    ['overloaded, only overloaded peers: keeps it', [hot('a'), hot('b')], -Infinity, false],
    ['overloaded and alone: keeps it', [hot('a')], -Infinity, false],
    ['overloaded, the clear peers starting (a cluster start): keeps it', [hot('a', { starting: true }), m('b', { starting: true }), m('c', { starting: true })], -Infinity, false],
    ['overloaded, the clear peer suspect: keeps it', [hot('a'), m('b', { state: 'suspect' })], -Infinity, false],
    ['overloaded, stepped down for overload within the cooldown: keeps it', [hot('a'), m('b')], now - cooldown + 1, false],
    ['overloaded, the last step-down a cooldown ago: steps down', [hot('a'), m('b')], now - cooldown, true],
    ['overloaded while starting itself, a clear running peer: keeps it (the lag is its start\'s)', [hot('a', { starting: true }), m('b', { runningSince: ranLong })], -Infinity, false],
    ['overloaded 1 ms before it has run for the start hold: keeps it', [hot('a', { runningSince: now - cfg.startHoldMs + 1 }), m('b')], -Infinity, false],
    ['overloaded, run for the start hold: steps down', [hot('a', { runningSince: now - cfg.startHoldMs }), m('b')], -Infinity, true],
    ['overloaded, running long: steps down', [hot('a', { runningSince: ranLong }), m('b', { runningSince: now - 1 })], -Infinity, true],
    ['overloaded, running long, the peer overloaded right after its start: steps down to it', [hot('a', { runningSince: ranLong }), hot('b', { runningSince: now - 1000 })], -Infinity, true],
  ])('%s', (_name, members, last, want) => {
    const d = overloadStepDown('a', members, now, last, cfg);
    expect(d.stepDown).toBe(want);
    if (d.stepDown) expect(d).toEqual({ stepDown: true, reason: 'overloaded', healthy: ['b'] });
  });
});

describe('ownLoad: what a node\'s own overload counts as', () => {
  test.each<[string, Standing[], number, ReturnType<typeof ownLoad>]>([
    ['no own entry', [m('b')], 60_000, 'clear'],
    ['clear', [m('a', { runningSince: now })], 60_000, 'clear'],
    ['overloaded while its heartbeat says starting (even with a hold of 0)', [hot('a', { starting: true })], 0, 'starting'],
    ['overloaded, ran for less than the hold', [hot('a', { runningSince: now - 59_999 })], 60_000, 'starting'],
    ['overloaded, ran for the hold', [hot('a', { runningSince: now - 60_000 })], 60_000, 'overloaded'],
    ['overloaded, a hold of 0: at once', [hot('a', { runningSince: now })], 0, 'overloaded'],
    ['overloaded, never heard running (no runningSince): judged at once, as relief does', [hot('a')], 60_000, 'overloaded'],
    ['another member overloaded says nothing of self', [m('a', { runningSince: ranLong }), hot('b', { runningSince: ranLong })], 60_000, 'clear'],
  ])('%s', (_name, members, hold, want) => {
    expect(ownLoad('a', members, now, hold)).toBe(want);
  });
});

describe('freeFor: how long the lease has been free for a follower', () => {
  test.each<[string, Parameters<typeof freeFor>[0], number, number]>([
    ['nothing read yet', null, 1000, -Infinity],
    ['key deleted 300 ms ago', { revision: 5, record: null, observedAt: 700 }, 1000, 300],
    ['holder seen 1 s ago: not free', { revision: 5, record: { holder: 'b', term: 4 }, observedAt: 0 }, 1000, 1000 - cfg.leaseMs - cfg.takeoverMarginMs],
    ['holder silent past lease and margin by 500 ms', { revision: 5, record: { holder: 'b', term: 4 }, observedAt: 0 }, cfg.leaseMs + cfg.takeoverMarginMs + 500, 500],
  ])('%s', (_name, view, now, want) => {
    expect(freeFor(view, now, cfg)).toBe(want);
  });
});
