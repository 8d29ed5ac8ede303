import { lastPassed, vantageEvidence, type VantageSeen } from '../../protocol/vantage-evidence';

const I = 10_000;
const T = 1_700_000_000_000;
const seen = (ok: boolean, ago = 0): VantageSeen => ({ ok, storedAt: T - ago });

describe('vantageEvidence: this node failed; what the other vantages last saw', () => {
  test.each([
    // name, own record stored at, others → evidence
    ['the one other vantage passed: the target is healthy elsewhere', T, [seen(true)], 'disagreed'],
    ['the one other vantage failed too: the target is down', T, [seen(false)], 'agreed'],
    ['two of two others passed', T, [seen(true), seen(true, 5000)], 'disagreed'],
    ['one passed, one failed: a tie says nothing', T, [seen(true), seen(false)], null],
    ['two of three failed', T, [seen(false), seen(false), seen(true)], 'agreed'],
    ['stored 2 intervals before ours: still fresh', T, [seen(true, 2 * I)], 'disagreed'],
    ['stored more than 2 intervals before ours: unknown, not evidence', T, [seen(true, 2 * I + 1)], null],
    ['a stale pass and a fresh failure: the failure decides', T, [seen(true, 5 * I), seen(false)], 'agreed'],
    ['stored after ours (we have not stored this probe yet): fresh', T - I, [seen(true)], 'disagreed'],
    ['no record of the other vantage', T, [null], null],
    ['no record of our own: nothing to compare with', null, [seen(true)], null],
    ['no other vantage', T, [], null],
  ] as const)('%s', (_name, own, others, want) => {
    expect(vantageEvidence(own, others, I)).toBe(want);
  });
});

describe('lastPassed: the newest outcome of a verdict history', () => {
  test.each([
    ['1', true],
    ['0001', true],
    ['1110', false],
    ['', false],
  ])('%j → %s', (history, want) => {
    expect(lastPassed(history)).toBe(want);
  });
});
