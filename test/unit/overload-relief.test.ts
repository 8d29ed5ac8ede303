// Overload relief (protocol/overload-relief.ts), as tables: member x's reports over the leader's
// monotonic time (a and b are never overloaded), the decisions and whether the map relieves x at the
// end. Relieved when it says overloaded; its full share back once clear for the hold (counted from
// the later of the relief and the start of its clear run); the hold doubles on a relapse soon after
// and is forgiven after a quiet maxHold; only while at least half of the members run and half have room;
// a member that has just run its slots is judged once it has run for the first hold.
import { emptyRelief, inheritRelieved, observeLoad, reliefConfig, reliefOf, relievedMembers, type MemberLoad } from '../../protocol/overload-relief';
import type { MemberState } from '../../protocol/failure-detector';

const cfg = reliefConfig(10_000); // maxHold 100 s

/** One report of x: [time, overloaded, state?, starting?]. */
type Step = [number, boolean, MemberState?, boolean?];

/** Before the tables' time 0: x ran long before, unless its first report says it is starting. */
const LONG_AGO = -cfg.maxHoldMs;

function run(steps: Step[]) {
  let state = emptyRelief();
  const log: string[] = [];
  // Since when x runs, as the failure detector tracks it (failure-detector.ts Member.runningSince):
  // absent while it starts, the first report after a start, kept while it runs.
  let runningSince: number | undefined = steps[0]?.[3] ? undefined : LONG_AGO;
  for (const [t, overloaded, st, starting] of steps) {
    runningSince = starting ? undefined : (runningSince ?? t);
    const members: MemberLoad[] = [
      { node: 'a', state: 'alive' },
      { node: 'b', state: 'alive', overloaded: false },
      { node: 'x', state: st ?? 'alive', overloaded, starting, runningSince },
    ];
    const r = observeLoad(state, members, t, cfg);
    state = r.state;
    for (const d of r.decisions) log.push(d.kind === 'relieved' ? `${t} relieved hold=${d.holdMs}` : `${t} unrelieved ${d.reason} clear=${d.clearMs}`);
  }
  return { log, relieved: relievedMembers(state, ['a', 'b', 'x']) };
}

test.each<[string, Step[], string[], string[]]>([
  ['never overloaded', [[0, false], [5_000, false]], [], []],
  ['overloaded: relieved at once (the node already held its own hold)', [[0, false], [1_000, true]], ['1000 relieved hold=10000'], ['x']],
  ['clear for less than the hold: still relieved', [[0, true], [3_000, false], [12_000, false]], ['0 relieved hold=10000'], ['x']],
  ['clear for the hold: full share again', [[0, true], [3_000, false], [13_000, false]], ['0 relieved hold=10000', '13000 unrelieved clear clear=10000'], []],
  ['overloaded again while clearing restarts the count', [[0, true], [3_000, false], [8_000, true], [9_000, false], [18_000, false], [19_000, false]], ['0 relieved hold=10000', '19000 unrelieved clear clear=10000'], []],
  [
    'relapse soon after: the hold doubles',
    [[0, true], [1_000, false], [11_000, false], [20_000, true], [21_000, false], [31_000, false], [41_000, false]],
    ['0 relieved hold=10000', '11000 unrelieved clear clear=10000', '20000 relieved hold=20000', '41000 unrelieved clear clear=20000'],
    [],
  ],
  [
    'relapse after a quiet maxHold: forgiven, the first hold again',
    [[0, true], [1_000, false], [11_000, false], [111_000, false], [112_000, true]],
    ['0 relieved hold=10000', '11000 unrelieved clear clear=10000', '112000 relieved hold=10000'],
    ['x'],
  ],
  ['overloaded while starting: not relieved (its lag is its start\'s)', [[0, true, 'alive', true], [5_000, true, 'alive', true]], [], []],
  ['overloaded once it runs: relieved once it has run for the first hold', [[0, true, 'alive', true], [5_000, true, 'alive', true], [6_000, true], [15_000, true], [16_000, true]], ['16000 relieved hold=10000'], ['x']],
  ['overloaded right after its start, clear within the hold: not relieved (the lag was its start\'s)', [[0, true, 'alive', true], [1_000, true], [5_000, true], [8_000, false], [12_000, false]], [], []],
  ['after the first hold of running, overloaded again: relieved', [[0, true, 'alive', true], [1_000, true], [8_000, false], [20_000, true]], ['20000 relieved hold=10000'], ['x']],
  ['running long before: judged at once', [[0, true]], ['0 relieved hold=10000'], ['x']],
  [
    'relieved, then restarted: clear while starting does not count, the hold runs from when it runs',
    [[0, true], [1_000, false, 'alive', true], [20_000, false, 'alive', true], [21_000, false], [30_000, false], [31_000, false]],
    ['0 relieved hold=10000', '31000 unrelieved clear clear=10000'],
    [],
  ],
  ['a dead member is not overloaded: its hold runs out like a clear one', [[0, true], [1_000, true, 'dead'], [11_000, true, 'dead']], ['0 relieved hold=10000', '11000 unrelieved clear clear=10000'], []],
])('%s', (_name, steps, log, relieved) => {
  expect(run(steps)).toEqual({ log, relieved });
});

