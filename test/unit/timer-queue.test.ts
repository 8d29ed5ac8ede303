import { ManualClock } from '../../runtime/clock';
import { TimerQueue } from '../../runtime/timer-queue';

function recorder(clock: ManualClock) {
  const fired: { key: string; at: number; now: number }[] = [];
  return { fired, owner: { onDue: (key: string, at: number, now: number) => fired.push({ key, at, now }) }, clock };
}

describe('TimerQueue', () => {
  test('fires in due order, never early, with one armed timer for many entries', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const r = recorder(clock);
    for (let i = 0; i < 1000; i++) q.set(`k${i}`, 1000 + ((i * 7919) % 1000), r.owner);
    expect(clock.pending).toBe(1);
    clock.advance(2000);
    expect(r.fired).toHaveLength(1000);
    for (let i = 1; i < r.fired.length; i++) expect(r.fired[i]!.at).toBeGreaterThanOrEqual(r.fired[i - 1]!.at);
    for (const f of r.fired) expect(f.now).toBeGreaterThanOrEqual(f.at);
    expect(q.size).toBe(0);
  });

  test('set moves an entry; delete removes it; the timer follows the head', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const r = recorder(clock);
    q.set('a', 100, r.owner);
    q.set('b', 200, r.owner);
    q.set('a', 300, r.owner);
    q.delete('b', r.owner);
    clock.advance(250);
    expect(r.fired).toEqual([]);
    clock.advance(50);
    expect(r.fired.map((f) => f.key)).toEqual(['a']);
    expect(q.delete('nope', r.owner)).toBe(false);
  });

  test('an owner that re-arms itself while firing fires again at its next time', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const times: number[] = [];
    const owner = {
      onDue: (key: string, at: number) => {
        times.push(at);
        q.set(key, at + 100, owner);
      },
    };
    q.set('x', 100, owner);
    clock.advance(1000);
    expect(times).toEqual([100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  test('while its entry is handed out, an owner sees it gone, may set it again (moved back, one entry), delete it, or leave it gone', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const seen: { key: string; dueAt: number | undefined; deleted?: boolean }[] = [];
    const owner = {
      onDue: (key: string, at: number) => {
        seen.push({ key, dueAt: q.dueAt(key, owner) });
        if (key === 'again') q.set(key, at + 100, owner);
        if (key === 'set-then-delete') {
          q.set(key, at + 100, owner);
          seen.push({ key, dueAt: q.dueAt(key, owner), deleted: q.delete(key, owner) });
        }
        if (key === 'delete') seen.push({ key, dueAt: undefined, deleted: q.delete(key, owner) });
      },
    };
    for (const k of ['again', 'set-then-delete', 'delete', 'gone']) q.set(k, 100, owner);
    clock.advance(100);
    expect(seen).toEqual([
      { key: 'again', dueAt: undefined },
      { key: 'delete', dueAt: undefined },
      { key: 'delete', dueAt: undefined, deleted: false },
      { key: 'gone', dueAt: undefined },
      { key: 'set-then-delete', dueAt: undefined },
      { key: 'set-then-delete', dueAt: 200, deleted: true },
    ]);
    expect(q.size).toBe(1);
    expect(q.dueAt('again', owner)).toBe(200);
    for (const k of ['set-then-delete', 'delete', 'gone']) expect(q.dueAt(k, owner)).toBeUndefined();
    // Gone entries come back as new ones; the re-set one keeps firing.
    q.set('gone', 150, owner);
    clock.advance(100);
    expect(seen.slice(6).map((x) => x.key)).toEqual(['gone', 'again']);
    expect(q.size).toBe(1);
    expect(q.delete('again', owner)).toBe(true);
    expect(q.size).toBe(0);
  });

  test('entries are per owner: the same id of two owners is two entries, and neither moves or deletes the other', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const a = recorder(clock);
    const b = recorder(clock);
    q.set('x', 100, a.owner);
    q.set('x', 200, b.owner);
    expect([q.size, q.dueAt('x', a.owner), q.dueAt('x', b.owner)]).toEqual([2, 100, 200]);
    q.set('x', 300, a.owner);
    expect([q.size, q.dueAt('x', a.owner), q.dueAt('x', b.owner)]).toEqual([2, 300, 200]);
    expect(q.delete('x', b.owner)).toBe(true);
    expect(q.delete('x', b.owner)).toBe(false);
    expect([q.size, q.dueAt('x', a.owner), q.dueAt('x', b.owner)]).toEqual([1, 300, undefined]);
    clock.advance(300);
    expect([a.fired.map((f) => [f.key, f.at]), b.fired]).toEqual([[['x', 300]], []]);
    expect(q.size).toBe(0);
  });

  test('a burst larger than the batch is handed out over several turns', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock, 10);
    const r = recorder(clock);
    for (let i = 0; i < 35; i++) q.set(`k${i}`, 50, r.owner);
    clock.advance(50);
    expect(r.fired).toHaveLength(35);
  });

  test('a host timer that wakes early does not fire entries early', () => {
    // A clock whose timers run 1 ms early, as Node's may.
    const inner = new ManualClock(0);
    const early = { ...inner, now: () => inner.now(), monotonic: () => inner.monotonic(), setTimeout: (fn: () => void, ms: number) => inner.setTimeout(fn, ms > 1 ? ms - 1 : ms), clearTimeout: (h: unknown) => inner.clearTimeout(h) };
    const q = new TimerQueue(early);
    const r = recorder(inner);
    q.set('a', 100, r.owner);
    inner.advance(99);
    expect(r.fired).toEqual([]);
    inner.advance(1);
    expect(r.fired).toEqual([{ key: 'a', at: 100, now: 100 }]);
  });

  test('a due time with a fraction of a ms is kept in whole ms rounded up: never early, less than 1 ms late', () => {
    // A wall clock since 1970 with a fraction, as the runner's clock reads it.
    const clock = new ManualClock(1_764_000_000_123.6);
    const q = new TimerQueue(clock);
    const r = recorder(clock);
    q.set('a', 1_764_000_000_224.1, r.owner);
    q.set('b', 1_764_000_000_223.5, r.owner);
    expect([q.dueAt('a', r.owner), q.dueAt('b', r.owner)]).toEqual([1_764_000_000_225, 1_764_000_000_224]);
    clock.advance(100.7); // ~…224.3: past a's own time (…224.1), before its whole ms
    expect(r.fired.map((f) => [f.key, f.at])).toEqual([['b', 1_764_000_000_224]]);
    clock.advance(0.6); // ~…224.9
    expect(r.fired).toHaveLength(1);
    clock.advance(0.2); // ~…225.1
    expect(r.fired.map((f) => [f.key, f.at])).toEqual([['b', 1_764_000_000_224], ['a', 1_764_000_000_225]]);
    for (const f of r.fired) expect(f.now).toBeGreaterThanOrEqual(f.at);
  });

  test('stop silences the queue', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const r = recorder(clock);
    q.set('a', 10, r.owner);
    q.stop();
    clock.advance(100);
    expect(r.fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});

