// A push check's deadline as tables (checks/push-deadline.ts): what an evaluation finds for report
// ages, fail and start signals, the grace, a new owner with no knowledge; how a report changes the
// state; and the handover: a release carries ages, the new owner continues them, a takeover
// without a release waits a full interval + grace on its own clock. Every instant is monotonic ms.
import { agedCarry, carryOf, evaluatePush, freshPush, fromCarry, noteReport, PUSH_MAX_AGE_MS, withCarry, type Instant, type PushState } from '../../checks/push-deadline';
import { parsePushCarry } from '../../checks/push-report';
import { parseRelease } from '../../protocol/handover-wire';
import { normalizeSpec } from '../../checks/spec';
import { longestInterval, probeInterval, shortestInterval } from '../../protocol/state-interval';

const D = { intervalMs: 60_000, graceMs: 30_000 }; // deadline 90 s
const t = (at: number, stall = 0): Instant => ({ at, stall });

/** The state after `reports` ([ms, signal, message?]) heard by an owner that began at 0. */
function heard(reports: [number, 'ok' | 'fail' | 'start', string?][], since = 0): PushState {
  return reports.reduce((s, [at, signal, msg]) => noteReport(s, signal, msg ?? null, t(at)), freshPush(t(since)));
}

describe('evaluatePush', () => {
  test.each([
    // what was heard, evaluated at, → ok, reason, lastReportAgoMs, running
    ['nothing, just began keeping it', heard([]), 1_000, false, 'inconclusive', null, false],
    ['nothing, at exactly interval + grace', heard([]), 90_000, false, 'inconclusive', null, false],
    ['nothing, past interval + grace', heard([]), 90_001, false, 'missed', null, false],
    ['an ok 10 s ago', heard([[50_000, 'ok']]), 60_000, true, null, 10_000, false],
    ['an ok exactly at the deadline', heard([[10_000, 'ok']]), 100_000, true, null, 90_000, false],
    ['an ok past the deadline', heard([[10_000, 'ok']]), 100_001, false, 'missed', 90_001, false],
    ['an ok within grace (past the interval)', heard([[0, 'ok']]), 75_000, true, null, 75_000, false],
    ['a fail just now', heard([[50_000, 'ok'], [59_000, 'fail', 'disk full']]), 60_000, false, 'reported_fail', 1_000, false],
    ['a fail, then an ok', heard([[50_000, 'fail'], [55_000, 'ok']]), 60_000, true, null, 5_000, false],
    ['a start within grace', heard([[50_000, 'start']]), 70_000, true, null, 20_000, true],
    ['a start, the run longer than grace', heard([[50_000, 'start']]), 80_001, false, 'missed', 30_001, true],
    ['a start, then ok', heard([[50_000, 'start'], [62_000, 'ok']]), 63_000, true, null, 1_000, false],
    ['a start, then fail', heard([[50_000, 'start'], [62_000, 'fail']]), 63_000, false, 'reported_fail', 1_000, false],
    // A run open within grace keeps the check up even when the last ok is older than the deadline: the job is alive.
    ['an old ok, a run just started', heard([[0, 'ok'], [100_000, 'start']]), 110_000, true, null, 10_000, true],
  ] as const)('%s, at %d ms → ok %s (%s)', (_what, s, at, ok, reason, ago, running) => {
    const o = evaluatePush(s, D, t(at));
    expect([o.ok, o.reason, o.push?.lastReportAgoMs, o.push?.running]).toEqual([ok, reason, ago, running]);
    expect(o.latencyMs).toBe(0);
  });

  test('a fail carries the job\'s message; without one it says so', () => {
    expect(evaluatePush(heard([[1, 'fail', 'disk full']]), D, t(2)).message).toBe('disk full');
    expect(evaluatePush(heard([[1, 'fail']]), D, t(2)).message).toBe('the job reported a failure');
  });

  test('a run\'s duration is reported once it ends, and stays until the next run ends', () => {
    const s = heard([[1_000, 'start'], [13_500, 'ok']]);
    expect(evaluatePush(s, D, t(14_000)).push).toEqual({ lastReportAgoMs: 500, signal: 'ok', runMs: 12_500, running: false });
    const next = noteReport(s, 'start', null, t(20_000));
    expect(evaluatePush(next, D, t(21_000)).push).toEqual({ lastReportAgoMs: 1_000, signal: 'start', runMs: 12_500, running: true });
  });

  test.each([
    // The node's own stall is not the job's lateness: an owner stalled 40 s of the last 100 s saw an ok 60 s ago.
    ['an ok 100 s ago, 40 s of it stalled here', heard([[0, 'ok']]), t(100_000, 40_000), true],
    ['an ok 100 s ago, 5 s of it stalled here', heard([[0, 'ok']]), t(100_000, 5_000), false],
  ] as const)('%s → ok %s', (_what, s, now, ok) => {
    expect(evaluatePush(s, D, now).ok).toBe(ok);
  });

  test('nothing heard for 120 s since owning, 40 s of it stalled here: still inconclusive, not missed', () => {
    expect(evaluatePush(heard([]), D, t(120_000, 40_000)).reason).toBe('inconclusive');
  });
});

