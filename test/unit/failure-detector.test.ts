import { FailureDetector } from '../../protocol/failure-detector';
import { parseHeartbeat } from '../../protocol/heartbeat';
import type { Heartbeat } from '../../protocol/records';
import { cfg, hb, stepper } from './detector-steps';

describe('FailureDetector (timeout with suspicion)', () => {
  test('a silent member goes alive → suspect at suspectAfterMs → dead at deadAfterMs', () => {
    const d = new FailureDetector('me', cfg);
    expect(d.heartbeat(hb('b', 1), 0)).toEqual([{ node: 'b', from: 'new', to: 'alive', incarnation: 0 }]);
    const s = stepper(d);
    s.until(5000);
    expect(s.log).toEqual(['1500 b alive→suspect', '3500 b suspect→dead']);
  });

  test('regular heartbeats keep a member alive', () => {
    const d = new FailureDetector('me', cfg);
    const s = stepper(d);
    let seq = 0;
    s.until(10_000, () => {
      if (s.now % 500 === 0) d.heartbeat(hb('b', ++seq), s.now);
    });
    expect(s.log).toEqual([]);
    expect(d.get('b')!.state).toBe('alive');
  });

  test('a suspect that refutes (raised incarnation) is alive again; a stale heartbeat does not refute', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 7), 0);
    const s = stepper(d);
    s.until(2000);
    expect(d.get('b')!.state).toBe('suspect');
    expect(d.heartbeat(hb('b', 6), 2000)).toEqual([]); // older: ignored
    expect(d.get('b')!.state).toBe('suspect');
    expect(d.heartbeat(hb('b', 0, { incarnation: 1 }), 2000)).toEqual([{ node: 'b', from: 'suspect', to: 'alive', incarnation: 1 }]);
    s.until(3000);
    expect(d.get('b')!.state).toBe('alive');
  });

  test('a graceful leave is announced, not detected', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 1), 0);
    expect(d.heartbeat(hb('b', 2, { leaving: true }), 100)).toEqual([{ node: 'b', from: 'alive', to: 'left', incarnation: 0 }]);
    const s = stepper(d);
    s.until(10_000);
    expect(s.log).toEqual([]);
    expect(d.live()).toEqual([]);
  });

  test('a restarted member (another instance, seq from 0) supersedes its previous life', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 500), 0);
    const s = stepper(d);
    s.until(4000);
    expect(d.get('b')!.state).toBe('dead');
    expect(d.heartbeat(hb('b', 1, { instance: 'b-i2' }), 4000)).toEqual([{ node: 'b', from: 'dead', to: 'alive', incarnation: 0 }]);
    expect(d.get('b')!.instance).toBe('b-i2');
  });

  test('lives are ordered by instance, not by wall-clock start: a restart with an earlier clock is not ignored', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 500, { startedAt: 9_000_000 }), 0);
    // Restarted on a machine whose wall clock is an hour behind: still a new life, heard at once.
    expect(d.heartbeat(hb('b', 1, { instance: 'b-i2', startedAt: 9_000_000 - 3_600_000 }), 100)).toEqual([]);
    expect(d.get('b')).toMatchObject({ instance: 'b-i2', seq: 1, state: 'alive' });
    // Within that life, an older seq is stale.
    expect(d.heartbeat(hb('b', 0, { instance: 'b-i2' }), 200)).toEqual([]);
    expect(d.get('b')!.seq).toBe(1);
  });

  test('a restart after death with an earlier wall clock, a lower incarnation and seq 1 is a new life at once', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 900, { startedAt: 9_000_000, incarnation: 5, sentAt: 9_500_000 }), 0);
    const s = stepper(d);
    s.until(4000);
    expect(d.get('b')!.state).toBe('dead');
    // The new process's clock is 30 s behind the old one's: startedAt and sentAt both earlier.
    const next = hb('b', 1, { instance: 'b-i2', startedAt: 9_000_000 - 30_000, sentAt: 9_000_000 - 29_000 });
    expect(d.heartbeat(next, 4000)).toEqual([{ node: 'b', from: 'dead', to: 'alive', incarnation: 0 }]);
    expect(d.get('b')).toMatchObject({ instance: 'b-i2', incarnation: 0, seq: 1, state: 'alive' });
    // The new life's own heartbeats keep it alive: each is fresher by (incarnation, seq).
    s.until(8000, () => d.heartbeat(hb('b', s.now, { instance: 'b-i2', startedAt: 9_000_000 - 30_000 }), s.now));
    expect(d.get('b')!.state).toBe('alive');
  });

  test('two instances sharing a node id: a leave from one never marks the node left while the other is heard', () => {
    const d = new FailureDetector('me', cfg);
    const s = stepper(d);
    let seq = 0;
    s.until(1000, () => {
      if (s.now % 200 === 0) {
        d.heartbeat(hb('b', ++seq, { instance: 'A' }), s.now);
        d.heartbeat(hb('b', seq, { instance: 'B' }), s.now);
      }
    });
    expect(d.liveInstances('b', s.now).sort()).toEqual(['A', 'B']);
    // B announces its leave (every tick while it stops): the node stays alive, A carries it.
    for (let i = 0; i < 3; i++) expect(d.heartbeat(hb('b', ++seq, { instance: 'B', leaving: true }), s.now)).toEqual([]);
    expect(d.get('b')!.state).toBe('alive');
    expect(d.heartbeat(hb('b', ++seq, { instance: 'A' }), s.now)).toEqual([]);
    expect(d.get('b')).toMatchObject({ instance: 'A', state: 'alive' });
    expect(d.liveInstances('b', s.now)).toEqual(['A']);
    s.until(3000, () => {
      if (s.now % 200 === 0) d.heartbeat(hb('b', ++seq, { instance: 'A' }), s.now);
    });
    expect(s.log).toEqual([]);
    // When the last instance leaves, the node has left.
    expect(d.heartbeat(hb('b', ++seq, { instance: 'A', leaving: true }), s.now)).toEqual([{ node: 'b', from: 'alive', to: 'left', incarnation: 0 }]);
  });

  test('while paused (this node cut off from NATS) nobody is suspected; resume restarts the clocks', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 1), 0);
    d.pause();
    const s = stepper(d);
    s.until(20_000);
    expect(s.log).toEqual([]);
    d.resume(20_000);
    s.until(21_000);
    expect(d.get('b')!.state).toBe('alive');
    s.until(21_600);
    expect(s.log).toEqual(['21500 b alive→suspect']);
  });

  test('a stall of this process (ticks far apart) is not blamed on the others', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 1), 0);
    expect(d.tick(100)).toEqual([]);
    expect(d.tick(30_000)).toEqual([]); // we were asleep 30 s
    expect(d.get('b')!.state).toBe('alive');
    expect(d.tick(31_600)).toEqual([]); // ticks resumed only now: another stall
    expect(d.tick(31_700)).toEqual([]);
    expect(d.tick(33_200)).toEqual([{ node: 'b', from: 'alive', to: 'suspect', incarnation: 0 }]);
  });

  test('dead needs a full suspicion window even if ticks were slow', () => {
    const d = new FailureDetector('me', cfg);
    d.heartbeat(hb('b', 1), 0);
    expect(d.tick(1000)).toEqual([]);
    expect(d.tick(2400)).toEqual([{ node: 'b', from: 'alive', to: 'suspect', incarnation: 0 }]);
    expect(d.tick(3600)).toEqual([]); // silent 3.6 s but suspected only 1.2 s ago
    expect(d.tick(4400)).toEqual([{ node: 'b', from: 'suspect', to: 'dead', incarnation: 0 }]);
  });

  test('seeded members are assumed alive from the seed time; live() is sorted and excludes dead/left', () => {
    const d = new FailureDetector('me', cfg);
    d.seed(['c', 'a', 'me'], 0);
    d.heartbeat(hb('b', 1), 0);
    d.heartbeat(hb('z', 1, { leaving: true }), 0);
    expect(d.live()).toEqual(['a', 'b', 'c']);
    const s = stepper(d);
    s.until(1000, () => d.heartbeat(hb('b', s.now), s.now));
    s.until(5000, () => d.heartbeat(hb('b', s.now), s.now));
    expect(d.live()).toEqual(['b']);
    expect(d.forget(5000 + 60_000, 60_000).sort()).toEqual(['a', 'c', 'z']);
  });

  // A restart still loading its specs is `returning` (protocol/takeover.ts holds it dead meanwhile):
  // only a life that superseded one this detector heard, and only until it says it runs.
  const i2 = { instance: 'b-i2', starting: true };
  test.each<[string, (d: FailureDetector) => void, Partial<Heartbeat>, boolean]>([
    ['a first life still starting (a cluster forming) is not returning', () => {}, { starting: true }, false],
    ['a member only seeded from the map (never heard) is not returning', (d) => d.seed(['b'], 0), i2, false],
    ['a new life of a heard member, starting: returning', (d) => d.heartbeat(hb('b', 9), 0), i2, true],
    ['a new life of a heard member that already runs: not returning', (d) => d.heartbeat(hb('b', 9), 0), { instance: 'b-i2' }, false],
    ['a new life after the previous one died: returning', (d) => {
      d.heartbeat(hb('b', 9), 0);
      stepper(d).until(5000);
    }, i2, true],
    ['a new life after the previous one left: not returning (it handed over by itself)', (d) => d.heartbeat(hb('b', 9, { leaving: true }), 0), i2, false],
    ['returning, then its heartbeat says it runs: not returning any more', (d) => {
      d.heartbeat(hb('b', 9), 0);
      d.heartbeat(hb('b', 1, i2), 0);
    }, { instance: 'b-i2', seq: 2 }, false],
    ['returning stays while the same life still starts', (d) => {
      d.heartbeat(hb('b', 9), 0);
      d.heartbeat(hb('b', 1, i2), 0);
    }, { ...i2, seq: 2 }, true],
    ['a returning life restarting again while starting: still returning', (d) => {
      d.heartbeat(hb('b', 9), 0);
      d.heartbeat(hb('b', 1, i2), 0);
    }, { instance: 'b-i3', starting: true }, true],
  ])('%s', (_name, before, beat, want) => {
    const d = new FailureDetector('me', cfg);
    before(d);
    d.heartbeat(hb('b', 1, beat), 6000);
    expect(d.get('b')?.returning === true).toBe(want);
  });

  // Since when a life runs (overload relief judges a member only once it has run a while): the
  // first heartbeat of the life without `starting`, less the duration it says it has run, kept
  // while the life runs.
  test.each<[string, [number, Partial<Heartbeat>][], number | undefined]>([
    ['first heard by a node that joined later: from when the member says it began (runningMs), not from when heard', [[60_000, { runningMs: 45_000 }], [61_000, { seq: 2, runningMs: 46_000 }]], 15_000],
    ['its own later durations do not move it', [[10_000, { runningMs: 0 }], [20_000, { seq: 2, runningMs: 99_000 }]], 10_000],
    ['a new life counts its own duration', [[0, { runningMs: 5000 }], [8000, { instance: 'b-i2', runningMs: 1000 }]], 7000],
    ['starting: not running', [[0, { starting: true }], [1000, { starting: true, seq: 2 }]], undefined],
    ['from its first heartbeat that says it runs', [[0, { starting: true }], [1000, { starting: true, seq: 2 }], [2000, { seq: 3 }], [3000, { seq: 4 }]], 2000],
    ['first heard running: from then', [[5000, {}], [6000, { seq: 2 }]], 5000],
    ['a new life of the node: from when that life runs', [[0, {}], [1000, { instance: 'b-i2', starting: true }], [4000, { instance: 'b-i2', seq: 2 }]], 4000],
    ['a new life heard running at once: from its first heartbeat', [[0, {}], [3000, { instance: 'b-i2' }]], 3000],
  ])('runningSince: %s', (_name, beats, want) => {
    const d = new FailureDetector('me', cfg);
    for (const [t, beat] of beats) d.heartbeat(hb('b', 1, beat), t);
    expect(d.get('b')?.runningSince).toBe(want);
  });

  test('config must have suspect < dead', () => {
    expect(() => new FailureDetector('me', { suspectAfterMs: 2000, deadAfterMs: 2000 })).toThrow();
  });
});

