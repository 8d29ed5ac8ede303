// The handover protocol's pure decisions as tables (protocol/handover.ts): what a holder does with
// a claim in each phase, how a gained slot starts, the claimant's next step, where a released
// check continues on the new owner's clock, and received claims and releases as hostile input.
import { claimNext, continueReleased, decideClaim, gainedStart, MOVED_WAITS, movedWait, releasedToMe, staleRelease, takenNext } from '../../protocol/handover';
import { MAX_RELEASE_CHECKS, parseClaim, parseClaimAnswer, parseRelease, type ClaimRequest } from '../../protocol/handover-wire';
import { startOf } from '../../actors/owner-slots';
import { phaseOf } from '../../protocol/hash';

const me = { node: 'a', instance: 'ia', gen: 7 };
const claim = (over: Partial<ClaimRequest> = {}): ClaimRequest => ({ shard: 3, rank: 0, epoch: 9, node: 'b', instance: 'ib', gen: 2, holder: 'a', ...over });

describe('decideClaim', () => {
  test.each([
    // phase, claim → decision
    ['running', claim(), 'release'],
    ['running', claim({ holder: null }), 'release'], // the claimant does not know the holder: whoever runs it answers
    ['running', claim({ holder: 'c' }), 'ignoreNotAddressed'],
    ['releasing', claim(), 'answerReleasing'],
    ['releasing', claim({ holder: null }), 'answerReleasing'],
    ['released', claim(), 'answerRelease'],
    ['released', claim({ holder: null }), 'ignoreNotAddressed'], // a kept release answers only by name
    ['claiming', claim(), 'ignoreNotHolding'],
    ['draining', claim(), 'ignoreNotHolding'],
    ['running', claim({ node: 'a', instance: 'ia', gen: 7 }), 'ignoreOwn'],
    ['released', claim({ node: 'a', instance: 'ia', gen: 8, holder: 'a' }), 'answerRelease'], // another runner of ours takes the slot back
    ['moved', claim(), 'release'],
    ['moved', claim({ holder: null }), 'release'],
  ] as const)('%s + %j → %s', (phase, c, want) => {
    expect(decideClaim(phase, c, me)).toBe(want);
  });

  // A takeover claim (holder believed dead, unknown who has its latest state): answered only by a
  // holder that does not own the slot any more, and only with a release nobody else took.
  const takeover = claim({ holder: null, takeover: true });
  const other = { node: 'c', instance: 'ic', gen: 4 };
  test.each([
    ['running', null, 'ignoreTakeover'], // believes it owns the slot: both probe, its late release is counted
    ['moved', null, 'release'], // the map gave the slot to the dead node: hand it to the taker
    ['releasing', null, 'answerReleasing'], // released on its own: the release follows
    ['releasing', other, 'ignoreTakeover'], // another claimant gets this release
    ['released', null, 'answerRelease'], // released on its own, never claimed: the kept release
    ['released', other, 'ignoreTakeover'],
    ['claiming', null, 'ignoreNotHolding'],
    ['draining', null, 'ignoreNotHolding'],
  ] as const)('takeover claim, %s (released to %j) → %s', (phase, releasedTo, want) => {
    expect(decideClaim(phase, takeover, { ...me, releasedTo })).toBe(want);
  });

  // One release, one claimant: once a claimant has asked (releasedTo), a claim from any other runner
  // — a second node whose map gave it the slot too (a flapping node's returning life, with an older
  // map), or a restarted life of the first — is answered `taken`, never the same release.
  const first = { node: 'b', instance: 'ib', gen: 2 };
  test.each([
    ['releasing', claim(), 'answerReleasing'], // the first claimant asks again
    ['released', claim(), 'answerRelease'],
    ['releasing', claim({ node: 'c', instance: 'ic', gen: 4 }), 'answerTaken'],
    ['released', claim({ node: 'c', instance: 'ic', gen: 4 }), 'answerTaken'],
    ['released', claim({ instance: 'ib2' }), 'answerTaken'], // the first claimant's node, another life
    ['released', claim({ gen: 3 }), 'answerTaken'], // the first claimant's node, another runner
    ['released', claim({ node: 'c', instance: 'ic', gen: 4, holder: null }), 'ignoreNotAddressed'], // a kept release answers only by name
    ['running', claim({ node: 'c', instance: 'ic', gen: 4 }), 'release'], // not released yet: the claim is news
  ] as const)('released to b, %s + %j → %s', (phase, c, want) => {
    expect(decideClaim(phase, c, { ...me, releasedTo: first })).toBe(want);
  });

  // A claimant this holder holds dead or still starting after a restart (protocol/takeover.ts):
  // a probing holder runs the slot for it (`held`) instead of releasing; nothing else changes.
  test.each([
    ['running', claim({ holder: null }), 'answerHeld'],
    ['running', claim(), 'answerHeld'],
    ['moved', claim({ holder: null }), 'answerHeld'],
    ['running', claim({ holder: 'c' }), 'ignoreNotAddressed'],
    ['running', claim({ holder: null, takeover: true }), 'ignoreTakeover'], // a takeover claim is never held
    ['moved', claim({ holder: null, takeover: true }), 'release'],
    ['releasing', claim(), 'answerReleasing'], // already releasing (it heard the claimant running)
    ['released', claim(), 'answerRelease'],
    ['claiming', claim(), 'ignoreNotHolding'],
  ] as const)('claimant held dead or starting, %s + %j → %s', (phase, c, want) => {
    expect(decideClaim(phase, c, { ...me, claimantHeld: true })).toBe(want);
  });
});

