// Churn damping (protocol/churn.ts), as tables: member x's observed lives over the leader's
// monotonic time (a and b stay alive throughout), the decisions taken and whether x may hold
// shards at the end. First join and a single restart are never damped; the threshold-th return
// within the window is; the hold counts from the start of a stable run, grows with repeated
// damping up to its bound, and is forgiven after a quiet maxHold.
import { dampedMembers, eligibleMembers, emptyChurn, holdFor, inheritDamped, observeMembers, type ChurnConfig, type ChurnState, type MemberLife } from '../../protocol/churn';
import type { MemberState } from '../../protocol/failure-detector';

const cfg: ChurnConfig = { windowMs: 60_000, threshold: 3, holdMs: 30_000, maxHoldMs: 120_000 };

/** One observation of x: [time, state, instance] (a and b alive, one life each). */
type Step = [number, MemberState, string];

function run(steps: Step[], c: ChurnConfig = cfg, start: ChurnState = emptyChurn()) {
  let state = start;
  const log: string[] = [];
  for (const [t, st, instance] of steps) {
    const members: MemberLife[] = [
      { node: 'a', instance: 'a1', state: 'alive' },
      { node: 'b', instance: 'b1', state: 'alive' },
      { node: 'x', instance, state: st },
    ];
    const r = observeMembers(state, members, t, c);
    state = r.state;
    for (const d of r.decisions) log.push(d.kind === 'damped' ? `${t} damped ${d.node} ${d.reason} returns=${d.returns} hold=${d.holdMs}` : `${t} undamped ${d.node} ${d.reason} stable=${d.stableMs}`);
  }
  const live = ['a', 'b', 'x'];
  return { state, log, eligible: eligibleMembers(state, live), damped: dampedMembers(state) };
}

/** x crash-restarts `n` times, every `every` ms from `from`: dead, then a new instance alive. */
function flaps(n: number, from = 10_000, every = 7_000, first = 1): Step[] {
  const out: Step[] = [];
  for (let i = 0; i < n; i++) {
    const t = from + i * every;
    out.push([t, 'dead', `x${first + i - 1}`], [t + 3_000, 'alive', `x${first + i}`]);
  }
  return out;
}

describe('churn damping: who is held out', () => {
  test.each<[string, Step[], string[], string[]]>([
    ['the first join of a new node', [[0, 'alive', 'x0']], [], ['a', 'b', 'x']],
    ['a member that is alive all along', [[0, 'alive', 'x0'], [30_000, 'alive', 'x0'], [90_000, 'alive', 'x0']], [], ['a', 'b', 'x']],
    ['one restart (crash, dead, back)', [[0, 'alive', 'x0'], ...flaps(1)], [], ['a', 'b', 'x']],
    ['one quick restart (a new instance, never dead)', [[0, 'alive', 'x0'], [5_000, 'alive', 'x1']], [], ['a', 'b', 'x']],
    ['two restarts in the window (threshold 3)', [[0, 'alive', 'x0'], ...flaps(2)], [], ['a', 'b', 'x']],
    ['three restarts in the window: damped at the third return', [[0, 'alive', 'x0'], ...flaps(3)], ['27000 damped x flapping returns=3 hold=30000'], ['a', 'b']],
    ['three quick restarts (new instances, never dead)', [[0, 'alive', 'x0'], [1_000, 'alive', 'x1'], [2_000, 'alive', 'x2'], [3_000, 'alive', 'x3']], ['3000 damped x flapping returns=3 hold=30000'], ['a', 'b']],
    ['a partition that heals three times (same instance, dead → alive)', [[0, 'alive', 'x0'], [5_000, 'dead', 'x0'], [6_000, 'alive', 'x0'], [9_000, 'dead', 'x0'], [10_000, 'alive', 'x0'], [13_000, 'dead', 'x0'], [14_000, 'alive', 'x0']], ['14000 damped x flapping returns=3 hold=30000'], ['a', 'b']],
    ['three restarts spread wider than the window', [[0, 'alive', 'x0'], ...flaps(3, 10_000, 40_000)], [], ['a', 'b', 'x']],
    ['suspicions that are refuted are not returns', [[0, 'alive', 'x0'], [1_000, 'suspect', 'x0'], [2_000, 'alive', 'x0'], [3_000, 'suspect', 'x0'], [4_000, 'alive', 'x0'], [5_000, 'suspect', 'x0'], [6_000, 'alive', 'x0']], [], ['a', 'b', 'x']],
    ['two processes sharing a node id, alternating in the view, are one return', [[0, 'alive', 'x0'], [100, 'alive', 'x1'], [200, 'alive', 'x0'], [300, 'alive', 'x1'], [400, 'alive', 'x0'], [500, 'alive', 'x1']], [], ['a', 'b', 'x']],
    ['a seeded member (no instance yet) heard with its instance is not a new life', [[0, 'alive', ''], [1_000, 'alive', 'x0'], ...flaps(1, 5_000, 7_000, 1)], [], ['a', 'b', 'x']],
  ])('%s', (_name, steps, log, eligible) => {
    const r = run(steps);
    expect(r.log).toEqual(log);
    expect(r.eligible).toEqual(eligible);
  });

  test('deaths alone are not counted: a member dead for good is simply out of the map, never damped', () => {
    const r = run([[0, 'alive', 'x0'], [5_000, 'suspect', 'x0'], [7_000, 'dead', 'x0'], [60_000, 'dead', 'x0']]);
    expect(r.log).toEqual([]);
    expect(r.damped).toEqual([]);
  });

  test('damping never empties the assignment: if every live member is damped, all are eligible', () => {
    const r = run([[0, 'alive', 'x0'], [1_000, 'alive', 'x1'], [2_000, 'alive', 'x2'], [3_000, 'alive', 'x3']]);
    expect(eligibleMembers(r.state, ['x'])).toEqual(['x']);
    expect(eligibleMembers(r.state, ['a', 'x'])).toEqual(['a']);
  });
});