/** A clock whose monotonic time runs `lag` ms ahead of its timers: a timer then fires that late by the monotonic clock. */
function lagging() {
  const inner = new ManualClock(0);
  const l = { inner, lag: 0, clock: { now: () => inner.now(), monotonic: () => inner.monotonic() + l.lag, setTimeout: (fn: () => void, ms: number) => inner.setTimeout(fn, ms), clearTimeout: (h: unknown) => inner.clearTimeout(h) } };
  return l;
}

describe('TimerQueue hold / resume', () => {
  test('held: nothing fires, entries can still be set and deleted; on resume what is due fires at once', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const r = recorder(clock);
    q.set('a', 100, r.owner);
    q.set('b', 200, r.owner);
    q.hold();
    expect(q.isHeld).toBe(true);
    expect(clock.pending).toBe(0);
    clock.advance(500);
    expect(r.fired).toEqual([]);
    q.set('c', 300, r.owner);
    q.delete('b', r.owner);
    q.set('d', 900, r.owner);
    clock.advance(100);
    expect(r.fired).toEqual([]);
    q.resume();
    expect(q.isHeld).toBe(false);
    clock.advance(0);
    expect(r.fired).toEqual([
      { key: 'a', at: 100, now: 600 },
      { key: 'c', at: 300, now: 600 },
    ]);
    clock.advance(300);
    expect(r.fired.map((f) => f.key)).toEqual(['a', 'c', 'd']);
  });

  test('hold and resume are idempotent; a hold from a due callback stops the batch', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock);
    const fired: string[] = [];
    const owner = {
      onDue: (key: string) => {
        fired.push(key);
        if (key === 'b') q.hold();
      },
    };
    for (const k of ['a', 'b', 'c']) q.set(k, 10, owner);
    q.resume(); // not held: nothing happens
    clock.advance(10);
    expect(fired).toEqual(['a', 'b']);
    q.hold();
    clock.advance(100);
    expect(fired).toEqual(['a', 'b']);
    expect(q.resumes).toBe(0);
    q.resume();
    q.resume();
    // Counted once per hold: a stretch of probes before it and one after are two.
    expect(q.resumes).toBe(1);
    clock.advance(0);
    expect(fired).toEqual(['a', 'b', 'c']);
  });

  test('a timer that fires far later than armed (monotonic) holds the queue before anything fires, and says how late', () => {
    const paused = lagging();
    const inner = paused.inner;
    const q = new TimerQueue(paused.clock);
    const r = recorder(inner);
    const late: number[] = [];
    q.watchLateness(640, (ms) => late.push(ms));
    q.set('on-time', 100, r.owner);
    inner.advance(100);
    expect(r.fired.map((f) => f.key)).toEqual(['on-time']);
    q.set('late', 200, r.owner);
    paused.lag = 5000; // the process was stopped for 5 s: its timer fires then, the monotonic clock 5 s on
    inner.advance(100);
    expect(r.fired.map((f) => f.key)).toEqual(['on-time']);
    expect(late).toEqual([5000]);
    expect(q.isHeld).toBe(true);
    q.resume();
    inner.advance(0);
    expect(r.fired.map((f) => f.key)).toEqual(['on-time', 'late']);
  });

  test('lateness below the threshold fires as usual', () => {
    const busy = lagging();
    const inner = busy.inner;
    const q = new TimerQueue(busy.clock);
    const r = recorder(inner);
    const late: number[] = [];
    q.watchLateness(640, (ms) => late.push(ms));
    q.set('a', 100, r.owner);
    busy.lag = 640;
    inner.advance(100);
    expect(r.fired.map((f) => f.key)).toEqual(['a']);
    expect(late).toEqual([]);
  });
});