describe('gainedStart', () => {
  test.each([
    [null, ['a', 'b'], 'claim'],
    ['a', ['a', 'b'], 'claim'],
    ['c', ['a', 'b'], 'takeover'], // dead, left, or not a member any more
  ] as const)('previous holder %s, live %j → %s', (holder, live, want) => {
    expect(gainedStart(holder, live)).toBe(want);
  });
});

describe('staleRelease', () => {
  test.each([
    ['made under the map that named the holder', 3, 3, false],
    ['made under a later map (it held the slot on)', 5, 3, false],
    ['made before the naming map: kept from an earlier life of the slot', 1, 3, true],
    ['no naming map known (the claimant followed none before)', 1, undefined, false],
  ] as const)('%s', (_name, epoch, since, want) => expect(staleRelease({ epoch }, since)).toBe(want));
});

describe('startOf', () => {
  const map = [['a', 'b']];
  test.each([
    ['a live holder: claim, naming the previous map\'s epoch', map, 0, 0, ['a', 'b'], 7, { type: 'claim', holder: 'a', since: 7 }],
    ['no map followed before: claim from whoever holds it, no epoch', null, 0, 0, undefined, 0, { type: 'claim', holder: null }],
    ['the previous map had no such rank: fresh', map, 0, 2, ['a', 'b'], 7, { type: 'fresh' }],
    ['a holder no longer live: takeover', map, 0, 0, ['b'], 7, { type: 'takeover', from: 'a', heldDead: false }],
  ] as const)('%s', (_name, previous, shard, rank, live, epoch, want) => {
    expect(startOf(previous as string[][] | null, shard, rank, live as string[] | undefined, [], [], epoch)).toEqual(want);
  });

  test('a claim carries when this node was given the slot (gainedAt, its own clock); a takeover or fresh start has no use for it', () => {
    expect(startOf(map, 0, 0, ['a', 'b'], [], [], 7, 123)).toEqual({ type: 'claim', holder: 'a', since: 7, gainedAt: 123 });
    expect(startOf(map, 0, 0, ['b'], [], [], 7, 123)).toEqual({ type: 'takeover', from: 'a', heldDead: false });
    expect(startOf(map, 0, 2, ['a', 'b'], [], [], 7, 123)).toEqual({ type: 'fresh' });
  });
});

describe('claimNext', () => {
  test.each([
    ['releasing', 0, 'waitRelease'],
    ['releasing', 5000, 'waitRelease'],
    ['held', 0, 'waitRelease'], // the holder runs the slot for us until it hears us running
    ['held', 60_000, 'waitRelease'],
    ['taken', 0, 'waitRelease'], // released to another claimant: wait, or claim from it (takenNext)
    ['released', 0, 'takeRelease'],
    ['noResponders', 0, 'fromStream'],
    ['silence', 999, 'retry'],
    ['silence', 1000, 'unanswered'],
  ] as const)('%s after %d ms silent (wait 1000) → %s', (event, silent, want) => {
    expect(claimNext(event, silent, 1000)).toBe(want);
  });
});