describe('churn damping: when a damped member comes back', () => {
  const damped: Step[] = [[0, 'alive', 'x0'], ...flaps(3)]; // damped at 27 000, alive since then (instance x3)

  test.each<[string, Step[], string[], string[]]>([
    ['held while alive for less than the hold', [[50_000, 'alive', 'x3'], [56_999, 'alive', 'x3']], [], ['a', 'b']],
    ['undamped once alive for the hold (counted from the damping)', [[50_000, 'alive', 'x3'], [57_000, 'alive', 'x3']], ['57000 undamped x stable stable=30000'], ['a', 'b', 'x']],
    ['a suspicion while damped restarts the hold from the next alive', [[40_000, 'suspect', 'x3'], [41_000, 'alive', 'x3'], [70_999, 'alive', 'x3'], [71_000, 'alive', 'x3']], ['71000 undamped x stable stable=30000'], ['a', 'b', 'x']],
    ['a restart while damped restarts the hold', [[40_000, 'alive', 'x4'], [69_999, 'alive', 'x4'], [70_000, 'alive', 'x4']], ['70000 undamped x stable stable=30000'], ['a', 'b', 'x']],
    ['a member dead when its hold would end stays damped', [[40_000, 'dead', 'x3'], [90_000, 'dead', 'x3']], [], ['a', 'b']],
  ])('%s', (_name, more, log, eligible) => {
    const r = run([...damped, ...more]);
    expect(r.log.slice(1)).toEqual(log);
    expect(r.eligible).toEqual(eligible);
  });

  test('a member damped again before it is forgiven is held twice as long, up to maxHold', () => {
    expect([1, 2, 3, 4, 5].map((n) => holdFor(cfg, n))).toEqual([30_000, 60_000, 120_000, 120_000, 120_000]);
    // Damped at 27 000, undamped at 57 000, then crashes again at once: its three returns are still
    // in the window, so the next one damps it again, with a hold of 60 s.
    const r = run([[0, 'alive', 'x0'], ...flaps(3), [57_000, 'alive', 'x3'], ...flaps(2, 60_000, 7_000, 4)]);
    expect(r.log).toEqual(['27000 damped x flapping returns=3 hold=30000', '57000 undamped x stable stable=30000', '63000 damped x flapping returns=4 hold=60000']);
  });

  test('after maxHold without a return the dampings are forgiven: the next damping holds holdMs again', () => {
    const r = run([[0, 'alive', 'x0'], ...flaps(3), [57_000, 'alive', 'x3'], [200_000, 'alive', 'x3'], ...flaps(3, 300_000, 7_000, 4)]);
    expect(r.log).toEqual(['27000 damped x flapping returns=3 hold=30000', '57000 undamped x stable stable=30000', '317000 damped x flapping returns=3 hold=30000']);
  });

  test('the published list keeps a damped member that died, not one that left gracefully', () => {
    expect(run([...damped, [40_000, 'dead', 'x3']]).damped).toEqual(['x']);
    expect(run([...damped, [40_000, 'left', 'x3']]).damped).toEqual([]);
    // Back after the leave (a new life while still damped): listed again.
    expect(run([...damped, [40_000, 'left', 'x3'], [41_000, 'alive', 'x4']]).damped).toEqual(['x']);
  });

  test('a damped member the detector forgot is dropped, with a decision', () => {
    const r = run(damped);
    const next = observeMembers(r.state, [{ node: 'a', instance: 'a1', state: 'alive' }], 100_000, cfg);
    expect(next.decisions).toEqual([{ kind: 'undamped', node: 'x', reason: 'forgotten', stableMs: 0, holdMs: 30_000, dampings: 1 }]);
    expect(dampedMembers(next.state)).toEqual([]);
  });
});

describe('churn damping: a new leader inherits the held-out members of the stored map', () => {
  test('held for a fresh hold from the takeover, counted from when it is seen alive', () => {
    const inherited = inheritDamped(emptyChurn(), ['x'], 1_000, cfg);
    expect(inherited.decisions).toEqual([{ kind: 'damped', node: 'x', reason: 'inherited', returns: 0, windowMs: 60_000, holdMs: 30_000, dampings: 1 }]);
    const r = run([[2_000, 'alive', 'x7'], [31_999, 'alive', 'x7'], [32_000, 'alive', 'x7']], cfg, inherited.state);
    expect(r.log).toEqual(['32000 undamped x stable stable=30000']);
  });

  test('a member already damped here is not damped again', () => {
    const r = run([[0, 'alive', 'x0'], ...flaps(3)]);
    expect(inheritDamped(r.state, ['x'], 40_000, cfg).decisions).toEqual([]);
  });
});
