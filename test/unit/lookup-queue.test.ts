import { LookupQueue } from '../../runtime/result-history';
import type { ResumeState } from '../../protocol/records';

const state = (seq: number): ResumeState => ({ seq, status: 'up', history: '1', slot: 0 });

test('runs at most n lookups at once, every one, in arrival order', async () => {
  let running = 0;
  let peak = 0;
  const started: string[] = [];
  const q = new LookupQueue(3, async (id) => {
    running++;
    peak = Math.max(peak, running);
    started.push(id);
    await new Promise((r) => setImmediate(r));
    running--;
    return state(Number(id));
  });
  const got = await Promise.all(
    Array.from({ length: 5000 }, (_, i) => new Promise<number>((resolve) => q.push(String(i), 0, false, (_id, _err, s) => resolve(s!.seq)))),
  );
  expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  expect(peak).toBe(3);
  expect(started).toEqual(Array.from({ length: 5000 }, (_, i) => String(i)));
  expect(q.pending).toBe(0);
});

test('a failing lookup reports its error and frees its place', async () => {
  const q = new LookupQueue(1, async (id) => {
    if (id === 'bad') throw new Error('stream unavailable');
    return state(1);
  });
  const bad = await new Promise<unknown>((resolve) => q.push('bad', 0, false, (_id, err) => resolve(err)));
  expect((bad as Error).message).toBe('stream unavailable');
  const good = await new Promise<ResumeState | null>((resolve) => q.push('ok', 0, false, (_id, _e, s) => resolve(s)));
  expect(good).toEqual(state(1));
});

test('an observer hears each lookup answered (time from asked, queue wait included) and how many are outstanding', async () => {
  const gates: (() => void)[] = [];
  const answered: number[] = [];
  const outstanding: number[] = [];
  const q = new LookupQueue(
    1,
    (id) => new Promise<ResumeState>((resolve) => gates.push(() => resolve(state(Number(id))))),
    { answered: (s) => answered.push(s), outstanding: (n) => outstanding.push(n) },
  );
  const done: number[] = [];
  for (const id of ['1', '2', '3']) q.push(id, 0, false, (_id, _e, s) => done.push(s!.seq));
  expect(outstanding).toEqual([1, 2, 3]);
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  expect(done).toEqual([1, 2, 3]);
  expect(outstanding).toEqual([1, 2, 3, 2, 1, 0]);
  expect(answered).toHaveLength(3);
  // The third waited behind the other two: asked first of all, answered last.
  expect(answered.every((s) => s >= 0)).toBe(true);
  expect(answered[2]).toBeGreaterThanOrEqual(answered[0]!);
});

test('one answer function serves every lookup: it is told which check each answer is for, ranks and vantage flags kept apart', async () => {
  const asked: string[] = [];
  const q = new LookupQueue(2, async (id, rank, perVantage) => {
    asked.push(`${id}/${rank}/${perVantage}`);
    return state(rank * 10 + (perVantage ? 1 : 0));
  });
  const answers = new Map<string, number>();
  let n = 0;
  await new Promise<void>((resolve) => {
    const answer = (id: string, err: unknown, s: ResumeState | null) => {
      expect(err).toBeNull();
      answers.set(id, s!.seq);
      if (++n === 4) resolve();
    };
    q.push('a', 0, false, answer);
    q.push('b', 3, true, answer);
    q.push('c', 1, false, answer);
    q.push('d', 7, true, answer);
  });
  expect(asked).toEqual(['a/0/false', 'b/3/true', 'c/1/false', 'd/7/true']);
  expect([...answers]).toEqual(expect.arrayContaining([['a', 0], ['b', 31], ['c', 10], ['d', 71]]));
});

test('each lookup runs with its number in the order asked; asked and outstanding count them', async () => {
  const gates: (() => void)[] = [];
  const numbers: [string, number][] = [];
  const q = new LookupQueue(2, (id, _rank, _pv, n) => {
    numbers.push([id, n]);
    return new Promise<ResumeState>((resolve) => gates.push(() => resolve(state(n))));
  });
  for (const id of ['a', 'b', 'c', 'd']) q.push(id, 0, false, () => {});
  expect([q.asked, q.outstanding, q.pending]).toEqual([4, 4, 2]);
  while (gates.length > 0) {
    gates.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  expect(numbers).toEqual([['a', 0], ['b', 1], ['c', 2], ['d', 3]]);
  expect([q.asked, q.outstanding]).toEqual([4, 0]);
  q.push('e', 0, false, () => {});
  expect(numbers.at(-1)).toEqual(['e', 4]);
});

describe('forget: an asker that stopped scheduling drops its waiting lookups', () => {
  /** A queue whose lookups wait for `open` (the ids run recorded), and its outstanding counts. */
  function gated(n: number) {
    const gates: (() => void)[] = [];
    const ran: string[] = [];
    const outstanding: number[] = [];
    const q = new LookupQueue(
      n,
      (id) => {
        ran.push(id);
        return new Promise<ResumeState>((resolve) => gates.push(() => resolve(state(1))));
      },
      { answered: () => {}, outstanding: (k) => outstanding.push(k) },
    );
    const drain = async () => {
      while (gates.length > 0) {
        gates.shift()!();
        await new Promise((r) => setImmediate(r));
      }
    };
    return { q, ran, outstanding, drain };
  }

  test("its waiting lookups never run; the one out is answered; another asker's run in order", async () => {
    const { q, ran, outstanding, drain } = gated(1);
    const told: string[] = [];
    const gone = (id: string) => void told.push(`gone ${id}`);
    const kept = (id: string) => void told.push(`kept ${id}`);
    q.push('g1', 0, false, gone); // out at once
    q.push('k1', 0, false, kept);
    q.push('g2', 0, false, gone);
    q.push('g3', 0, false, gone);
    q.push('k2', 0, false, kept);
    expect([q.pending, q.outstanding]).toEqual([4, 5]);
    q.forget(gone);
    expect([q.pending, q.outstanding, outstanding.at(-1)]).toEqual([2, 3, 3]);
    await drain();
    expect(ran).toEqual(['g1', 'k1', 'k2']);
    expect(told).toEqual(['gone g1', 'kept k1', 'kept k2']);
    expect([q.pending, q.outstanding]).toEqual([0, 0]);
  });

  test('thousands forgotten are let go at once (compacted), the rest keep their order; forgetting twice or an unknown asker is nothing', async () => {
    const { q, ran, drain } = gated(2);
    const a = () => {};
    const b = () => {};
    for (let i = 0; i < 3000; i++) q.push(`a${i}`, 0, false, a);
    for (let i = 0; i < 5; i++) q.push(`b${i}`, 0, false, b);
    q.forget(a);
    q.forget(a);
    q.forget(() => {});
    expect(q.pending).toBe(5);
    expect((q as unknown as { ids: unknown[] }).ids.length).toBe(5); // the dropped ones are gone from the arrays
    await drain();
    expect(ran).toEqual(['a0', 'a1', 'b0', 'b1', 'b2', 'b3', 'b4']);
    expect(q.outstanding).toBe(0);
  });

  test('an asker that asks again after forget gets its new lookups run (only the earlier ones were dropped)', async () => {
    const { q, ran, drain } = gated(1);
    const a = () => {};
    q.push('x', 0, false, () => {});
    q.push('a0', 0, false, a);
    q.push('a1', 0, false, a);
    q.forget(a);
    q.push('a2', 0, false, a);
    expect(q.pending).toBe(1);
    await drain();
    expect(ran).toEqual(['x', 'a2']);
  });
});
