// One spec tail per node: shards followed from sequences share one consumer over the whole bucket;
// a shard that needs sequences the consumer has passed restarts it from there, and no follower
// sees a change twice or misses one; a failed consumer starts again from the lowest still needed.
import { NodeSpecTail, TAIL_RETRY_MIN_MS } from '../../runtime/node-spec-tail';
import type { SpecWatch } from '../../runtime/spec-watch';
import { flush, silentLog } from '../helpers/actor-host';
import { FakeSpecBucket } from '../helpers/fake-spec-store';

const keyOf = (key: string) => {
  const dot = key.indexOf('.');
  return dot > 0 ? { shard: Number(key.slice(0, dot)), id: key.slice(dot + 1) } : null;
};
const spec = { kind: 'tcp', target: '127.0.0.1:9', intervalMs: 5000, timeoutMs: 1000 } as never;

function setup() {
  const bucket = new FakeSpecBucket();
  const opened: number[] = [];
  let breakAll: ((e: Error) => void) | null = null;
  const tail = new NodeSpecTail(
    async (from) => {
      opened.push(from);
      const w = await bucket.tail(from);
      // A consumer that can be made to fail (a deleted consumer, a timeout).
      const broken = new Promise<never>((_, reject) => (breakAll = reject));
      const it = w.changes[Symbol.asyncIterator]();
      return { changes: { [Symbol.asyncIterator]: () => ({ next: () => Promise.race([it.next(), broken]) }) }, stop: w.stop };
    },
    keyOf,
    silentLog,
  );
  return { bucket, opened, tail, fail: () => breakAll?.(new Error('consumer deleted')) };
}

/** What a follower has been told so far, as `id@revision` (deleted: `-id@revision`). */
function collect(w: SpecWatch): string[] {
  const got: string[] = [];
  void (async () => {
    for await (const c of w.changes) got.push(`${c.deleted ? '-' : ''}${c.key}@${c.revision}`);
  })();
  return got;
}

test('shards followed from one sequence share one consumer; each hears only its own keys, by check id', async () => {
  const { bucket, opened, tail } = setup();
  await bucket.put('0.a', spec); // 1
  const a = collect(await tail.follow(0, 2));
  const b = collect(await tail.follow(1, 2));
  await bucket.put('1.b', spec); // 2
  await bucket.put('2.c', spec); // 3: nobody follows shard 2
  await bucket.delete('0.a'); // 4
  await flush(10);
  expect(opened).toEqual([2]);
  expect(a).toEqual(['-a@4']);
  expect(b).toEqual(['b@2']);
  await tail.stop();
});

test('a shard that needs what the consumer has passed restarts it from there; nobody hears a change twice', async () => {
  const { bucket, opened, tail } = setup();
  await bucket.put('1.x', spec); // 1
  await bucket.put('0.a', spec); // 2
  await bucket.put('1.y', spec); // 3
  const a = collect(await tail.follow(0, 3));
  await bucket.put('0.b', spec); // 4
  await flush(10);
  expect(a).toEqual(['b@4']);
  // Shard 1 was loaded at sequence 0 (a snapshot read before these puts): it needs 1 on.
  const s1 = collect(await tail.follow(1, 1));
  await bucket.put('0.c', spec); // 5
  await bucket.put('1.z', spec); // 6
  await flush(10);
  expect(opened).toEqual([3, 1]);
  expect(s1).toEqual(['x@1', 'y@3', 'z@6']);
  expect(a).toEqual(['b@4', 'c@5']);
  await tail.stop();
});

test('a follower that stopped hears nothing more; others go on', async () => {
  const { bucket, tail } = setup();
  const w = await tail.follow(0, 1);
  const a = collect(w);
  const b = collect(await tail.follow(0, 1));
  await bucket.put('0.a', spec); // 1
  await flush(10);
  w.stop();
  await bucket.put('0.b', spec); // 2
  await flush(10);
  expect(a).toEqual(['a@1']);
  expect(b).toEqual(['a@1', 'b@2']);
  await tail.stop();
});

test('a consumer that fails starts again after a backoff from the lowest sequence still needed: nothing lost, nothing twice', async () => {
  jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
  try {
    const { bucket, opened, tail, fail } = setup();
    const a = collect(await tail.follow(0, 1));
    const b = collect(await tail.follow(1, 1));
    await bucket.put('0.a', spec); // 1
    await bucket.put('1.b', spec); // 2
    await flush(10);
    fail();
    await flush(10);
    await bucket.put('0.c', spec); // 3: while no consumer runs
    await flush(10);
    expect(a).toEqual(['a@1']);
    await jest.advanceTimersByTimeAsync(TAIL_RETRY_MIN_MS);
    await flush(10);
    await bucket.put('1.d', spec); // 4
    await flush(10);
    expect(opened).toEqual([1, 3]);
    expect(a).toEqual(['a@1', 'c@3']);
    expect(b).toEqual(['b@2', 'd@4']);
    await tail.stop();
  } finally {
    jest.useRealTimers();
  }
});

test('followers arriving while the consumer is being created join it if it starts early enough; an earlier one restarts it', async () => {
  const bucket = new FakeSpecBucket();
  const opened: number[] = [];
  // Creations wait until released: a busy server takes seconds to create a consumer.
  const pending: (() => void)[] = [];
  const tail = new NodeSpecTail(
    async (from) => {
      opened.push(from);
      await new Promise<void>((r) => pending.push(r));
      return bucket.tail(from);
    },
    keyOf,
    silentLog,
  );
  const release = async () => {
    for (const r of pending.splice(0)) r();
    await flush(10);
  };
  await bucket.put('0.a', spec); // 1
  await bucket.put('1.b', spec); // 2
  await bucket.put('2.c', spec); // 3
  const w0 = tail.follow(0, 2);
  await flush(10);
  expect(opened).toEqual([2]);
  // Shards 1 and 2 arrive while that creation is under way, needing 2 and 3 on: it serves them.
  const w1 = tail.follow(1, 2);
  const w2 = tail.follow(2, 3);
  await flush(10);
  expect(opened).toEqual([2]);
  await release();
  const [a, b, c] = [collect(await w0), collect(await w1), collect(await w2)];
  await bucket.put('2.d', spec); // 4
  await flush(10);
  expect(a).toEqual([]);
  expect(b).toEqual(['b@2']);
  expect(c).toEqual(['c@3', 'd@4']);
  // Shard 3 needs 4 on (the consumer has passed it): a creation from 4 starts. Shard 4 arrives
  // meanwhile needing 2 on: that creation cannot serve it and is replaced by one from 2.
  await bucket.put('4.e', spec); // 5
  await flush(10);
  const w3 = tail.follow(3, 4);
  await flush(10);
  expect(opened).toEqual([2, 4]);
  const w4 = tail.follow(4, 2);
  await flush(10);
  expect(opened).toEqual([2, 4, 2]);
  await release();
  const [d, e] = [collect(await w3), collect(await w4)];
  await bucket.put('0.f', spec); // 6
  await bucket.put('3.g', spec); // 7
  await flush(10);
  expect(d).toEqual(['g@7']);
  expect(e).toEqual(['e@5']);
  expect(a).toEqual(['f@6']);
  expect(b).toEqual(['b@2']);
  expect(c).toEqual(['c@3', 'd@4']);
  await tail.stop();
});
