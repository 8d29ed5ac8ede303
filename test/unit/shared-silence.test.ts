import { FailureDetector } from '../../protocol/failure-detector';
import { sharedSilence, type Heard } from '../../protocol/shared-silence';
import { cfg, hb, stepper } from './detector-steps';

describe('sharedSilence (most members silent at one tick)', () => {
  const at = (node: string, lastHeard: number, state: Heard['state'] = 'alive'): Heard => ({ node, state, lastHeard });
  // now = 2000, suspectAfterMs = 1500: heard at 0 is silent (2000 ≥ 1500), heard at 1000 is not.
  test.each<[string, Heard[], ReturnType<typeof sharedSilence>]>([
    ['nobody silent', [at('b', 1000), at('c', 1000), at('d', 1000)], null],
    ['one of three silent: never shared', [at('b', 0), at('c', 1000), at('d', 1000)], null],
    ['the only other member silent: one is never shared', [at('b', 0)], null],
    ['two of three silent: shared', [at('b', 0), at('c', 0), at('d', 1000)], { silent: ['b', 'c'], live: 3 }],
    ['two of four silent: half is not more than half', [at('b', 0), at('c', 0), at('d', 1000), at('e', 1000)], null],
    ['three of five silent: shared', [at('e', 0), at('b', 0), at('c', 0), at('d', 1000), at('f', 1000)], { silent: ['b', 'c', 'e'], live: 5 }],
    ['a suspect counts as live and silent', [at('b', 0, 'suspect'), at('c', 0), at('d', 1000)], { silent: ['b', 'c'], live: 3 }],
    ['dead and left members are not counted', [at('b', 0, 'dead'), at('c', 0, 'left'), at('d', 0), at('e', 1000)], null],
    ['this node is not counted (its own entry may be stale)', [at('me', 0), at('b', 0), at('c', 1000)], null],
    ['exactly suspectAfterMs silent is silent', [at('b', 500), at('c', 500)], { silent: ['b', 'c'], live: 2 }],
  ])('%s', (_name, members, want) => {
    expect(sharedSilence(members, 'me', 2000, 1500)).toEqual(want);
  });
});

