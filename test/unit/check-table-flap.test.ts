// The check table (protocol/check-table.ts) with degraded and flapping (protocol/published-verdict.ts,
// protocol/flapping.ts): a storm publishes one `flapping` change and one settle change; degraded
// comes and goes with the newest passing probe; a release and a resume carry both flags, so a new
// owner neither republishes a change nor loses the flapping state.
import type { ProbeOutcome } from '../../checks/outcome';
import { normalizeSpec, type CheckSpec, type NormalizedSpec } from '../../checks/spec';
import { CatchUpPacer } from '../../protocol/catch-up-pacer';
import { CheckTable, type Directive } from '../../protocol/check-table';
import { flapPercent } from '../../protocol/flapping';
import { parseRelease } from '../../protocol/handover-wire';
import type { ReleasedCheck, ResultMessage, StatusMessage } from '../../protocol/records';
import { emptyCounts, type CountedVerdict } from '../../protocol/verdict-counts';
import { failWith, pass } from '../helpers/fake-ports';

const spec = (extra: Partial<CheckSpec> = {}): NormalizedSpec =>
  normalizeSpec('api', { kind: 'tcp', target: '127.0.0.1:1', intervalMs: 1000, timeoutMs: 500, confirm: false, policy: { type: 'consecutive', rise: 1, fall: 1 }, ...extra } as CheckSpec);
const slow = (ms: number): ProbeOutcome => ({ ...pass(), latencyMs: ms, timings: { total: ms } });

/** One table, driven probe by probe on a manual clock; what it publishes is collected. */
function driver(s: NormalizedSpec, start: (t: CheckTable, now: number) => Directive[] = (t, now) => [...t.set(s, now), ...t.resumed(s.id, null, now)]) {
  const table = new CheckTable({ nodeId: 'n1', rank: 0, jitterMs: 0, random: () => 0, catchUps: new CatchUpPacer(1000) });
  let now = 1_700_000_000_000;
  const statuses: StatusMessage[] = [];
  const results: ResultMessage[] = [];
  const take = (ds: Directive[]) => {
    for (const d of ds) {
      if (d.type === 'status') statuses.push(d.msg);
      if (d.type === 'result') results.push(d.msg);
    }
  };
  take(start(table, now));
  return {
    table,
    statuses,
    results,
    probe(...outcomes: ProbeOutcome[]) {
      for (const o of outcomes) {
        now += s.intervalMs;
        const ds = table.due(s.id, now);
        const p = ds.find((d): d is Extract<Directive, { type: 'probe' }> => d.type === 'probe');
        if (!p) throw new Error(`no probe at ${now}: ${JSON.stringify(ds)}`);
        take(ds);
        take(table.probeDone(s.id, p.token, o, now));
      }
    },
    /** The release as another node parses it off the wire. */
    released(): ReleasedCheck {
      const raw = JSON.parse(JSON.stringify({ shard: 0, rank: 0, node: 'n1', instance: 'i1', gen: 1, epoch: 1, checks: table.release(now) }));
      const rec = parseRelease(raw, { shard: 0, rank: 0 });
      if (typeof rec === 'string') throw new Error(rec);
      return rec.checks[0]!;
    },
  };
}

const changes = (ms: StatusMessage[]) => ms.map((m) => `${m.from}→${m.to}`);
const storm = (n: number) => Array.from({ length: n }, (_, i) => (i % 2 === 0 ? failWith('status') : pass()));