describe('takenNext', () => {
  test.each([
    ['the slot went to a claim under an older map: claim from that node', { by: 'b', epoch: 8 }, { node: 'c', epoch: 9 }, 'retarget'],
    ['under a newer map: ours is stale, wait for the map that moves the slot', { by: 'b', epoch: 10 }, { node: 'c', epoch: 9 }, 'wait'],
    ['under the same map: wait', { by: 'b', epoch: 9 }, { node: 'c', epoch: 9 }, 'wait'],
    ["to this node's own earlier life: never claim from ourselves", { by: 'c', epoch: 8 }, { node: 'c', epoch: 9 }, 'wait'],
  ] as const)('%s', (_name, taken, me, want) => expect(takenNext(taken, me)).toBe(want));
});

describe('releasedToMe', () => {
  const me = { node: 'c', instance: 'ic', gen: 4 };
  test.each([
    ['no claimant named (released on its own, or an older node): anyone', {}, true],
    ['named this runner', { to: me }, true],
    ['named another node', { to: { node: 'b', instance: 'ib', gen: 2 } }, false],
    ['named this node, another life', { to: { ...me, instance: 'old' } }, false],
    ['named this node, another runner', { to: { ...me, gen: 3 } }, false],
  ] as const)('%s', (_name, release, want) => expect(releasedToMe(release, me)).toBe(want));
});

describe('continueReleased', () => {
  const I = 10_000;
  const id = 'k';
  const grid = (t: number) => t - ((((t - phaseOf(id, I)) % I) + I) % I); // the grid slot at or before t
  const now = 1_700_000_000_000 + 3_333;
  const next = grid(now) + I;
  test.each([
    // name, released {slot, dueInMs} → {slot, shift, skipped}
    ['clocks agree: the own grid slot', { slot: next, dueInMs: next - now }, { slot: next, shift: 0, skipped: 0 }],
    ['clocks agree, the release 40 ms in transit: still the own grid slot', { slot: next, dueInMs: next - now - 40 }, { slot: next, shift: 0, skipped: 0 }],
    // The holder's clock 4.3 s ahead: its grid slot `next` is our next − 4300, off our grid.
    ['holder 4.3 s ahead: its label, shifted to our clock', { slot: next, dueInMs: next - 4300 - now }, { slot: next, shift: -4300, skipped: 0 }],
    ['holder 30 s ahead (a whole number of intervals): our own grid', { slot: next + 30_000, dueInMs: next - now }, { slot: next, shift: 0, skipped: 0 }],
    ['due a few seconds ago (the map came late): runs at once under its slot', { slot: grid(now), dueInMs: grid(now) - now }, { slot: grid(now), shift: 0, skipped: 0 }],
    ['due 2.5 intervals ago: two intervals skipped (counted), the last one runs at once', { slot: 5, dueInMs: -25_000 }, { slot: 5 + 2 * I, shift: now - 25_000 - 5, skipped: 2 }],
  ] as const)('%s', (_name, rc, want) => {
    expect(continueReleased(id, rc, I, now)).toEqual(want);
  });

  // This node stalled after claiming: the release (sent `late` ms before we read it) waited unread.
  const at = next + 300; // we read it 300 ms after the released slot `next` was due
  test.each([
    ['read 900 ms late, no stall measured: shifted by how late it was read', at, { slot: next, dueInMs: next - at + 900 }, 0, { slot: next, shift: 900, skipped: 0 }],
    ['read 900 ms late after a 950 ms stall: the released slot on the grid, at once (passed 300 ms ago)', at, { slot: next, dueInMs: next - at + 900 }, 950, { slot: next, shift: 0, skipped: 0 }],
    ['a stall shorter than the lateness: shifted as before', at, { slot: next, dueInMs: next - at + 900 }, 300, { slot: next, shift: 900, skipped: 0 }],
    ['a stall does not pull a holder 4.3 s ahead onto our grid', now, { slot: next, dueInMs: next - 4300 - now }, 950, { slot: next, shift: -4300, skipped: 0 }],
    ['a stall longer than an interval: the slots passed since are skipped (counted)', next + 2 * I + 300, { slot: next, dueInMs: 500 }, 2 * I + 900, { slot: next + 2 * I, shift: 0, skipped: 2 }],
  ] as const)('%s', (_name, t, rc, stalledMs, want) => {
    expect(continueReleased(id, rc, I, t, { stalledMs })).toEqual(want);
  });

  // The release took 850 ms to arrive (queued at NATS), this node did not stall: what the holder's heartbeats say of its clock decides.
  test.each([
    ['no estimate of the holder\'s clock yet: shifted by the delay', null, { slot: next, shift: 850, skipped: 0 }],
    ['the holder\'s clock agrees (12 ms off): the released slot on the grid, at once', 12, { slot: next, shift: 0, skipped: 0 }],
    ['the holder\'s clock 4.3 s off: shifted by what the release says, as before', 4300, { slot: next, shift: 850, skipped: 0 }],
  ] as const)('%s', (_name, holderOffsetMs, want) => {
    expect(continueReleased(id, { slot: next, dueInMs: next - at + 850 }, I, at, { holderOffsetMs })).toEqual(want);
  });
  test('the holder\'s clock agrees and the release is older than an interval: the slots since are skipped (counted)', () => {
    expect(continueReleased(id, { slot: next, dueInMs: -2 * I }, I, next + 2 * I + 300, { holderOffsetMs: 0 })).toEqual({ slot: next + 2 * I, shift: 0, skipped: 2 });
  });
});

