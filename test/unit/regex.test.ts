// Spec regexes: which syntax is refused and why (pure), and the body worker that runs regex
// matches and json assertions off the event loop within a budget (a real worker thread running
// re2js and JSON.parse).
import { BodyWorkPolicy } from '../../checks/body-work-policy';
import { BODY_WORK_BUDGET_MS, BodyWorker, type RegexVerdict } from '../../checks/body-worker';
import { cachedRegexVerdicts, REGEX_VERDICT_CACHE_LIMIT, regexProblem, unsupportedConstruct } from '../../checks/regex';
import { abcText, BLOW_UP } from '../../testkit/hostile-text';

describe('unsupportedConstruct names what RE2 lacks', () => {
  test.each([
    ['(?=a)b', 'lookahead'],
    ['x(?!a)', 'negative lookahead'],
    ['(?<=a)b', 'lookbehind'],
    ['(?<!a)b', 'negative lookbehind'],
    ['(?>a+)b', 'atomic groups'],
    ['(a)\\1', 'backreferences'],
    ['(?<x>a)\\k<x>', 'named backreferences'],
    ['a++', 'possessive'],
    ['a*+', 'possessive'],
    ['a?+', 'possessive'],
    ['a{2}+', 'possessive'],
    ['a{2,}+b', 'possessive'],
    ['\\u0041', '\\u escapes'],
    ['\\cA', 'control escapes'],
  ])('%s → %s', (source, what) => {
    expect(unsupportedConstruct(source)).toMatch(new RegExp(`^${what.replace(/\\/g, '\\\\')}`));
  });

  test.each([
    'a+?', 'a*?b', 'a??', 'a{2,3}?', '\\++', '\\\\+', '[(?=]', '\\(?=x\\)', '[\\1]', '(?<name>a)', '(?P<name>a)', '(?i)abc',
    '\\x{e9}', '[a+]+', '[]a]+', '[^]a]+', '"status"\\s*:\\s*"(up|ok)"', '^(a+)+$', 'a{,3}+',
  ])('%s is not flagged', (source) => {
    expect(unsupportedConstruct(source)).toBeUndefined();
  });
});

describe('regexProblem', () => {
  test.each([
    ['(?=a)b', 'unsupported', /http\.bodyRegex uses lookahead \(\?=\.\.\.\), which RE2 does not support/],
    ['\\Z', 'unsupported', /valid JavaScript but not RE2 syntax: invalid escape sequence: `\\Z`/],
    ['[[:word:]]x\\h', 'unsupported', /invalid escape sequence: `\\h`/],
    ['(unclosed', 'format', /does not compile: missing closing \)/],
    ['a{2,1}', 'format', /does not compile: invalid repeat count/],
    ['a**', 'format', /does not compile: invalid nested repetition operator/],
    ['(a{1000}){1000}', 'unsupported', /invalid repeat count/], // JS accepts it; RE2 refuses the size
  ])('%s → %s', (source, code, message) => {
    const p = regexProblem(source, 'http.bodyRegex');
    expect(p?.code).toBe(code);
    expect(p?.message).toMatch(message);
  });

  test('RE2 syntax that JavaScript lacks is accepted', () => {
    for (const source of ['(?i)healthy', '(?P<v>[0-9]+)', '\\pL+', '[[:alpha:]]+', '\\x{1F600}', '\\Qa.b\\E', '(?s).+', '\\A\\d+\\z']) {
      expect(regexProblem(source, 'r')).toBeUndefined();
    }
  });

  test('the verdict cache is bounded', () => {
    for (let i = 0; i < REGEX_VERDICT_CACHE_LIMIT + 100; i++) regexProblem(`x${i}`, 'r');
    expect(cachedRegexVerdicts()).toBe(REGEX_VERDICT_CACHE_LIMIT);
    // A cached answer is the same answer.
    expect(regexProblem('(?=a)', 'r')).toEqual(regexProblem('(?=a)', 'r'));
  });
});

