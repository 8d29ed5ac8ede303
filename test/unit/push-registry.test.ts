// The push registry (runtime/push-registry.ts) under a ManualClock: which reports it keeps (only
// owned checks), how it bounds their work (size before anything, a token bucket per check before
// the parse), the token compared, reports read as hostile input (checks/push-report.ts), and an
// owner's generation guarding its checks.
import { normalizeSpec } from '../../checks/spec';
import { parsePushReport, sanitizeMessage } from '../../checks/push-report';
import { ManualClock } from '../../runtime/clock';
import { PushRegistry, tokenMatches, type PushReportOutcome } from '../../runtime/push-registry';

const spec = (id: string, push: { graceMs?: number; token?: string } = {}) => normalizeSpec(id, { kind: 'push', intervalMs: 10_000, push });
const bytes = (s: string) => new TextEncoder().encode(s);

function setup(perSecond = 5) {
  const clock = new ManualClock();
  const outcomes: PushReportOutcome[] = [];
  const owned: number[] = [];
  const reg = new PushRegistry({ clock, maxBytes: 256, perSecond, onReport: (o) => outcomes.push(o), onOwned: (n) => owned.push(n) });
  return { clock, reg, outcomes, owned };
}

describe('PushRegistry', () => {
  test('only owned checks are kept; other ids cost a lookup and are counted not_owned', () => {
    const { reg, owned } = setup();
    expect(reg.receive('job', bytes(''))).toBe('not_owned');
    reg.own(spec('job'), 1);
    expect(reg.receive('job', bytes(''))).toBe('accepted');
    expect(reg.receive('other', bytes(''))).toBe('not_owned');
    expect(reg.size).toBe(1);
    reg.disown('job', 2); // another runner's generation: not its check
    expect(reg.size).toBe(1);
    reg.disown('job', 1);
    expect([reg.size, owned]).toEqual([0, [1, 0]]);
  });

  test.each([
    ['', 'accepted'],
    ['  \n', 'accepted'],
    ['{}', 'accepted'],
    ['{"signal":"fail","message":"boom"}', 'accepted'],
    ['{"signal":"start"}', 'accepted'],
    ['{"signal":"maybe"}', 'invalid'],
    ['{"signal":"ok","extra":1}', 'invalid'],
    ['{"message":42}', 'invalid'],
    ['[1]', 'invalid'],
    ['not json', 'invalid'],
    ['x'.repeat(257), 'too_large'],
  ])('report %j → %s', (payload, want) => {
    const { reg } = setup();
    reg.own(spec('job'), 1);
    expect(reg.receive('job', bytes(payload))).toBe(want);
  });

  test('too_large is judged before ownership (no work at all for oversized reports)', () => {
    const { reg } = setup();
    expect(reg.receive('nobody', bytes('x'.repeat(300)))).toBe('too_large');
  });

  test('a flood on one id: at most a burst of 2 × perSecond, then perSecond a second; dropped reports counted', () => {
    const { reg, clock, outcomes } = setup(5);
    reg.own(spec('job'), 1);
    for (let i = 0; i < 100; i++) reg.receive('job', bytes(''));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'rate_limited')).toHaveLength(90);
    clock.advance(1_000);
    outcomes.length = 0;
    for (let i = 0; i < 100; i++) reg.receive('job', bytes(''));
    expect(outcomes.filter((o) => o === 'accepted')).toHaveLength(5);
  });

  test('a rate-limited report is not parsed: a flood of invalid reports past the burst counts rate_limited', () => {
    const { reg, outcomes } = setup(1);
    reg.own(spec('job'), 1);
    for (let i = 0; i < 5; i++) reg.receive('job', bytes('not json'));
    expect(outcomes).toEqual(['invalid', 'invalid', 'rate_limited', 'rate_limited', 'rate_limited']);
  });

  test('a spec with a token: reports without it or with another are ignored (bad_token); the deadline is not moved', () => {
    const { reg, clock } = setup();
    const s = spec('job', { graceMs: 0, token: 'abcdefghijklmnop' });
    reg.own(s, 1);
    clock.advance(9_000);
    expect(reg.receive('job', bytes(''))).toBe('bad_token');
    expect(reg.receive('job', bytes('{"token":"abcdefghijklmnoq"}'))).toBe('bad_token');
    clock.advance(2_000);
    expect(reg.evaluate(s).reason).toBe('missed');
    expect(reg.receive('job', bytes('{"token":"abcdefghijklmnop"}'))).toBe('accepted');
    expect(reg.evaluate(s)).toMatchObject({ ok: true, push: { lastReportAgoMs: 0, signal: 'ok' } });
  });

  test('evaluate: the deadline from ownership, reports on the monotonic clock', () => {
    const { reg, clock } = setup();
    const s = spec('job'); // grace defaults to the interval: deadline 20 s
    reg.own(s, 1);
    clock.advance(20_000);
    expect(reg.evaluate(s).reason).toBe('inconclusive'); // nothing heard yet, the deadline not passed
    clock.advance(1);
    expect(reg.evaluate(s).reason).toBe('missed');
    reg.receive('job', bytes(''));
    expect(reg.evaluate(s).ok).toBe(true);
    clock.advance(20_000);
    expect(reg.evaluate(s).ok).toBe(true);
    clock.advance(1);
    expect(reg.evaluate(s).reason).toBe('missed');
    reg.receive('job', bytes('{"signal":"fail","message":"disk\\u0000full"}'));
    expect(reg.evaluate(s)).toMatchObject({ ok: false, reason: 'reported_fail', message: 'disk full' });
    expect(reg.evaluate(spec('unknown'))).toMatchObject({ ok: false, reason: 'error' });
  });

  test('carry / own with a carry: the deadline continues on the new owner', () => {
    const a = setup();
    const b = setup();
    const s = spec('job');
    a.reg.own(s, 1);
    a.clock.advance(5_000);
    a.reg.receive('job', bytes(''));
    a.clock.advance(15_000);
    const carry = a.reg.carry('job')!;
    expect(carry).toMatchObject({ sinceAgoMs: 20_000, last: { agoMs: 15_000, signal: 'ok' } });
    b.clock.advance(777_777);
    b.reg.own(s, 9, carry);
    b.clock.advance(5_000);
    expect(b.reg.evaluate(s)).toMatchObject({ ok: true, push: { lastReportAgoMs: 20_000 } });
    b.clock.advance(1);
    expect(b.reg.evaluate(s).reason).toBe('missed');
    expect(a.reg.carry('nope')).toBeUndefined();
  });
});

describe('reports and tokens', () => {
  test('a message is sanitized and cut', () => {
    expect(sanitizeMessage('a\u0000b\nc\u009f')).toBe('a b c');
    expect(sanitizeMessage('x'.repeat(500))).toHaveLength(200);
    expect(sanitizeMessage('\ud800x')).toBe('\ufffdx');
    expect(sanitizeMessage('   ')).toBeNull();
  });

  test('invalid UTF-8 is refused', () => {
    expect(parsePushReport(new Uint8Array([0xff, 0xfe]), 100)).toEqual({ refused: 'invalid', why: 'not UTF-8' });
  });

  test.each([
    [undefined, null, true],
    [undefined, 'anything', true],
    ['abcdefghijklmnop', null, false],
    ['abcdefghijklmnop', 'abcdefghijklmnop', true],
    ['abcdefghijklmnop', 'abcdefghijklmno', false],
    ['abcdefghijklmnop', 'abcdefghijklmnopq', false],
  ])('token wanted %j, given %j → %s', (wanted, given, ok) => {
    expect(tokenMatches(wanted, given)).toBe(ok);
  });
});
