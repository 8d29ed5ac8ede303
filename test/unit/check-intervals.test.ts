// State-dependent intervals in the check table (protocol/check-table.ts with
// protocol/state-interval.ts and check-schedule.ts retimedSlot): a failure while up moves the next
// slot onto the transitioning grid, settling down onto the down grid, recovery back to intervalMs;
// a probe still in flight when a fast slot comes skips it, never overlaps; a release or a resumed
// state carries the interval with (status, history) alone. Driven as the runner drives it: each
// `schedule` directive is the next due time, each probe finishes 40 ms after it starts.
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import { CatchUpPacer } from '../../protocol/catch-up-pacer';
import { CheckTable, type Directive } from '../../protocol/check-table';
import { nextSlot } from '../../protocol/slots';
import type { ResultMessage } from '../../protocol/records';
import { failWith, pass } from '../helpers/fake-ports';

const I = 10_000;
const T = 2_000;
const D = 20_000;
const id = 'api';
/** A slot of `id` on the 10 s grid, which is on the 2 s and 20 s grids too (phaseOf nests: the test checks it). */
const s = nextSlot(id, I, 1_700_000_000_000);

const spec = (extra: Partial<CheckSpec> = {}) =>
  normalizeSpec(id, {
    kind: 'http',
    target: 'http://127.0.0.1:1/',
    intervalMs: I,
    intervalWhileTransitioningMs: T,
    intervalWhileDownMs: D,
    timeoutMs: 1000,
    confirm: false,
    policy: { type: 'consecutive', rise: 2, fall: 2, initial: 'up' },
    ...extra,
  });

const table = () => new CheckTable({ nodeId: 'n1', rank: 0, jitterMs: 0, random: () => 0, catchUps: new CatchUpPacer(1000) });

const scheduled = (ds: Directive[]) => ds.filter((d): d is Extract<Directive, { type: 'schedule' }> => d.type === 'schedule').at(-1)?.at;
const probeOf = (ds: Directive[]) => ds.find((d): d is Extract<Directive, { type: 'probe' }> => d.type === 'probe');
const resultOf = (ds: Directive[]) => ds.find((d): d is Extract<Directive, { type: 'result' }> => d.type === 'result')?.msg;

/** Run `outcomes` ('1' pass, '0' fail) from `next`, one probe per due time: each result as [slot − s, intervalMs, status]. */
function drive(t: CheckTable, next: number, outcomes: string): { rows: [number, number, string][]; next: number; results: ResultMessage[] } {
  const rows: [number, number, string][] = [];
  const results: ResultMessage[] = [];
  for (const o of outcomes) {
    const at = next;
    const due = t.due(id, at);
    const probe = probeOf(due);
    if (!probe) throw new Error(`no probe at s + ${at - s}: ${JSON.stringify(due)}`);
    next = scheduled(due)!;
    const done = t.probeDone(id, probe.token, o === '1' ? pass() : failWith('status'), at + 40);
    const r = resultOf(done)!;
    expect(r.intervalMs).toBe(probe.intervalMs);
    rows.push([r.slot - s, r.intervalMs, r.status]);
    results.push(r);
    next = scheduled(done) ?? next;
  }
  return { rows, next, results };
}

/** A table running `spec` from slot s, its state resumed as `state` (null: the policy's initial one). */
function started(sp = spec(), state: { status: 'up' | 'down'; history: string } | null = null) {
  const t = table();
  const first = scheduled(t.set(sp, s - 3000))!;
  const resumed = t.resumed(id, state && { seq: 10, slot: s - I, ...state }, s - 3000);
  return { t, next: scheduled(resumed) ?? first };
}