// ---- the body worker: its policy (pure) -------------------------------------------------------

describe('BodyWorkPolicy', () => {
  const policy = () => new BodyWorkPolicy({ retryMs: 60_000, heavyMs: 50, heavyShare: 0.5, windowMs: 2000, memoryLimit: 3, minCostlyChars: 4096 });
  const item = (key: string, chars = 5000) => ({ key, chars });

  test('work that overran is refused for bodies as long, during the retry period', () => {
    const p = policy();
    p.ended(item('r', 10_000), 0, 200, true);
    expect(p.admit(item('r', 10_000), 1)).toBe('remembered');
    expect(p.admit(item('r', 50_000), 59_999)).toBe('remembered');
    expect(p.admit(item('r', 9_999), 1)).toBe('run'); // a shorter body
    expect(p.admit(item('other', 10_000), 1)).toBe('run');
    expect(p.admit(item('r', 10_000), 60_000)).toBe('run'); // the period is over
  });

  test('a small body that was slow or overran says the machine was busy: not remembered, not heavy', () => {
    const p = policy();
    p.ended(item('small', 4095), 0, 200, true);
    p.ended(item('slow', 100), 0, 120, false);
    expect(p.admit(item('small', 4095), 1)).toBe('run');
    expect(p.pick([item('slow', 100), item('other', 200)], 1)).toBe(0);
    expect(p.costlyMs(1)).toBe(0);
  });

  test('order: shortest body first, costly work last, first come first served among equals', () => {
    const p = policy();
    p.ended(item('costly'), 0, 80, false);
    p.ended(item('cheap'), 0, 10, false);
    expect(p.pick([item('a', 500), item('b', 20), item('c', 20)], 1)).toBe(1);
    expect(p.pick([item('costly', 1), item('cheap', 1_000_000)], 1)).toBe(1);
    expect(p.pick([item('costly', 9), item('costly', 5)], 1)).toBe(1);
    expect(p.pick([item('costly', 1), item('cheap', 1_000_000)], 60_000)).toBe(0); // no longer marked
    expect(p.pick([], 1)).toBe(-1);
  });

  test('costly work is rationed to its share of the window; other work always starts', () => {
    const p = policy();
    p.ended(item('h1'), 1000, 400, false);
    p.ended(item('h2'), 1500, 400, true); // an overrun counts too
    expect(p.costlyMs(1500)).toBe(800);
    expect(p.start(item('h1'), 1500)).toBe('run'); // 800 ms < 50% of 2000 ms
    p.ended(item('h1'), 1700, 300, false);
    expect(p.costlyMs(1700)).toBe(1100);
    expect(p.start(item('h1'), 1700)).toBe('rationed');
    expect(p.start(item('new'), 1700)).toBe('run'); // not known as costly
    expect(p.costlyMs(2600)).toBe(1100);
    expect(p.start(item('h2'), 2600)).toBe('rationed');
    // The window slides: at 3200 the first job is out, and only the part of the second after 1200
    // counts (300 + 300).
    expect(p.costlyMs(3200)).toBe(600);
    expect(p.start(item('h2'), 3200)).toBe('run');
  });

  test('memory is bounded: the least recently marked key goes first', () => {
    const p = policy();
    for (const key of ['a', 'b', 'c', 'd']) p.ended(item(key), 0, 200, true);
    expect(['a', 'b', 'c', 'd'].map((key) => p.admit(item(key), 1))).toEqual(['run', 'remembered', 'remembered', 'remembered']);
  });
});

// ---- the body worker: a real worker thread ---------------------------------------------------

/** 1 MiB of JSON that is costly to parse: runs of 256 nested empty arrays (~50-200 ms). */
const HOSTILE_JSON = `[${Array(Math.floor((1024 * 1024) / 513)).fill(`${'['.repeat(256)}${']'.repeat(256)}`).join(',')}]`;