describe('handover: the deadline travels as ages', () => {
  test.each([
    // holder state, holder's now → the new owner, at its own clock, after the same elapsed time, evaluates like the holder would have
    ['an ok 30 s before the release', heard([[70_000, 'ok']]), 100_000],
    ['an ok 85 s before the release', heard([[15_000, 'ok']]), 100_000],
    ['nothing heard, holder waited 80 s', heard([], 20_000), 100_000],
    ['a run open 20 s', heard([[10_000, 'ok'], [80_000, 'start']]), 100_000],
    ['a fail', heard([[90_000, 'fail', 'boom']]), 100_000],
  ] as const)('%s: the new owner decides as the holder would at every later instant', (_what, s, holderNow) => {
    const carry = carryOf(s, t(holderNow));
    // The new owner's monotonic clock is unrelated to the holder's (here: 5 000 000 ms ahead).
    const ownNow = 5_000_000;
    const continued = fromCarry(carry, t(ownNow));
    for (const later of [0, 5_000, 10_000, 20_000, 60_000, 120_000]) {
      const theirs = evaluatePush(s, D, t(holderNow + later));
      const ours = evaluatePush(continued, D, t(ownNow + later));
      expect([later, ours.ok, ours.reason, ours.push]).toEqual([later, theirs.ok, theirs.reason, theirs.push]);
    }
  });

  test('a takeover without a release waits a full interval + grace on its own clock before missed (inconclusive until then: the verdict it resumed stays)', () => {
    const taker = freshPush(t(1_000_000));
    expect(evaluatePush(taker, D, t(1_000_000 + 1)).reason).toBe('inconclusive');
    expect(evaluatePush(taker, D, t(1_000_000 + 90_000)).reason).toBe('inconclusive');
    expect(evaluatePush(taker, D, t(1_000_000 + 90_001)).reason).toBe('missed');
    // ...unless it hears a fail.
    expect(evaluatePush(noteReport(taker, 'fail', null, t(1_000_500)), D, t(1_001_000)).reason).toBe('reported_fail');
  });

  test('a kept release answered late: every age grows by the time it was kept (clamped)', () => {
    const carry = carryOf(heard([[10_000, 'start']], 0), t(20_000));
    expect(carry).toEqual({ sinceAgoMs: 20_000, last: { agoMs: 10_000, signal: 'start', message: null }, runAgoMs: 10_000 });
    expect(agedCarry(carry, 5_000)).toEqual({ sinceAgoMs: 25_000, last: { agoMs: 15_000, signal: 'start', message: null }, runAgoMs: 15_000 });
    expect(agedCarry(carry, PUSH_MAX_AGE_MS).sinceAgoMs).toBe(PUSH_MAX_AGE_MS);
  });

  test.each([
    // own state (since 1 000 000), carry → the last report kept, since
    ['a carry with a newer report wins', heard([[1_000_000 + 10, 'ok']], 1_000_000), { sinceAgoMs: 200_000, last: { agoMs: 1, signal: 'fail' as const, message: null } }, 'fail', 1_000_020 - 200_000],
    ['our own newer report wins', heard([[1_000_015, 'ok']], 1_000_000), { sinceAgoMs: 200_000, last: { agoMs: 10, signal: 'fail' as const, message: null } }, 'ok', 1_000_020 - 200_000],
    ['a carry with nothing heard only moves since back', heard([], 1_000_000), { sinceAgoMs: 50_000 }, null, 1_000_020 - 50_000],
  ])('withCarry: %s', (_what, own, carry, signal, since) => {
    const s = withCarry(own, carry, t(1_000_020));
    expect([s.last?.signal ?? null, s.since.at]).toEqual([signal, since]);
  });
});

describe('the carry as hostile input', () => {
  const rc = { id: 'job', seq: 4, status: 'up', history: '1', slot: 0, dueInMs: 100 };
  const parse = (push: unknown) => parseRelease({ shard: 1, rank: 0, node: 'n1', instance: 'i', gen: 1, epoch: 2, checks: [{ ...rc, push }] }, { shard: 1, rank: 0 });
  test.each([
    [{ sinceAgoMs: 0 }, true],
    [{ sinceAgoMs: 5, last: { agoMs: 1, signal: 'ok', message: null }, runAgoMs: 3, runMs: 7 }, true],
    [{ sinceAgoMs: 5, last: { agoMs: 1, signal: 'fail', message: 'x'.repeat(200) } }, true],
    [{ sinceAgoMs: 5, last: { agoMs: 1, signal: 'fail', message: 'x'.repeat(201) } }, false],
    [{ sinceAgoMs: -1 }, false],
    [{ sinceAgoMs: 1.5 }, false],
    [{ sinceAgoMs: PUSH_MAX_AGE_MS + 1 }, false],
    [{ sinceAgoMs: 5, last: { agoMs: 1, signal: 'maybe', message: null } }, false],
    [{ sinceAgoMs: 5, last: null }, false],
    [{ sinceAgoMs: 5, runAgoMs: '3' }, false],
    [{}, false],
    ['ok', false],
    [null, false],
  ])('%j → accepted %s', (push, ok) => {
    expect(typeof parse(push) !== 'string').toBe(ok);
    expect(parsePushCarry(push) !== null).toBe(ok);
  });

  test('a release check without push is still a release', () => {
    expect(parseRelease({ shard: 1, rank: 0, node: 'n1', instance: 'i', gen: 1, epoch: 2, checks: [rc] }, { shard: 1, rank: 0 })).toMatchObject({ checks: [{ id: 'job' }] });
  });
});