describe('the slot grid follows the verdict state', () => {
  test('the grids nest: slot s is on the 2 s and 20 s grids too', () => {
    expect([nextSlot(id, T, s - 1), nextSlot(id, D, s - 1)]).toEqual([s, s]);
  });

  test('up → a failure: the fast grid; → down: the down grid; → a pass: the fast grid; → up: intervalMs again', () => {
    const { t, next } = started();
    expect(next).toBe(s);
    expect(drive(t, next, '1000111').rows).toEqual([
      [0, I, 'up'],
      [I, I, 'up'], // fails: going down
      [I + T, T, 'down'], // one fast interval later; fails again: down (fall 2)
      [D, D, 'down'], // the down grid's first slot at least one fast interval on
      [2 * D, D, 'down'], // passes: going up
      [2 * D + T, T, 'up'], // passes again: up (rise 2)
      [5 * I, I, 'up'], // back on the 10 s grid, at least one fast interval on
    ]);
  });

  test('one failure between passes: one fast probe, then back on the 10 s grid', () => {
    const { t, next } = started();
    expect(drive(t, next, '1011').rows).toEqual([
      [0, I, 'up'],
      [I, I, 'up'],
      [I + T, T, 'up'],
      [2 * I, I, 'up'],
    ]);
  });

  test('a spec without the options keeps its 10 s spacing whatever the outcomes', () => {
    const plain = spec({ intervalWhileTransitioningMs: undefined, intervalWhileDownMs: undefined });
    const { t, next } = started(plain);
    expect(drive(t, next, '1000111').rows.map(([slot, interval]) => [slot, interval])).toEqual([0, 1, 2, 3, 4, 5, 6].map((k) => [k * I, I]));
  });

  test('only intervalWhileDownMs: a changing verdict keeps intervalMs, down runs at the down interval', () => {
    const { t, next } = started(spec({ intervalWhileTransitioningMs: undefined }));
    expect(drive(t, next, '10001').rows).toEqual([
      [0, I, 'up'],
      [I, I, 'up'],
      [2 * I, I, 'down'],
      [2 * D, D, 'down'], // the down grid's first slot at least 10 s on
      [3 * D, D, 'down'],
    ]);
  });
});

describe('a push check: slots every push.checkEveryMs, whatever its period and verdict', () => {
  test('a daily period evaluated every 10 s: every slot and every result\'s intervalMs is 10 s, up or down', () => {
    const push = normalizeSpec(id, { kind: 'push', intervalMs: 86_400_000, push: { graceMs: 0, checkEveryMs: I } });
    const { t, next } = started(push);
    expect(next).toBe(s);
    const { rows, results } = drive(t, next, '1000111');
    expect(rows.map(([slot, interval]) => [slot, interval])).toEqual([0, 1, 2, 3, 4, 5, 6].map((k) => [k * I, I]));
    expect(rows.map(([, , status]) => status)).toEqual(['up', 'down', 'down', 'down', 'up', 'up', 'up']);
    expect(results.map((r) => r.seq)).toEqual(results.map((_, k) => results[0]!.seq + k));
  });
});

describe('no overlap, no burst', () => {
  test('a fast slot that comes while the probe runs is skipped (counted on the next result), never run beside it', () => {
    const { t } = started();
    drive(t, s, '10'); // up, then a failure: next slot s + I + T on the fast grid
    const due = t.due(id, s + I + T);
    const probe = probeOf(due)!;
    expect(scheduled(due)).toBe(s + I + 2 * T);
    // The probe is still running at the next fast slot: skipped, no second probe.
    const again = t.due(id, s + I + 2 * T);
    expect([probeOf(again), again.filter((d) => d.type === 'skipped')]).toEqual([undefined, [{ type: 'skipped', id, slot: s + I + 2 * T, count: 1 }]]);
    const done = t.probeDone(id, probe.token, failWith('status'), s + I + 2 * T + 300);
    expect(resultOf(done)).toMatchObject({ slot: s + I + T, intervalMs: T, status: 'down', skipped: 0 });
    // Down now: the down grid, one fast interval past the probe's own slot and not before now.
    expect(scheduled(done)).toBe(s + D);
    const next = t.due(id, s + D);
    expect(probeOf(next)?.intervalMs).toBe(D);
  });

  test('consecutive slots are never closer than the fast interval, across every change', () => {
    const { t, next } = started();
    const { results } = drive(t, next, '1001101001110000111101');
    for (let i = 1; i < results.length; i++) expect(results[i]!.slot - results[i - 1]!.slot).toBeGreaterThanOrEqual(T);
    expect(results.map((r) => r.seq)).toEqual(results.map((_, i) => 1 + i));
  });
});