describe('FailureDetector: overload grace (a starved node heartbeats late)', () => {
  const graced = { ...cfg, overloadGraceMs: 2000 };
  // Who said overloaded in their last heartbeat: the silent member b, this node, or nobody; with
  // and without a grace configured. When b stops, when it is suspect and dead.
  test.each<[string, { grace: number; bOverloaded: boolean; selfOverloaded: boolean }, string[]]>([
    ['nobody overloaded: the usual bounds', { grace: 2000, bOverloaded: false, selfOverloaded: false }, ['1500 b alive→suspect', '3500 b suspect→dead']],
    ['b said overloaded: both bounds later by the grace', { grace: 2000, bOverloaded: true, selfOverloaded: false }, ['3500 b alive→suspect', '5500 b suspect→dead']],
    ['this node says overloaded: its own lag delays what it hears, the same grace', { grace: 2000, bOverloaded: false, selfOverloaded: true }, ['3500 b alive→suspect', '5500 b suspect→dead']],
    ['b overloaded, no grace configured: the usual bounds', { grace: 0, bOverloaded: true, selfOverloaded: false }, ['1500 b alive→suspect', '3500 b suspect→dead']],
  ])('%s', (_name, c, want) => {
    const d = new FailureDetector('me', { ...cfg, overloadGraceMs: c.grace });
    d.heartbeat(hb('me', 1, { overloaded: c.selfOverloaded }), 0);
    d.heartbeat(hb('b', 1, { overloaded: c.bOverloaded }), 0);
    const s = stepper(d);
    s.until(8000);
    expect(s.log).toEqual(want);
  });

  test('an overloaded member whose heartbeats come 3 s apart stays alive; once it says clear, the usual bounds apply again', () => {
    const d = new FailureDetector('me', graced);
    const s = stepper(d);
    let seq = 0;
    d.heartbeat(hb('b', ++seq, { overloaded: true }), 0);
    // Starved: a heartbeat every 3 s (past deadAfterMs − the heartbeat period of a healthy node).
    s.until(12_000, () => s.now % 3000 === 0 && void d.heartbeat(hb('b', ++seq, { overloaded: true }), s.now));
    expect(s.log).toEqual([]);
    d.heartbeat(hb('b', ++seq, { overloaded: false }), s.now);
    s.until(20_000);
    expect(s.log).toEqual(['13500 b alive→suspect', '15500 b suspect→dead']);
  });

  test('the grace is bounded by deadAfterMs', () => {
    expect(() => new FailureDetector('me', { ...cfg, overloadGraceMs: cfg.deadAfterMs + 1 })).toThrow();
    expect(() => new FailureDetector('me', { ...cfg, overloadGraceMs: -1 })).toThrow();
  });
});