describe('a daily cron job: the period is intervalMs, the cadence push.checkEveryMs (protocol/state-interval.ts)', () => {
  const DAY = 86_400_000;
  const HOUR = 3_600_000;
  const spec = normalizeSpec('nightly', { kind: 'push', intervalMs: DAY, push: { graceMs: HOUR } });
  const every = probeInterval(spec, null);
  const deadline = { intervalMs: spec.intervalMs, graceMs: spec.push.graceMs };

  test('the default cadence is a minute, in every verdict state, and the spec keeps its 24 h period', () => {
    expect([every, spec.intervalMs, spec.push.graceMs]).toEqual([60_000, DAY, HOUR]);
    expect([probeInterval(spec, { status: 'down', history: '0' }), probeInterval(spec, { status: 'up', history: '0' }), shortestInterval(spec), longestInterval(spec)]).toEqual([every, every, every, every]);
  });

  /** Evaluations every `every` from `from` to `to` (inclusive): [at, outcome] of each. */
  const evaluations = (s: (at: number) => PushState, from: number, to: number) => {
    const out: [number, ReturnType<typeof evaluatePush>][] = [];
    for (let at = from; at <= to; at += every) out.push([at, evaluatePush(s(at), deadline, t(at))]);
    return out;
  };
  /** The state at `at` of an owner that began at 0 and heard `reports` (those at or before `at`). */
  const upTo = (reports: [number, 'ok' | 'fail' | 'start', string?][]) => (at: number) => heard(reports.filter(([r]) => r <= at));

  test.each([
    // reports (ms), the first evaluation not up → its reason, and how late it is after the event that caused it
    ['an ok every 24 h, each up to the grace late: up at every evaluation for 4 days', [[0, 'ok'], [DAY + HOUR, 'ok'], [2 * DAY + HOUR, 'ok'], [3 * DAY + 2 * HOUR, 'ok']], null, null],
    ['the second ok never comes: missed at the first evaluation after 24 h + grace', [[0, 'ok']], 'missed', DAY + HOUR],
    ['a fail 7 h in: reported_fail at the next evaluation', [[0, 'ok'], [7 * HOUR + 1, 'fail', 'backup failed']], 'reported_fail', 7 * HOUR + 1],
  ] as const)('%s', (_name, reports, reason, causeAt) => {
    const seen = evaluations(upTo(reports as unknown as [number, 'ok' | 'fail' | 'start', string?][]), every, 4 * DAY);
    const first = seen.find(([, o]) => !o.ok);
    if (reason === null) {
      expect(first).toBeUndefined();
      return;
    }
    const [at, o] = first!;
    expect(o.reason).toBe(reason);
    // Flagged after the event, within one cadence of it — never a period later.
    expect(at).toBeGreaterThan(causeAt!);
    expect(at - causeAt!).toBeLessThanOrEqual(every);
    if (reason === 'missed') expect(o.push?.lastReportAgoMs).toBeGreaterThan(DAY + HOUR);
  });

  test('a new owner without a release: inconclusive at every evaluation for 24 h + grace, then missed', () => {
    const seen = evaluations(() => freshPush(t(0)), every, DAY + HOUR + 2 * every);
    const reasons = new Set(seen.filter(([at]) => at <= DAY + HOUR).map(([, o]) => o.reason));
    expect([...reasons]).toEqual(['inconclusive']);
    expect(seen.filter(([at]) => at > DAY + HOUR).map(([, o]) => o.reason)).toEqual(['missed', 'missed']);
  });

  test('a release carries ages beyond a day: a 30-hour-old ok stays 30 hours old (not clamped), so the new owner flags it', () => {
    const carry = carryOf(heard([[0, 'ok']]), t(30 * HOUR));
    expect(carry.last?.agoMs).toBe(30 * HOUR);
    expect(parsePushCarry(carry)).toEqual(carry);
    expect(evaluatePush(fromCarry(carry, t(5_000_000)), deadline, t(5_000_000)).reason).toBe('missed');
  });
});