describe('TimerQueue with a grain', () => {
  test('entries due within one grain fire together at its end, never early; a grain of 0 fires each at its own time', () => {
    for (const [grain, wakeups, firedAt] of [
      [4, 2, [1004, 1004, 1004, 1004, 1008]],
      [0, 5, [1001, 1002, 1003, 1004, 1005]],
    ] as const) {
      const clock = new ManualClock(1000);
      const q = new TimerQueue(clock, 1000, grain);
      const r = recorder(clock);
      for (const at of [1001, 1002, 1003, 1004, 1005]) q.set(`k${at}`, at, r.owner);
      const before = clock.pending;
      let n = 0;
      while (q.size > 0) {
        const fired = r.fired.length;
        clock.advance(1);
        if (r.fired.length > fired) n++;
      }
      expect(before).toBe(1);
      expect(n).toBe(wakeups);
      expect(r.fired.map((f) => f.now)).toEqual(firedAt);
      for (const f of r.fired) expect(f.now).toBeGreaterThanOrEqual(f.at);
    }
  });

  test('moving the head within the armed grain does not re-arm the timer', () => {
    const clock = new ManualClock(0);
    const q = new TimerQueue(clock, 1000, 10);
    const r = recorder(clock);
    const armed = jest.spyOn(clock, 'setTimeout');
    q.set('a', 105, r.owner);
    q.set('b', 102, r.owner);
    q.set('c', 108, r.owner);
    expect(armed).toHaveBeenCalledTimes(1);
    clock.advance(110);
    expect(r.fired.map((f) => [f.key, f.now])).toEqual([['b', 110], ['a', 110], ['c', 110]]);
  });
});