describe('movedWait', () => {
  test.each([
    ['new owner alive, first wait', 0, true, 'wait'],
    ['new owner alive, one wait short of the bound', MOVED_WAITS - 1, true, 'wait'],
    ['new owner alive, bound reached', MOVED_WAITS, true, 'release'],
    ['new owner not alive (or unknown)', 0, false, 'release'],
  ])('%s', (_name, waits, alive, out) => {
    expect(movedWait(waits as number, alive as boolean)).toBe(out);
  });
});

describe('received claims and releases are hostile input', () => {
  const slot = { shard: 3, rank: 0 };
  const rc = { id: 'c-1', seq: 4, status: 'up', history: '0101', slot: 1_700_000_000_000, dueInMs: 250 };
  const release = { shard: 3, rank: 0, node: 'a', instance: 'ia', gen: 1, epoch: 9, checks: [rc] };
  test.each([
    ['a good release', release, true],
    ['another slot', { ...release, rank: 1 }, false],
    ['not an object', 'release', false],
    ['a bad node id', { ...release, node: 'a.b' }, false],
    ['checks not a list', { ...release, checks: {} }, false],
    ['too many checks', { ...release, checks: Array.from({ length: MAX_RELEASE_CHECKS + 1 }, (_, i) => ({ ...rc, id: `c${i}` })) }, false],
    ['a check twice', { ...release, checks: [rc, rc] }, false],
    ['a bad check id', { ...release, checks: [{ ...rc, id: 'a b' }] }, false],
    ['a negative seq', { ...release, checks: [{ ...rc, seq: -1 }] }, false],
    ['a fractional seq', { ...release, checks: [{ ...rc, seq: 1.5 }] }, false],
    ['an unknown status', { ...release, checks: [{ ...rc, status: 'unknown' }] }, false],
    ['published unknown (never announced)', { ...release, checks: [{ ...rc, published: 'unknown' }] }, true],
    ['published degraded, with its flag (protocol/published-verdict.ts)', { ...release, checks: [{ ...rc, published: 'degraded', degraded: true }] }, true],
    ['published flapping, with its flag', { ...release, checks: [{ ...rc, published: 'flapping', flapping: true }] }, true],
    ['published something else', { ...release, checks: [{ ...rc, published: 'sideways' }] }, false],
    ['a flag that is not a boolean', { ...release, checks: [{ ...rc, flapping: 'yes' }] }, false],
    ['a history of other characters', { ...release, checks: [{ ...rc, history: '01x' }] }, false],
    ['a history too long', { ...release, checks: [{ ...rc, history: '1'.repeat(65) }] }, false],
    ['dueInMs not finite', { ...release, checks: [{ ...rc, dueInMs: null }] }, false],
    ['dueInMs beyond two longest intervals', { ...release, checks: [{ ...rc, dueInMs: 7_200_001 }] }, false],
    ['ran, firstAt, lastAt and nextAt', { ...release, checks: [{ ...rc, ran: 12, firstAt: 1_700_000_000_000, lastAt: 1_700_000_010_004, nextAt: 1_700_000_011_000 }] }, true],
    ['lastAt negative', { ...release, checks: [{ ...rc, lastAt: -1 }] }, false],
    ['skipped rounds carried', { ...release, checks: [{ ...rc, skipped: 2 }] }, true],
    ['skipped negative', { ...release, checks: [{ ...rc, skipped: -1 }] }, false],
    ['skipped not an integer', { ...release, checks: [{ ...rc, skipped: 1.5 }] }, false],
    ['skipped absurd', { ...release, checks: [{ ...rc, skipped: 1e12 }] }, false],
    ['ran negative', { ...release, checks: [{ ...rc, ran: -1 }] }, false],
    ['ran beyond the bound', { ...release, checks: [{ ...rc, ran: 1e12 }] }, false],
    ['firstAt negative', { ...release, checks: [{ ...rc, firstAt: -5 }] }, false],
    ['nextAt not finite', { ...release, checks: [{ ...rc, nextAt: Infinity }] }, false],
    ['nextAt fractional', { ...release, checks: [{ ...rc, nextAt: 1.5 }] }, false],
    ['to a claimant', { ...release, to: { node: 'b', instance: 'ib', gen: 2 } }, true],
    ['to a bad node id', { ...release, to: { node: 'b.c', instance: 'ib', gen: 2 } }, false],
    ['to without a gen', { ...release, to: { node: 'b', instance: 'ib' } }, false],
    ['to not an object', { ...release, to: 'b' }, false],
  ])('%s', (_name, raw, ok) => {
    expect(typeof parseRelease(raw, slot) !== 'string').toBe(ok);
    expect(typeof parseClaimAnswer({ answer: 'released', release: raw }, slot) !== 'string').toBe(ok);
  });

  test.each([
    ['a good claim', claim(), true],
    ['holder null', claim({ holder: null }), true],
    ['another shard', claim({ shard: 4 }), false],
    ['a negative epoch', claim({ epoch: -1 }), false],
    ['an instance too long', claim({ instance: 'i'.repeat(129) }), false],
    ['a bad holder', claim({ holder: 'x y' as string }), false],
    ['a takeover claim', claim({ holder: null, takeover: true }), true],
    ['takeover not a boolean', { ...claim({ holder: null }), takeover: 'yes' }, false],
  ])('claim: %s', (_name, raw, ok) => {
    expect(typeof parseClaim(raw, slot) !== 'string').toBe(ok);
  });

  test('answers: releasing, held, taken, a release, anything else refused', () => {
    expect(parseClaimAnswer({ answer: 'releasing' }, slot)).toEqual({ answer: 'releasing' });
    expect(parseClaimAnswer({ answer: 'held', extra: 'x'.repeat(10) }, slot)).toEqual({ answer: 'held' });
    expect(parseClaimAnswer({ answer: 'taken', by: 'b', epoch: 8, extra: 1 }, slot)).toEqual({ answer: 'taken', by: 'b', epoch: 8 });
    expect(parseClaimAnswer({ answer: 'taken', by: 'b c', epoch: 8 }, slot)).toBe('taken must name a node and an epoch');
    expect(parseClaimAnswer({ answer: 'taken', by: 'b', epoch: -1 }, slot)).toBe('taken must name a node and an epoch');
    expect(parseRelease({ ...release, to: { node: 'b', instance: 'ib', gen: 2 } }, slot)).toMatchObject({ to: { node: 'b', instance: 'ib', gen: 2 } });
    expect(parseClaimAnswer({ answer: 'yes' }, slot)).toBe('unknown answer');
    expect(parseClaimAnswer(null, slot)).toBe('not an object');
  });
});