test.each<[string, string[], string[], string[], string[]?]>([
  // name, eligible, overloaded, relieved, starting
  ['one of three', ['a', 'b', 'c'], ['c'], ['c']],
  ['one of two: the other has room', ['a', 'b'], ['b'], ['b']],
  ['two of four: half are clear', ['a', 'b', 'c', 'd'], ['a', 'd'], ['a', 'd']],
  ['two of three: most of the cluster is overloaded, nobody has room', ['a', 'b', 'c'], ['a', 'c'], []],
  ['all of them', ['a', 'b'], ['a', 'b'], []],
  ['an overloaded member that is not eligible (damped) is not relieved', ['a', 'b'], ['c'], []],
  ['most of the cluster starting: relief waits until most of it runs', ['a', 'b', 'c'], ['c'], [], ['a', 'b']],
  ['one of three starting, one running clear: relief holds', ['a', 'b', 'c'], ['c'], ['c'], ['a']],
  ['two of four starting (clear: room), one of the running two clear', ['a', 'b', 'c', 'd'], ['d'], ['d'], ['a', 'b']],
  ['three of four starting: most of the cluster does not run yet', ['a', 'b', 'c', 'd'], ['d'], [], ['a', 'b', 'c']],
  ['the overloaded member itself starting: not relieved', ['a', 'b', 'c'], ['c'], [], ['c']],
  ['one of two, the other joining (starting, clear): it is the room', ['a', 'b'], ['a'], ['a'], ['b']],
  ['one of two, the other joining and overloaded too: no room', ['a', 'b'], ['a', 'b'], [], ['b']],
  ['two of four starting and overloaded, one of the running two clear: too little room', ['a', 'b', 'c', 'd'], ['a', 'b', 'd'], [], ['a', 'b']],
])('relief only while at least half of the eligible members run and half of them have room: %s', (_name, eligible, overloaded, want, starting = []) => {
  const members: MemberLoad[] = ['a', 'b', 'c', 'd'].map((node) => ({ node, state: 'alive', overloaded: overloaded.includes(node), starting: starting.includes(node) }));
  const { state } = observeLoad(emptyRelief(), members, 0, cfg);
  expect(relievedMembers(state, eligible)).toEqual(want);
});

test.each<[string, number, number, boolean]>([
  // name, runningSince (the detector's), now, relieved
  ['ran long before this leader saw it: judged at once', 0, 50_000, true],
  ['ran 1 s before this leader first saw it: not yet (its start\'s lag)', 49_000, 50_000, false],
  ['ran the first hold before: judged', 40_000, 50_000, true],
])('since when a member runs comes from the failure detector (a new leader judges alike): %s', (_name, runningSince, now, want) => {
  const { state, decisions } = observeLoad(emptyRelief(), [{ node: 'x', state: 'alive', overloaded: true, runningSince }], now, cfg);
  expect(decisions.length > 0).toBe(want);
  expect(state.get('x')?.relieved !== null).toBe(want);
});

test('a member the detector forgot is dropped, with a decision', () => {
  const { state } = observeLoad(emptyRelief(), [{ node: 'x', state: 'alive', overloaded: true }], 0, cfg);
  const r = observeLoad(state, [], 1_000, cfg);
  expect(r.decisions).toEqual([{ kind: 'unrelieved', node: 'x', reason: 'forgotten', clearMs: 0, holdMs: 10_000 }]);
});

test('a new leader keeps relieving the members its predecessor relieved, for a fresh hold', () => {
  const { state, decisions } = inheritRelieved(emptyRelief(), ['x'], 50_000, cfg);
  expect(decisions).toEqual([{ kind: 'relieved', node: 'x', reason: 'inherited', holdMs: 10_000, reliefs: 1 }]);
  const clear = (t: number) => observeLoad(state, [{ node: 'x', state: 'alive', overloaded: false }], t, cfg);
  expect(relievedMembers(clear(55_000).state, ['a', 'x'])).toEqual(['x']);
});

test.each<[string, string[], string[], string[], ReturnType<typeof reliefOf>]>([
  // name, eligible, overloaded, starting, outcome
  ['nobody relieved: nothing withheld', ['a', 'b'], [], ['a'], { relieved: [], withheld: null }],
  ['applied', ['a', 'b', 'c'], ['c'], [], { relieved: ['c'], withheld: null }],
  ['most of the cluster starting', ['a', 'b', 'c'], ['c'], ['a', 'b'], { relieved: [], withheld: { reason: 'starting', members: ['c'], running: 1, room: 2, eligible: 3 } }],
  ['too few with room', ['a', 'b', 'c'], ['b', 'c'], [], { relieved: [], withheld: { reason: 'no_room', members: ['b', 'c'], running: 3, room: 1, eligible: 3 } }],
])('what the map relieves, and why it withholds relief: %s', (_name, eligible, overloaded, starting, want) => {
  const members: MemberLoad[] = ['a', 'b', 'c'].map((node) => ({ node, state: 'alive', overloaded: overloaded.includes(node), starting: starting.includes(node) }));
  expect(reliefOf(observeLoad(emptyRelief(), members, 0, cfg).state, eligible)).toEqual(want);
});