describe('parseHeartbeat', () => {
  const wire = { node: 'b', instance: 'b-i1', startedAt: 100, incarnation: 2, seq: 7, version: '0.1.0', shards: 3, checks: 9, leaving: false };
  test.each([
    ['with sentAt', { ...wire, sentAt: 1_700_000_000_123 }, { ...wire, sentAt: 1_700_000_000_123 }],
    ['without sentAt (a node of an earlier version, during a rolling upgrade)', wire, wire],
    ['a sentAt that is not a number is dropped, the heartbeat kept', { ...wire, sentAt: '12:00' }, wire],
    ['a sentAt that is not finite is dropped', { ...wire, sentAt: null }, wire],
    ['an unknown field is not copied', { ...wire, extra: 1 }, wire],
    ['starting is copied when true', { ...wire, starting: true }, { ...wire, starting: true }],
    ['starting that is not true reads as running', { ...wire, starting: 'yes' }, wire],
    ['runningMs is copied when a count', { ...wire, runningMs: 45_000 }, { ...wire, runningMs: 45_000 }],
    ['a negative, fractional or text runningMs is dropped (read as just begun), the heartbeat kept', { ...wire, runningMs: -5 }, wire],
    ['a runningMs that is not a count is dropped', { ...wire, runningMs: '9e9' }, wire],
    ['runningMs beside starting is dropped (a starting life has not run)', { ...wire, starting: true, runningMs: 1000 }, { ...wire, starting: true }],
    ['groups are copied when well-formed', { ...wire, groups: { eu: 3 } }, { ...wire, groups: { eu: 3 } }],
    ['malformed groups are dropped, the heartbeat kept', { ...wire, groups: { eu: -3 } }, wire],
    ['no startedAt: malformed', { ...wire, startedAt: undefined }, null],
    ['no instance: malformed', { ...wire, instance: '' }, null],
    ['a negative seq: malformed', { ...wire, seq: -1 }, null],
    ['not an object', 'hello', null],
  ])('%s', (_name, raw, want) => {
    const got = parseHeartbeat(raw);
    expect(got).toEqual(want);
    if (got && !('sentAt' in (want as object))) expect('sentAt' in got).toBe(false);
  });
});
