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
    Array.from({ length: 5000 }, (_, i) => new Promise<number>((resolve) => q.push(String(i), 0, false, (_err, s) => resolve(s!.seq)))),
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
  const bad = await new Promise<unknown>((resolve) => q.push('bad', 0, false, (err) => resolve(err)));
  expect((bad as Error).message).toBe('stream unavailable');
  const good = await new Promise<ResumeState | null>((resolve) => q.push('ok', 0, false, (_e, s) => resolve(s)));
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
  for (const id of ['1', '2', '3']) q.push(id, 0, false, (_e, s) => done.push(s!.seq));
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