describe('flap damping in the table', () => {
  const flapSpec = spec({ flap: { low: 20, high: 30 } });

  test('without flap, a storm is a change per probe (the baseline)', () => {
    const d = driver(spec());
    d.probe(...Array(5).fill(pass()), ...storm(20));
    expect(d.statuses).toHaveLength(1 + 20);
  });

  test('a storm publishes exactly one flapping change, and one settle change when it calms', () => {
    const d = driver(flapSpec);
    d.probe(...Array(21).fill(pass()));
    expect(changes(d.statuses)).toEqual(['unknown→up']);
    d.probe(...storm(40));
    const onset = d.results.findIndex((r) => r.flapping);
    expect(onset).toBeGreaterThan(0);
    // Flapping starts on the first result whose history reaches flap.high, and stays through the storm.
    expect(flapPercent(d.results[onset]!.history)).toBeGreaterThanOrEqual(30);
    expect(flapPercent(d.results[onset - 1]!.history)).toBeLessThan(30);
    expect(d.results.slice(onset).every((r) => r.flapping)).toBe(true);
    const toFlapping = d.statuses.filter((m) => m.to === 'flapping');
    expect(toFlapping).toHaveLength(1);
    expect(toFlapping[0]!.seq).toBe(d.results[onset]!.seq);
    expect(d.statuses.at(-1)).toBe(toFlapping[0]); // nothing after it during the storm
    // Each storm result before onset was a change (rise 1, fall 1: the detector needs a few to see a
    // pattern), then one flapping change for the rest of the 40.
    const before = onset - 21;
    expect(before).toBeLessThan(10);
    expect(d.statuses).toHaveLength(1 + before + 1);

    d.probe(...Array(21).fill(pass()));
    const settle = d.statuses.filter((m) => m.from === 'flapping');
    expect(changes(settle)).toEqual(['flapping→up']);
    const ended = d.results.findIndex((r, i) => i > onset && !r.flapping);
    expect(settle[0]!.seq).toBe(d.results[ended]!.seq);
    expect(flapPercent(d.results[ended]!.history)).toBeLessThanOrEqual(20);
    expect(d.statuses.at(-1)).toBe(settle[0]);
  });

  test('it settles on what the policy says: a storm that ends failing settles down', () => {
    const d = driver(flapSpec);
    d.probe(...Array(21).fill(pass()), ...storm(40), ...Array(21).fill(failWith('refused')));
    const settle = d.statuses.filter((m) => m.from === 'flapping');
    expect(settle.map((m) => [m.to, m.reason])).toEqual([['down', 'refused']]);
  });
});

describe('degraded in the table', () => {
  const s = spec({ degradedAfterMs: 200 });

  test('up ↔ degraded ↔ down, each change once, with its reason', () => {
    const d = driver(s);
    d.probe(pass(), pass(), slow(300), slow(350), pass(), slow(250), failWith('timeout'), slow(300), pass());
    expect(d.statuses.map((m) => [`${m.from}→${m.to}`, m.reason])).toEqual([
      ['unknown→up', null],
      ['up→degraded', 'latency'],
      ['degraded→up', null],
      ['up→degraded', 'latency'],
      ['degraded→down', 'timeout'],
      ['down→degraded', 'latency'],
      ['degraded→up', null],
    ]);
    expect(d.results.map((r) => r.degraded ?? false)).toEqual([false, false, true, true, false, true, false, true, false]);
  });
});

