// Which subjects the result stream holds, for many lookups at once (runtime/result-presence.ts):
// with a fake listing, when one is asked for, which lookups it answers, and when it answers nothing.
import { ResultPresence, type SubjectListing } from '../../runtime/result-presence';

const cfg = { minPending: 3, maxSubjects: 10 };

/** A listing whose answers the test releases; it counts what is asked. */
function fakeListing(subjects: string[], count = subjects.length) {
  const calls = { count: 0, list: 0 };
  const gates: (() => void)[] = [];
  let fail: Error | null = null;
  const gate = <T>(v: () => T) => new Promise<T>((resolve, reject) => gates.push(() => (fail ? reject(fail) : resolve(v()))));
  const src: SubjectListing = {
    count: () => (calls.count++, gate(() => count)),
    list: () => (calls.list++, gate(() => new Set(subjects))),
  };
  /** Answers whatever is asked over the next turns (a lookup decides a turn after it is asked). */
  const release = async () => {
    for (let turn = 0; turn < 10; turn++) {
      await new Promise((r) => setImmediate(r));
      while (gates.length > 0) gates.shift()!();
    }
  };
  return { src, calls, release, failWith: (e: Error | null) => (fail = e), holds: (s: string) => subjects.push(s) };
}

function presence(l: ReturnType<typeof fakeListing>, asked: number, outstanding = asked) {
  const counts = { asked, outstanding };
  return { p: new ResultPresence(l.src, () => counts.asked, () => counts.outstanding, cfg), counts };
}

test('many lookups outstanding, few subjects: one listing answers every lookup asked before it', async () => {
  const l = fakeListing(['r.a', 'r.b']);
  const { p } = presence(l, 5);
  const answers = Promise.all(['r.a', 'r.x', 'r.b', 'r.y', 'r.z'].map((subject, n) => p.absent(n, subject)));
  await l.release();
  expect(await answers).toEqual([false, true, false, true, true]);
  expect(l.calls).toEqual({ count: 1, list: 1 });
});

test('a lookup asked after the listing was requested is not answered by it: a new listing covers it', async () => {
  const l = fakeListing(['r.a']);
  const { p, counts } = presence(l, 3);
  const first = p.absent(0, 'r.x');
  await l.release();
  expect(await first).toBe(true);
  // Lookup 3 was asked after the listing; meanwhile r.x got a result.
  counts.asked = 4;
  l.holds('r.x');
  const later = p.absent(3, 'r.x');
  await l.release();
  expect(await later).toBe(false);
  expect(l.calls.list).toBe(2);
});

test('too few lookups outstanding: no listing, every lookup goes to its direct get', async () => {
  const l = fakeListing([]);
  const { p } = presence(l, 2);
  expect(await Promise.all([p.absent(0, 'r.x'), p.absent(1, 'r.y')])).toEqual([false, false]);
  expect(l.calls).toEqual({ count: 0, list: 0 });
});

test('more subjects than the bound: counted, not listed, nothing answered', async () => {
  const l = fakeListing([], cfg.maxSubjects + 1);
  const { p } = presence(l, 5);
  const answers = Promise.all([0, 1, 2].map((n) => p.absent(n, 'r.x')));
  await l.release();
  expect(await answers).toEqual([false, false, false]);
  expect(l.calls).toEqual({ count: 1, list: 0 });
});

test('the bound itself is listed', async () => {
  const l = fakeListing(['r.a'], cfg.maxSubjects);
  const { p } = presence(l, 5);
  const a = p.absent(0, 'r.x');
  await l.release();
  expect(await a).toBe(true);
});

test('a failed listing answers nothing (the direct gets go as before) and the next uncovered lookup tries again', async () => {
  const l = fakeListing([]);
  const { p, counts } = presence(l, 3);
  l.failWith(new Error('stream info timed out'));
  const a = p.absent(0, 'r.x');
  await l.release();
  expect(await a).toBe(false);
  counts.asked = 4;
  l.failWith(null);
  const b = p.absent(3, 'r.x');
  await l.release();
  expect(await b).toBe(true);
  expect(l.calls.count).toBe(2);
});