describe('FailureDetector: shared silence (every heartbeat delayed by the same server or link)', () => {
  const graced = { ...cfg, sharedSilenceGraceMs: 2000 };
  /**
   * Members `all` heartbeat every 500 ms from 0; those in `stop` stop after 0, and those in `back`
   * are heard again at `backAt`. Returns the transitions seen until 8 s and the shared silences reported.
   */
  function run(all: string[], stop: string[], back: string[] = [], backAt = Infinity, config = graced) {
    const d = new FailureDetector('me', config);
    const seq = new Map(all.map((n) => [n, 1]));
    for (const n of all) d.heartbeat(hb(n, 1), 0);
    const s = stepper(d);
    const news: string[] = [];
    s.until(8000, () => {
      const found = d.sharedSilenceNews(); // what the previous tick found
      if (found) news.push(`${s.now - 100} ${found.marked.join(',')} of ${found.live}`);
      if (s.now % 500 !== 0) return;
      for (const n of all) {
        if (stop.includes(n) && !(back.includes(n) && s.now >= backAt)) continue;
        const next = seq.get(n)! + 1;
        seq.set(n, next);
        d.heartbeat(hb(n, next), s.now);
      }
    });
    return { log: s.log, news };
  }

  // Who goes silent among the members this node hears; when each is suspect and dead.
  test.each<[string, string[], string[], string[]]>([
    ['one of five silent: the usual bounds', ['b', 'c', 'd', 'e', 'f'], ['b'], ['1500 b alive→suspect', '3500 b suspect→dead']],
    ['two of five silent (not more than half): the usual bounds', ['b', 'c', 'd', 'e', 'f'], ['b', 'c'], ['1500 b alive→suspect', '1500 c alive→suspect', '3500 b suspect→dead', '3500 c suspect→dead']],
    ['three of five silent together: both bounds later by the grace', ['b', 'c', 'd', 'e', 'f'], ['b', 'c', 'd'], ['3500 b alive→suspect', '3500 c alive→suspect', '3500 d alive→suspect', '5500 b suspect→dead', '5500 c suspect→dead', '5500 d suspect→dead']],
    ['two of three silent together (a node whose own link froze): the grace', ['b', 'c', 'd'], ['b', 'c'], ['3500 b alive→suspect', '3500 c alive→suspect', '5500 b suspect→dead', '5500 c suspect→dead']],
    ['the only member silent: the usual bounds (one silent member is never shared)', ['b'], ['b'], ['1500 b alive→suspect', '3500 b suspect→dead']],
  ])('%s', (_name, all, stop, want) => {
    expect(run(all, stop).log).toEqual(want);
  });

  test('a shared silence is reported once, at the tick that marks its members, with who and out of how many', () => {
    expect(run(['b', 'c', 'd', 'e', 'f'], ['b', 'c', 'd']).news).toEqual(['1500 b,c,d of 5']);
    expect(run(['b', 'c', 'd', 'e', 'f'], ['b', 'c']).news).toEqual([]);
  });

  test('with the grace at 0 the rule is off: the usual bounds, nothing reported', () => {
    const off = run(['b', 'c', 'd'], ['b', 'c'], [], Infinity, { ...cfg, sharedSilenceGraceMs: 0 });
    expect(off).toEqual({ log: ['1500 b alive→suspect', '1500 c alive→suspect', '3500 b suspect→dead', '3500 c suspect→dead'], news: [] });
  });

  test('a member silent during a shared silence keeps the grace after the others are heard again', () => {
    // b, c, d, e silent from 0; c, d, e heard again at 2000 (after the shared tick at 1500, before any is suspect): b keeps it.
    expect(run(['b', 'c', 'd', 'e', 'f'], ['b', 'c', 'd', 'e'], ['c', 'd', 'e'], 2000).log).toEqual(['3500 b alive→suspect', '5500 b suspect→dead']);
  });

  test('a member heard again loses the grace: silent alone later, the usual bounds', () => {
    const d = new FailureDetector('me', graced);
    for (const n of ['b', 'c', 'd']) d.heartbeat(hb(n, 1), 0);
    const s = stepper(d);
    s.until(1900); // all three silent together past suspectAfterMs: marked, not yet suspect
    expect(s.log).toEqual([]);
    expect(d.get('b')!.sharedSilence).toBe(true);
    // All heard again at 2000; then c and d go on beating and b stops: b alone, from 2000.
    let seq = 1;
    s.until(9000, () => {
      if (s.now % 500 !== 0) return;
      seq++;
      for (const n of s.now === 2000 ? ['b', 'c', 'd'] : ['c', 'd']) d.heartbeat(hb(n, seq), s.now);
    });
    // The usual bounds from 2000 (with the grace it would be 5500 and 7500).
    expect(s.log).toEqual(['3500 b alive→suspect', '5500 b suspect→dead']);
  });

  test('an overloaded member silent in a shared silence gets the larger of the two graces, not their sum', () => {
    const d = new FailureDetector('me', { ...cfg, overloadGraceMs: 1000, sharedSilenceGraceMs: 2000 });
    d.heartbeat(hb('b', 1, { overloaded: true }), 0);
    d.heartbeat(hb('c', 1), 0);
    const s = stepper(d);
    s.until(8000);
    expect(s.log).toEqual(['3500 b alive→suspect', '3500 c alive→suspect', '5500 b suspect→dead', '5500 c suspect→dead']);
  });

  test('the grace is bounded by deadAfterMs', () => {
    expect(() => new FailureDetector('me', { ...cfg, sharedSilenceGraceMs: cfg.deadAfterMs + 1 })).toThrow(/sharedSilenceGraceMs/);
    expect(() => new FailureDetector('me', { ...cfg, sharedSilenceGraceMs: -1 })).toThrow(/sharedSilenceGraceMs/);
  });
});