describe('handover and resume carry the published verdict and the flags', () => {
  test('a released degraded check: the new owner publishes nothing on the next slow pass, and degraded→up once', () => {
    const s = spec({ degradedAfterMs: 200 });
    const a = driver(s);
    a.probe(pass(), slow(300));
    const rc = a.released();
    expect(rc).toMatchObject({ status: 'up', published: 'degraded', degraded: true });
    expect(rc.flapping).toBeUndefined();
    const b = driver(s, (t, now) => t.setReleased(s, rc, now));
    b.probe(slow(300), slow(400), pass());
    expect(changes(b.statuses)).toEqual(['degraded→up']);
    expect(b.results[0]!.seq).toBe(rc.seq + 1);
  });

  test('a released flapping check stays flapping on the new owner, and settles there with one change', () => {
    const s = spec({ flap: { low: 20, high: 30 } });
    const a = driver(s);
    a.probe(...Array(21).fill(pass()), ...storm(30));
    const rc = a.released();
    expect(rc).toMatchObject({ published: 'flapping', flapping: true });
    const b = driver(s, (t, now) => t.setReleased(s, rc, now));
    b.probe(...storm(10));
    expect(b.statuses).toEqual([]);
    b.probe(...Array(21).fill(pass()));
    expect(changes(b.statuses)).toEqual(['flapping→up']);
  });

  test('hysteresis across a release: calming down between low and high, the carried flag keeps it flapping', () => {
    const s = spec({ flap: { low: 20, high: 30 } });
    const a = driver(s);
    a.probe(...Array(21).fill(pass()), ...storm(30));
    // Steady passes until the percent is below high but above low: still flapping (the band).
    const band = (h: string) => flapPercent(h) < 30 && flapPercent(h + '1') > 20;
    while (!band(a.results.at(-1)!.history)) a.probe(pass());
    expect(a.results.at(-1)!.flapping).toBe(true);
    const rc = a.released();
    expect(rc.flapping).toBe(true);
    const b = driver(s, (t, now) => t.setReleased(s, rc, now));
    b.probe(pass());
    expect(b.statuses).toEqual([]); // without the flag, this pass would have settled it (nothing carried = not flapping)
    const c = driver(s, (t, now) => t.setReleased(s, { ...rc, flapping: undefined }, now));
    c.probe(pass());
    expect(changes(c.statuses)).toEqual(['flapping→up']);
  });

  test('a release from an older node (no flags, published up/down) parses and is not flapping', () => {
    const s = spec({ flap: { low: 20, high: 30 } });
    const old = { id: 'api', seq: 9, status: 'up', history: '1'.repeat(21), published: 'up', slot: 1_700_000_000_000, dueInMs: 500 };
    const rec = parseRelease({ shard: 0, rank: 0, node: 'n0', instance: 'i0', gen: 1, epoch: 1, checks: [old] }, { shard: 0, rank: 0 });
    if (typeof rec === 'string') throw new Error(rec);
    const b = driver(s, (t, now) => t.setReleased(s, rec.checks[0]!, now));
    b.probe(pass());
    expect(b.statuses).toEqual([]);
    expect(b.results[0]!.flapping).toBeUndefined();
  });

  test.each([
    // name, last published result's flags, the next outcomes, the changes the new owner publishes
    ['resumed flapping: the storm goes on silently', { flapping: true as const }, '1'.repeat(11) + '0101010101', storm(6), []],
    ['resumed degraded: a slow pass is no change', { degraded: true as const }, '1'.repeat(21), [slow(300)], []],
    ['resumed degraded: a fast pass is degraded→up', { degraded: true as const }, '1'.repeat(21), [pass()], ['degraded→up']],
    ['resumed without flags (an older node): up', {}, '1'.repeat(21), [pass()], []],
    // 8 old changes: 29.01 %, then 24.47 % and 20.07 % after one and two more passes — between low and high.
    ['resumed flapping in the band: stays flapping', { flapping: true as const }, '01'.repeat(4) + '1'.repeat(13), [pass(), pass()], []],
    ['resumed not flapping in the band: stays not flapping', {}, '01'.repeat(4) + '1'.repeat(13), [pass(), pass()], []],
    ['resumed flapping in the band: settles once below low', { flapping: true as const }, '01'.repeat(4) + '1'.repeat(13), [pass(), pass(), pass()], ['flapping→up']],
  ])('%s', (_name, flags, history, outcomes, want) => {
    const s = spec({ degradedAfterMs: 200, flap: { low: 20, high: 30 } });
    const d = driver(s, (t, now) => [...t.set(s, now), ...t.resumed(s.id, { seq: 41, slot: now - 1000, status: 'up', history, ...flags }, now)]);
    d.probe(...outcomes);
    expect(changes(d.statuses)).toEqual(want);
    expect(d.results[0]!.seq).toBe(42);
  });
});

describe('countVerdicts: what a node carries in its heartbeat (protocol/verdict-counts.ts)', () => {
  const count = (t: CheckTable, combined: (id: string) => CountedVerdict = () => 'unknown') => {
    const into = emptyCounts();
    t.countVerdicts(into, combined);
    return into;
  };

  test('the published verdict, unknown before the first; flapping and degraded counted as published', () => {
    const d = driver(spec({ flap: { low: 20, high: 30 }, degradedAfterMs: 100 }));
    expect(count(d.table)).toEqual({ ...emptyCounts(), unknown: 1 });
    d.probe(pass());
    expect(count(d.table)).toEqual({ ...emptyCounts(), up: 1 });
    d.probe(slow(500));
    expect(count(d.table)).toEqual({ ...emptyCounts(), degraded: 1 });
    d.probe(failWith('status'));
    expect(count(d.table)).toEqual({ ...emptyCounts(), down: 1 });
    d.probe(...storm(20));
    expect(d.statuses.at(-1)?.to).toBe('flapping');
    expect(count(d.table)).toEqual({ ...emptyCounts(), flapping: 1 });
  });

  test('a check whose vantages are combined (replicas > 1) is counted by the combined verdict, not its own', () => {
    const d = driver(spec({ replicas: 2 }));
    d.probe(pass());
    expect(count(d.table)).toEqual({ ...emptyCounts(), unknown: 1 });
    expect(count(d.table, (id) => (id === 'api' ? 'down' : 'up'))).toEqual({ ...emptyCounts(), down: 1 });
  });
});