describe('handed over with the check: (status, history) is enough', () => {
  const holder = (outcomes: string) => {
    const { t, next } = started();
    return { t, ...drive(t, next, outcomes) };
  };

  test.each([
    // name, holder's outcomes → the new owner's next slot, its interval
    ['a release while going down: the new owner continues on the fast grid', '10', s + I + T, T],
    ['a release while down: the down grid', '100', s + D, D],
    ['a release while going up: the fast grid', '1001', s + D + T, T],
    ['a release while up: intervalMs', '1', s + I, I],
  ] as const)('%s', (_name, outcomes, slot, interval) => {
    const h = holder(outcomes);
    const now = h.next - 500;
    const [rc] = h.t.release(now);
    expect(rc).toMatchObject({ slot, dueInMs: 500 });
    const owner = table();
    const placed = owner.setReleased(spec(), rc!, now + 60, { holderOffsetMs: 0 });
    expect(scheduled(placed)).toBe(slot);
    const due = owner.due(id, slot);
    expect(probeOf(due)?.intervalMs).toBe(interval);
  });

  test('a round the holder skipped (its probe still running) travels in the release: the new owner\'s first result announces it', () => {
    const { t, next } = started(spec(), { status: 'up', history: '11' });
    const probe = probeOf(t.due(id, next))!;
    const skip = t.due(id, next + I); // the probe still runs at the next slot: skipped here
    expect(skip.some((d) => d.type === 'skipped')).toBe(true);
    const done = t.probeDone(id, probe.token, pass(), next + I + 300);
    expect(resultOf(done)).toMatchObject({ slot: next, skipped: 0 }); // the round after it is not its to announce
    const now = next + I + 400;
    const [rc] = t.release(now);
    expect(rc).toMatchObject({ slot: next + 2 * I, skipped: 1 });
    const owner = table();
    owner.setReleased(spec(), rc!, now + 60, { holderOffsetMs: 0 });
    const p2 = probeOf(owner.due(id, next + 2 * I))!;
    expect(resultOf(owner.probeDone(id, p2.token, pass(), next + 2 * I + 40))).toMatchObject({ slot: next + 2 * I, skipped: 1, seq: rc!.seq + 1 });
  });

  test('a release with nothing skipped carries no skipped field', () => {
    const { t, next } = started(spec(), { status: 'up', history: '11' });
    const probe = probeOf(t.due(id, next))!;
    t.probeDone(id, probe.token, pass(), next + 40);
    expect(t.release(next + 100)[0]).not.toHaveProperty('skipped');
  });

  test('a new check starting down (nothing published yet) probes first on the intervalMs grid; its first failure moves it to the down grid', () => {
    const { t, next } = started(spec({ policy: { type: 'consecutive', rise: 2, fall: 2, initial: 'down' } }));
    expect(next).toBe(s);
    expect(drive(t, next, '00').rows).toEqual([
      [0, I, 'down'],
      [D, D, 'down'],
    ]);
  });

  test.each([
    // name, the last published state → the first slot after the lookup
    ['resumed while going down: the fast grid from now', { status: 'up', history: '110' }, s - 2000, T],
    ['resumed while down: the down grid', { status: 'down', history: '00' }, s, D],
    ['resumed while up: the pending 10 s slot stays', { status: 'up', history: '11' }, s, I],
  ] as const)('%s', (_name, state, slot, interval) => {
    const { t, next } = started(spec(), state);
    expect(next).toBe(slot);
    expect(probeOf(t.due(id, next))?.intervalMs).toBe(interval);
  });
});