/** Count main-thread timer callbacks until `work` settles. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const value = await work;
    return { value, ticks };
  } finally {
    clearInterval(timer);
  }
}

const overrun = (remembered: boolean, budgetMs = BODY_WORK_BUDGET_MS) => ({ status: 'overrun', budgetMs, remembered });

describe('BodyWorker: regex matches', () => {
  let worker: BodyWorker;
  let clock = 0;
  beforeEach(() => {
    clock = 0;
    worker = new BodyWorker({ now: () => clock });
  });
  afterEach(() => worker.close());

  test('the catastrophic backtracking case is just a linear scan: ^(a+)+$ on 10 KiB of "a" + "!"', async () => {
    const body = `${'a'.repeat(10 * 1024)}!`;
    expect(await worker.match('^(a+)+$', body)).toEqual({ status: 'no_match' });
    expect(await worker.match('^(a+)+$', body.slice(0, -1))).toEqual({ status: 'match' });
    expect(worker.stats).toMatchObject({ answered: 2, overruns: 0, started: 1 });
  });

  test('a match over budget is stopped, the event loop keeps running meanwhile, and the next job gets a fresh worker', async () => {
    const text = abcText(1024 * 1024);
    // The budget timer is armed after the 1 ms interval, so the interval fires first at least once
    // unless the main thread is blocked — which is what running the match inline would do.
    const { value, ticks } = await ticksDuring(worker.match(BLOW_UP, text));
    expect(value).toEqual(overrun(false));
    expect(ticks).toBeGreaterThan(0);
    expect(worker.stats).toMatchObject({ overruns: 1, started: 2 }); // the replacement loads at once
    expect(await worker.match('d$', text)).toEqual({ status: 'match' });
    expect(worker.stats).toMatchObject({ answered: 1, started: 2 });
  });

  test('an answer already waiting when the budget timer fires is an answer, not an overrun', async () => {
    const quick = new BodyWorker({ budgetMs: 50 });
    try {
      await quick.match('a', 'a'); // a ready worker
      const pending = quick.match('b', 'abc');
      // This thread is busy past the budget while the worker answers: when the loop turns, the
      // budget timer runs before the answer is read.
      const until = Date.now() + 500;
      while (Date.now() < until);
      expect(await pending).toEqual({ status: 'match' });
      expect(quick.stats).toMatchObject({ overruns: 0, answered: 2, started: 1 });
    } finally {
      await quick.close();
    }
  });

  test('a pattern that overran is refused without running for texts as long, until the retry period ends', async () => {
    const text = abcText(256 * 1024);
    expect(await worker.match(BLOW_UP, text)).toEqual(overrun(false));
    clock += 1000;
    expect(await worker.match(BLOW_UP, text)).toEqual(overrun(true));
    expect(worker.stats).toMatchObject({ overruns: 1, refused: 1 });
    // A shorter text is still run (and this one is small enough to finish).
    expect(await worker.match(BLOW_UP, 'abc')).toEqual({ status: 'no_match' });
    // After the retry period the long text is tried again (and overruns again).
    clock += 60_000;
    expect(await worker.match(BLOW_UP, text)).toEqual(overrun(false));
    expect(worker.stats).toMatchObject({ overruns: 2, refused: 1, answered: 1 });
  });

  test('an abort drops a queued job; a running job is answered `aborted` at once and still ends at its budget', async () => {
    await worker.match('a', 'a'); // a ready worker: the next job starts at once
    const running = new AbortController();
    const queued = new AbortController();
    const first = worker.match(BLOW_UP, abcText(1024 * 1024), running.signal);
    const second = worker.match('x', 'x', queued.signal);
    const third = worker.match('y', 'xyz');
    queued.abort();
    expect(await second).toEqual({ status: 'aborted' });
    running.abort();
    expect(await first).toEqual({ status: 'aborted' });
    expect(worker.stats.overruns).toBe(0); // answered at the abort, not at the budget
    // The abandoned match keeps the worker until its budget (then the worker is replaced).
    expect(await third).toEqual({ status: 'match' });
    expect(worker.stats).toMatchObject({ overruns: 1, started: 2, answered: 2 });
    expect(await worker.match('x', 'x', AbortSignal.abort())).toEqual({ status: 'aborted' });
  });

  test("the time a job waited for the worker is added to its caller's WorkerWait; its own run is not", async () => {
    // Exact bounds from this thread's clock, no threshold: a job started within the call waited no
    // longer than the call took; a job queued behind one that overran waited at least its budget;
    // a queued job dropped at an abort waited from its call to the abort.
    const budgetMs = 100;
    const w = new BodyWorker({ budgetMs });
    try {
      await w.match('a', 'a'); // a ready worker: the next job starts at once
      const own = { ms: 0 };
      const behind = { ms: 0 };
      const dropped = { ms: 0 };
      const t0 = performance.now();
      const first = w.match(BLOW_UP, abcText(1024 * 1024), undefined, own);
      const t1 = performance.now();
      const second = w.match('x', 'x', undefined, behind);
      const stop = new AbortController();
      const t2 = performance.now();
      const third = w.match('y', 'y', stop.signal, dropped);
      const t3 = performance.now();
      while (performance.now() - t3 < 5); // it stays queued at least 5 ms
      stop.abort();
      const t4 = performance.now();
      expect(await third).toEqual({ status: 'aborted' });
      expect(dropped.ms).toBeGreaterThanOrEqual(5);
      expect(dropped.ms).toBeLessThanOrEqual(t4 - t2);
      expect(await first).toEqual({ status: 'overrun', budgetMs, remembered: false });
      expect(await second).toEqual({ status: 'match' });
      expect(own.ms).toBeLessThanOrEqual(t1 - t0); // its ~100 ms run (and overrun) is not a wait
      expect(behind.ms).toBeGreaterThanOrEqual(budgetMs - 1); // the first job's budget, then a fresh worker's start
      expect(w.stats).toMatchObject({ overruns: 1, started: 2 });
    } finally {
      await w.close();
    }
  });

  test('jobs are answered in order, one at a time; close answers the rest `aborted`', async () => {
    const answers: RegexVerdict[] = [];
    const jobs = ['a', 'b', 'zz'].map((p) => worker.match(p, 'ab').then((v) => answers.push(v)));
    await Promise.all(jobs);
    expect(answers.map((a) => a.status)).toEqual(['match', 'match', 'no_match']);
    const pending = worker.match(BLOW_UP, abcText(1024 * 1024));
    await worker.close();
    expect(await pending).toEqual({ status: 'aborted' });
  });

  test('the budget starts when the worker is ready: starting one is not counted against the first match', async () => {
    // Side by side in this run, no fixed threshold: a first worker (unlimited budget) times its
    // first match from the call, i.e. loading the worker (25-300 ms here, more on a busy machine)
    // plus one cold, trivial match. A second worker gets half of that as its budget: were the
    // clock started at the spawn, loading alone would overrun it; from `ready`, the match fits.
    const timed = new BodyWorker({ budgetMs: 60_000 });
    let coldFirstMatchMs: number;
    try {
      const t0 = performance.now();
      expect(await timed.match('(?i)ok', 'status: OK')).toEqual({ status: 'match' });
      coldFirstMatchMs = performance.now() - t0;
    } finally {
      await timed.close();
    }
    const fresh = new BodyWorker({ budgetMs: Math.max(1, Math.floor(coldFirstMatchMs / 2)) });
    try {
      expect(await fresh.match('(?i)ok', 'status: OK')).toEqual({ status: 'match' });
      expect(fresh.stats).toMatchObject({ started: 1, answered: 1, overruns: 0 });
    } finally {
      await fresh.close();
    }
  });

  test('a pattern the worker cannot compile fails that job only', async () => {
    expect(await worker.match('(', 'x')).toMatchObject({ status: 'failed', message: expect.stringContaining('missing closing )') });
    expect(await worker.match('x', 'x')).toEqual({ status: 'match' });
  });
});

describe('BodyWorker: json assertions', () => {
  let worker: BodyWorker;
  let clock = 0;
  beforeEach(() => {
    clock = 0;
    worker = new BodyWorker({ now: () => clock });
  });
  afterEach(() => worker.close());

  test('answers pass / invalid / fail with a summary of the found value', async () => {
    const body = JSON.stringify({ status: 'up', build: { id: 'SECRET-42' } });
    expect(await worker.evaluateJson('c', body, [{ path: '$.status', equals: 'up' }])).toEqual({ status: 'pass' });
    expect(await worker.evaluateJson('c', 'not json', [{ path: '$', equals: 1 }])).toEqual({ status: 'invalid' });
    expect(await worker.evaluateJson('c', body, [{ path: '$.status', equals: 'up' }, { path: '$.build', equals: 7 }])).toEqual({
      status: 'fail',
      index: 1,
      found: { kind: 'an object', preview: '{"id":"SECRET-42"}' },
    });
    expect(await worker.evaluateJson('c', body, [{ path: '$.nope', equals: 1 }])).toEqual({ status: 'fail', index: 0 });
  });

  test('1 MiB of hostile JSON is parsed in the worker: the event loop keeps running meanwhile', async () => {
    const roomy = new BodyWorker({ budgetMs: 30_000 }); // a loaded machine must not turn this into an overrun
    try {
      await roomy.evaluateJson('warm', '[]', []); // a started worker: the ticks below are the parse's
      const { value, ticks } = await ticksDuring(roomy.evaluateJson('hostile', HOSTILE_JSON, [{ path: '$.status', equals: 'up' }]));
      expect(value).toEqual({ status: 'fail', index: 0 });
      expect(ticks).toBeGreaterThan(0);
    } finally {
      await roomy.close();
    }
  });

  test("a check's JSON that overran is refused for bodies as long, by check", async () => {
    const tight = new BodyWorker({ budgetMs: 5, now: () => clock }); // the hostile parse takes ~50-200 ms
    try {
      const assertions = [{ path: '$[0]', equals: [] }];
      await tight.evaluateJson('warm', '[]', assertions);
      expect(await tight.evaluateJson('hostile', HOSTILE_JSON, assertions)).toEqual(overrun(false, 5));
      expect(await tight.evaluateJson('hostile', HOSTILE_JSON, assertions)).toEqual(overrun(true, 5));
      // A shorter body, or another check's, is run (not refused), whatever a loaded machine makes of 5 ms.
      expect(await tight.evaluateJson('hostile', '[[]]', assertions)).not.toEqual(overrun(true, 5));
      expect(await tight.evaluateJson('other', HOSTILE_JSON, assertions)).not.toEqual(overrun(true, 5));
      expect(tight.stats.refused).toBe(1);
    } finally {
      await tight.close();
    }
  });

  test('work that took long recently waits behind work that did not', async () => {
    const fair = new BodyWorker({ heavyMs: 10, budgetMs: 30_000, now: () => clock }); // no overruns: order only
    try {
      const assertions = [{ path: '$.status', equals: 'up' }];
      await fair.evaluateJson('hostile', HOSTILE_JSON, assertions); // ≥ 10 ms: marked heavy
      const order: string[] = [];
      const busy = fair.evaluateJson('new', HOSTILE_JSON, assertions).then(() => order.push('new (running)'));
      const heavy = fair.evaluateJson('hostile', HOSTILE_JSON, assertions).then(() => order.push('hostile (queued first)'));
      const light = fair.match('ok', 'ok').then(() => order.push('regex (queued second)'));
      await Promise.all([busy, heavy, light]);
      expect(order).toEqual(['new (running)', 'regex (queued second)', 'hostile (queued first)']);
    } finally {
      await fair.close();
    }
  });
});
