// The link judgement (protocol/link-liveness.ts): a PONG or any message is life; only judgements
// in a row that heard nothing make a link stale.
import { freshLiveness, judgeLink, type LinkObservation, type LinkVerdict } from '../../protocol/link-liveness';

/** Runs `obs` through judgeLink from a fresh state at {0, 0}; returns the verdicts. */
function run(obs: Array<[inMsgs: number, pongs: number]>, maxSilent = 2): LinkVerdict[] {
  let s = freshLiveness({ inMsgs: 0, pongs: 0 });
  return obs.map(([inMsgs, pongs]) => {
    const o: LinkObservation = { inMsgs, pongs };
    const r = judgeLink(s, o, maxSilent);
    s = r.state;
    return r.verdict;
  });
}

describe('judgeLink', () => {
  test.each<[string, Array<[number, number]>, LinkVerdict[]]>([
    ['every PING answered', [[0, 1], [0, 2], [0, 3]], ['alive', 'alive', 'alive']],
    ['a dead link: nothing heard, stale on the third judgement (as nats.js with maxPingOut 2)', [[0, 0], [0, 0], [0, 0]], ['silent', 'silent', 'stale']],
    ['PONGs stuck behind a backlog while messages arrive: alive', [[500, 0], [900, 0], [1400, 0], [1800, 0], [2300, 0]], ['alive', 'alive', 'alive', 'alive', 'alive']],
    ['one message after two silent judgements starts the count again', [[0, 0], [0, 0], [1, 0], [1, 0], [1, 0]], ['silent', 'silent', 'alive', 'silent', 'silent']],
    ['a late PONG saves the link just in time', [[0, 0], [0, 0], [0, 1]], ['silent', 'silent', 'alive']],
    ['the backlog ends and nothing follows: stale three judgements later', [[10, 0], [20, 0], [20, 0], [20, 0], [20, 0]], ['alive', 'alive', 'silent', 'silent', 'stale']],
  ])('%s', (_name, obs, want) => {
    expect(run(obs)).toEqual(want);
  });

  test.each([
    [0, ['stale']],
    [1, ['silent', 'stale']],
    [4, ['silent', 'silent', 'silent', 'silent', 'stale']],
  ] as Array<[number, LinkVerdict[]]>)('maxSilentTicks %i: stale after %j', (max, want) => {
    expect(run(want.map(() => [0, 0] as [number, number]), max)).toEqual(want);
  });

  test('the state carries the counters it judged', () => {
    const r = judgeLink(freshLiveness({ inMsgs: 5, pongs: 2 }), { inMsgs: 5, pongs: 2 }, 2);
    expect(r.state).toEqual({ inMsgs: 5, pongs: 2, silentTicks: 1 });
  });
});
