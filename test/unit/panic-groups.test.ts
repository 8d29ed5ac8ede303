// The panic guard per labelled group (protocol/panic-groups.ts): which group a check is in, what a
// heartbeat says of its groups (bounded), the fleet's group sizes, and one watch per group that
// panics on its own share of downs, bounded in how many groups it watches.
import { GroupPanics, MAX_GROUP_VALUE, MAX_PANIC_GROUPS, fleetGroups, groupOf, parseGroups, topGroups, withGroup } from '../../protocol/panic-groups';

const cfg = { fraction: 0.5, windowMs: 10_000, holdMs: 4_000, minDowns: 3 };

test.each([
  ['the label’s value', { region: 'eu' }, 'region', 'eu'],
  ['no such label', { team: 'a' }, 'region', undefined],
  ['an empty value', { region: '' }, 'region', undefined],
  ['a value too long to name', { region: 'x'.repeat(MAX_GROUP_VALUE + 1) }, 'region', undefined],
  ['the longest value named', { region: 'x'.repeat(MAX_GROUP_VALUE) }, 'region', 'x'.repeat(MAX_GROUP_VALUE)],
  ['no group label set', { region: 'eu' }, '', undefined],
] as const)('groupOf: %s', (_name, labels, label, want) => {
  expect(groupOf(labels, label)).toBe(want);
});

test('withGroup names the group on a message only when the check has one', () => {
  expect(withGroup({ to: 'down' } as { to: string; group?: string }, { labels: { region: 'eu' } }, 'region')).toEqual({ to: 'down', group: 'eu' });
  expect(withGroup({ to: 'down' } as { to: string; group?: string }, { labels: {} }, 'region')).toEqual({ to: 'down' });
  expect(withGroup({ to: 'down' } as { to: string; group?: string }, { labels: { region: 'eu' } }, undefined)).toEqual({ to: 'down' });
});

test('topGroups: the largest groups, ties by name, empty ones left out, at most MAX_PANIC_GROUPS', () => {
  expect(topGroups(new Map([['b', 2], ['a', 2], ['c', 5], ['z', 0]]))).toEqual({ c: 5, a: 2, b: 2 });
  expect(Object.keys(topGroups(new Map([['b', 2], ['a', 2], ['c', 5]]), 2))).toEqual(['c', 'a']);
  const many = new Map(Array.from({ length: 100 }, (_, i) => [`g${String(i).padStart(3, '0')}`, i + 1] as const));
  const top = topGroups(many);
  expect(Object.keys(top)).toHaveLength(MAX_PANIC_GROUPS);
  expect(top.g099).toBe(100);
  expect(top.g000).toBeUndefined();
});

test.each([
  ['a record of counts', { eu: 3, us: 0 }, { eu: 3, us: 0 }],
  ['a group named __proto__ stays a group', JSON.parse('{"__proto__": 2, "eu": 1}'), JSON.parse('{"__proto__": 2, "eu": 1}')],
  ['an array', [1, 2], null],
  ['a negative count', { eu: -1 }, null],
  ['a fractional count', { eu: 1.5 }, null],
  ['a count as a string', { eu: '3' }, null],
  ['a name too long', { ['x'.repeat(MAX_GROUP_VALUE + 1)]: 1 }, null],
  ['too many groups', Object.fromEntries(Array.from({ length: MAX_PANIC_GROUPS + 1 }, (_, i) => [`g${i}`, 1])), null],
  ['not an object', 'eu', null],
  ['null', null, null],
] as const)('parseGroups (hostile heartbeat field): %s', (_name, raw, want) => {
  expect(parseGroups(raw)).toEqual(want);
});

test('fleetGroups sums the members’ counts; members without groups add nothing', () => {
  expect([...fleetGroups([{ eu: 3, us: 1 }, undefined, { eu: 2, ap: 4 }])].sort()).toEqual([['ap', 4], ['eu', 5], ['us', 1]]);
});

describe('GroupPanics', () => {
  test('a group panics on its own share of downs; the other groups do not', () => {
    const g = new GroupPanics(cfg);
    // eu has 6 checks: threshold max(3, ceil(0.5 × 6)) = 3.
    expect(g.noteDown('eu', 0, 6)).toBeNull();
    expect(g.noteDown('eu', 100, 6)).toBeNull();
    expect(g.noteDown('us', 150, 100)).toBeNull();
    expect(g.noteDown('eu', 200, 6)).toEqual({ type: 'entered', group: 'eu', downs: 3, checks: 6, threshold: 3 });
    expect(g.panicking('eu')).toBe(true);
    expect(g.panicking('us')).toBe(false);
    expect(g.panicking(undefined)).toBe(false);
    expect(g.inPanic()).toEqual(['eu']);
  });

  test('downs spread wider than the window never add up to a panic', () => {
    const g = new GroupPanics(cfg);
    for (let i = 0; i < 10; i++) expect(g.noteDown('eu', i * 6_000, 6)).toBeNull();
    expect(g.panicking('eu')).toBe(false);
  });

  test('a panic is released after the hold, once; the downs held meanwhile start no second one', () => {
    const g = new GroupPanics(cfg);
    for (const t of [0, 1, 2]) g.noteDown('eu', t, 6);
    expect(g.tick(3_999)).toEqual([]);
    expect(g.tick(4_002)).toEqual([{ type: 'released', group: 'eu', heldMs: 4_000 }]);
    expect(g.panicking('eu')).toBe(false);
    for (const t of [4_100, 4_200, 4_300, 4_400]) expect(g.noteDown('eu', t, 6)).toBeNull();
    // After the cooling-off (one window), the group is watched again.
    g.tick(14_100);
    for (const t of [20_000, 20_001]) expect(g.noteDown('eu', t, 6)).toBeNull();
    expect(g.noteDown('eu', 20_002, 6)).toMatchObject({ type: 'entered', group: 'eu' });
  });

  test('a group nobody named (size unknown or 0) is not watched on its own', () => {
    const g = new GroupPanics(cfg);
    for (let i = 0; i < 10; i++) {
      expect(g.noteDown('ghost', i, undefined)).toBeNull();
      expect(g.noteDown('empty', i, 0)).toBeNull();
    }
    expect(g.watched).toBe(0);
  });

  test('at most maxWatched groups are watched: idle ones make room, busy ones are kept', () => {
    const g = new GroupPanics(cfg, 2);
    g.noteDown('a', 0, 100);
    g.noteDown('b', 0, 100);
    expect(g.noteDown('c', 10, 100)).toBeNull(); // no room: a and b have downs in their window
    expect(g.watched).toBe(2);
    // Past the window a and b are idle: c gets a watch.
    g.noteDown('c', 20_000, 100);
    expect(g.watched).toBe(1);
    for (let i = 0; i < 1_000; i++) g.noteDown(`flood-${i}`, 20_001, 100);
    expect(g.watched).toBe(2);
  });
});
