import { deadOwners, effectiveMap, promotions, pruneDead, strikeOut } from '../../protocol/takeover';
import type { AssignmentRecord } from '../../protocol/records';
import { slotsOf } from '../../protocol/assignment-record';

const rec = (shards: string[][], members = ['a', 'b', 'c']): AssignmentRecord => ({ term: 3, epoch: 7, leader: 'a', at: 1, members, shards });
type State = 'alive' | 'suspect' | 'dead' | 'left';
const m = (node: string, state: State): { node: string; state: State; returning?: boolean } => ({ node, state });

describe('deadOwners: who this node holds dead', () => {
  test.each<[string, string[], { node: string; state: State; returning?: boolean }[], string[]]>([
    ['nothing dead', [], [m('a', 'alive'), m('b', 'suspect')], []],
    ['a member reported dead is added', [], [m('a', 'dead'), m('b', 'alive')], ['a']],
    ['suspect is not dead: no takeover on suspicion', [], [m('a', 'suspect')], []],
    ['heard again (alive) is removed', ['a'], [m('a', 'alive')], []],
    ['a refuted suspicion after death (suspect) is removed', ['a'], [m('a', 'suspect')], []],
    ['left: it hands over by itself, no takeover', ['a'], [m('a', 'left')], []],
    ['forgotten by the detector: stays dead', ['a'], [m('b', 'alive')], ['a']],
    ['two dead', ['a'], [m('a', 'dead'), m('c', 'dead')], ['a', 'c']],
    // A restart still starting (its previous life was heard): held dead until it runs.
    ['a returning member is added', [], [{ ...m('a', 'alive'), returning: true }], ['a']],
    ['returning, then silent (suspect): stays', ['a'], [{ ...m('a', 'suspect'), returning: true }], ['a']],
    ['returning, then running: removed', ['a'], [{ ...m('a', 'alive'), returning: false }], []],
    ['a returning life that leaves hands over by itself', ['a'], [{ ...m('a', 'left'), returning: true }], []],
  ])('%s', (_name, prev, members, want) => {
    expect([...deadOwners(new Set(prev), members)].sort()).toEqual(want);
  });

  test('unchanged: the same set is returned (callers compare by identity)', () => {
    const prev = new Set(['a']);
    expect(deadOwners(prev, [m('a', 'dead'), m('b', 'alive')])).toBe(prev);
    const none = new Set<string>();
    expect(deadOwners(none, [m('b', 'alive')])).toBe(none);
  });
});

describe('pruneDead: a map without the member ends its standing', () => {
  test.each<[string[], string[][], string[], string[]]>([
    [['a'], [['a', 'b']], ['a', 'b'], ['a']],
    [['a'], [['b', 'c']], ['b', 'c'], []],
    [['a', 'c'], [['b', 'c']], ['b', 'c'], ['c']],
    [['a'], [['a', 'b']], ['b'], ['a']], // still an owner though not listed as a member: kept
  ])('dead %j, shards %j, members %j → %j', (dead, shards, members, want) => {
    expect([...pruneDead(new Set(dead), rec(shards, members))].sort()).toEqual(want);
  });
});

describe('effectiveMap: the followed map with dead owners struck out', () => {
  const followed = rec([
    ['a', 'b', 'c'],
    ['b', 'c', 'a'],
    ['c', 'a', 'b'],
    ['a'],
  ]);

  test('nothing dead: the followed map itself', () => {
    expect(effectiveMap(followed, new Set(), 'b')).toBe(followed);
    expect(effectiveMap(followed, new Set(['z']), 'b')).toBe(followed);
  });

  test('a dead: the owners after it move up a rank; term and epoch are the map\'s', () => {
    const eff = effectiveMap(followed, new Set(['a']), 'b');
    expect(eff.shards).toEqual([['b', 'c'], ['b', 'c'], ['c', 'b'], []]);
    expect(eff.members).toEqual(['b', 'c']);
    expect([eff.term, eff.epoch, eff.leader]).toEqual([3, 7, 'a']);
    expect(followed.shards[0]).toEqual(['a', 'b', 'c']); // not mutated
  });

  test('the slots each survivor runs: every shard\'s first live owner is rank 0', () => {
    const dead = new Set(['a']);
    expect(slotsOf(effectiveMap(followed, dead, 'b'), 'b')).toEqual([
      { shard: 0, rank: 0 },
      { shard: 1, rank: 0 },
      { shard: 2, rank: 1 },
    ]);
    expect(slotsOf(effectiveMap(followed, dead, 'c'), 'c')).toEqual([
      { shard: 0, rank: 1 },
      { shard: 1, rank: 1 },
      { shard: 2, rank: 0 },
    ]);
  });

  test('self is never struck out (a node cannot hold itself dead)', () => {
    expect(effectiveMap(followed, new Set(['b']), 'b')).toBe(followed);
  });

  test('promotions name the slots held only because an owner is held dead', () => {
    const dead = new Set(['a']);
    expect(promotions(followed, effectiveMap(followed, dead, 'b'), 'b')).toEqual([
      { shard: 0, from: 1, to: 0 },
      { shard: 2, from: 2, to: 1 },
    ]);
    expect(promotions(followed, effectiveMap(followed, dead, 'c'), 'c')).toEqual([{ shard: 0, from: 2, to: 1 }]);
    expect(promotions(followed, followed, 'b')).toEqual([]);
  });
});

describe('strikeOut: the rows the leader plans from (owners no longer live struck out)', () => {
  test.each<[string[][], string[], string[][]]>([
    [[['a', 'b', 'c'], ['b', 'c', 'a']], ['b', 'c'], [['b', 'c'], ['b', 'c']]],
    [[['a', 'b', 'c']], ['a', 'b', 'c'], [['a', 'b', 'c']]],
    [[['a'], []], ['b'], [[], []]],
  ])('%j keeping %j → %j', (shards, live, want) => {
    expect(strikeOut(shards, (n) => live.includes(n))).toEqual(want);
  });

  test('a row with every owner live is the same array (no copy)', () => {
    const row = ['a', 'b'];
    expect(strikeOut([row], () => true)[0]).toBe(row);
  });
});
