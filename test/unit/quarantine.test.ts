// Self-quarantine (issue 13 §3): the node's rule (protocol/quarantine.ts: the disagreement score,
// entering and leaving), the leader's bound (protocol/quarantine-bound.ts: how many, who, sticky),
// what a quarantined node publishes (check-messages.ts), the evidence a probe is
// (runtime/quarantine-guard.ts), and the assigner holding a quarantined member out of the map.
import type { AnyActorRef } from 'xstate';
import type { AssignedMember } from '../../actors/assigner';
import { normalizeSpec } from '../../checks/spec';
import { outcomeMessages, type PublishedState } from '../../protocol/check-messages';
import { QuarantineWatch, type EvidenceKind, type QuarantineConfig } from '../../protocol/quarantine';
import { admissionChanges, admitQuarantined, quarantineBound } from '../../protocol/quarantine-bound';
import { canaryId, canarySpecs, isCanary, isCanaryId } from '../../runtime/canaries';
import type { ManualClock } from '../../runtime/clock';
import { evidenceOf } from '../../runtime/quarantine-guard';
import { run, start } from '../helpers/assigner-host';
import { FakeMapKey } from '../helpers/fake-kv';
import { failWith, fakePorts, pass, probeRounds, startRunner } from '../helpers/fake-ports';

const cfg: QuarantineConfig = { rate: 0.8, window: 10, minDisagreements: 3, minSubjects: 2, holdMs: 5_000, minHealthy: 2 };

/** Feed `seq` ("D" disagreed, "A" agreed, "H" healthy; subjects a, b, c… in turn unless one is named) and return the change each made. */
function feed(w: QuarantineWatch, seq: string, at = 0, subjects = 'abc'): (string | null)[] {
  const kinds: Record<string, EvidenceKind> = { D: 'disagreed', A: 'agreed', H: 'healthy' };
  return [...seq].map((ch, i) => w.observe(kinds[ch]!, subjects[i % subjects.length]!, at + i)?.type ?? null);
}

describe('entering', () => {
  test.each([
    ['every observation disagrees: enters at the minimum count', 'DDD', cfg, [null, null, 'entered']],
    ['disagreements below the minimum count never enter', 'DD', cfg, [null, null]],
    ['a rate below the threshold does not enter (passes count)', 'HHDDD', cfg, [null, null, null, null, null]],
    ['agreements (the target is down for others too) keep the rate low', 'ADADAD', cfg, [null, null, null, null, null, null]],
    ['old passes fall out of the window, then it enters', 'HHHDDDDDDDDD', cfg, [null, null, null, null, null, null, null, null, null, null, 'entered', null]],
    ['off (rate 0)', 'DDDDDD', { ...cfg, rate: 0 }, [null, null, null, null, null, null]],
  ] as const)('%s', (_n, seq, c, want) => {
    expect(feed(new QuarantineWatch(c), seq)).toEqual(want);
  });

  test('one subject disagreeing alone is not the node\'s network (minSubjects)', () => {
    const w = new QuarantineWatch(cfg);
    expect(feed(w, 'DDDDD', 0, 'a')).toEqual([null, null, null, null, null]);
    expect(w.score()).toEqual({ disagreed: 5, agreed: 0, healthy: 0, subjects: 1, rate: 1 });
    expect(feed(w, 'D', 10, 'b')).toEqual(['entered']);
  });

  test('the score is over the last `window` observations only', () => {
    const w = new QuarantineWatch({ ...cfg, window: 4, minDisagreements: 10 });
    feed(w, 'DDHHHA');
    expect(w.score()).toEqual({ disagreed: 0, agreed: 1, healthy: 3, subjects: 0, rate: 0 });
    feed(w, 'D', 10);
    expect(w.score()).toMatchObject({ disagreed: 1, healthy: 2, agreed: 1, rate: 0.25 });
  });
});

describe('leaving', () => {
  const entered = () => {
    const w = new QuarantineWatch(cfg);
    feed(w, 'DDD', 1000);
    expect(w.quarantined).toBe(true);
    return w;
  };

  test('after holdMs without a disagreement and minHealthy passes since the last one', () => {
    const w = entered();
    w.observe('healthy', 'a', 2000);
    expect(w.tick(8000, true)).toBeNull(); // one pass only
    w.observe('healthy', 'b', 8100);
    expect(w.tick(6001, true)).toBeNull(); // not yet holdMs since the last disagreement (at 1002)
    expect(w.tick(8200, true)).toMatchObject({ type: 'left', reason: 'healthy', quarantinedMs: 8200 - 1002 });
    expect(w.quarantined).toBe(false);
    // A fresh start: the old disagreements do not count towards the next quarantine.
    expect(w.score()).toEqual({ disagreed: 0, agreed: 0, healthy: 0, subjects: 0, rate: 0 });
  });

  test('a disagreement restarts the hold and the healthy count', () => {
    const w = entered();
    feed(w, 'HH', 2000);
    w.observe('disagreed', 'a', 6000);
    w.observe('healthy', 'a', 6100);
    w.observe('healthy', 'b', 6200);
    expect(w.tick(10_999, true)).toBeNull();
    expect(w.tick(11_000, true)).toMatchObject({ type: 'left', reason: 'healthy' });
  });

  test('with nothing left to probe, the hold alone', () => {
    const w = entered();
    expect(w.tick(6001, false)).toBeNull();
    expect(w.tick(6002, false)).toMatchObject({ type: 'left', reason: 'no_evidence' });
  });

  test('witnesses: the subjects that disagreed last, newest first, without repeats', () => {
    const w = entered();
    feed(w, 'D', 2000, 'c');
    feed(w, 'D', 2001, 'a');
    expect(w.witnesses(2)).toEqual(['a', 'c']);
    w.forget('a');
    expect(w.witnesses(3)).toEqual(['c', 'b']);
  });
});

describe('the bound', () => {
  test.each([
    [1, 0.5, 0],
    [2, 0.5, 0],
    [3, 0.5, 1],
    [4, 0.5, 1],
    [5, 0.5, 2],
    [10, 0.5, 4],
    [10, 0.2, 2],
    [10, 1, 4], // never a majority, whatever the fraction
    [10, 0, 0],
  ])('%d live members, fraction %d: %d', (live, fraction, want) => expect(quarantineBound(live, fraction)).toBe(want));

  const m = (q: string[]) => ['a', 'b', 'c', 'd', 'e'].map((node) => ({ node, quarantined: q.includes(node) }));
  const live = ['a', 'b', 'c', 'd', 'e'];
  test.each([
    ['nobody asks', [], m([]), live, { admitted: [], refused: [] }],
    ['within the bound: all', [], m(['d', 'b']), live, { admitted: ['b', 'd'], refused: [] }],
    ['past it: node-id order', [], m(['e', 'c', 'b']), live, { admitted: ['b', 'c'], refused: ['e'] }],
    ['sticky: those admitted before stay, whatever their ids', ['e'], m(['e', 'c', 'b']), live, { admitted: ['b', 'e'], refused: ['c'] }],
    ['one who stops asking is released, the next is admitted', ['b', 'c'], m(['c', 'e']), live, { admitted: ['c', 'e'], refused: [] }],
    ['not live: not counted, not admitted', [], m(['a', 'b']), ['a', 'b', 'c'], { admitted: ['a'], refused: ['b'] }],
  ] as const)('%s', (_n, previous, members, liveNow, want) => {
    expect(admitQuarantined(previous, members, liveNow, 0.5)).toEqual(want);
  });

  test('admissionChanges names what changed', () => {
    expect(admissionChanges({ admitted: ['a'], refused: [] }, { admitted: ['b'], refused: ['c'] })).toEqual({ admitted: ['b'], refused: ['c'], released: ['a'] });
  });
});

describe('what a probe tells', () => {
  test.each([
    ['a pass', true, null, undefined, 'healthy'],
    ['a failure not confirmed yet', false, 'status', undefined, null],
    ['a failure another node saw healthy', false, 'status', { by: 'b', outcome: 'disagreed' }, 'disagreed'],
    ['a failure another node saw too', false, 'status', { by: 'b', outcome: 'agreed' }, 'agreed'],
    ['nobody could confirm', false, 'status', { by: null, outcome: 'unconfirmed', why: 'no_peer' }, null],
    ['its own stall', false, 'inconclusive', { by: 'b', outcome: 'disagreed' }, null],
  ] as const)('%s', (_n, ok, reason, confirmation, want) => expect(evidenceOf(ok, reason, confirmation as never)).toBe(want));
});

describe('a quarantined node announces no verdict change', () => {
  const spec = normalizeSpec('api', { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, confirm: false, policy: { type: 'consecutive', rise: 1, fall: 2 } });
  const by = { nodeId: 'n1', epoch: 3, rank: 0 };
  const run1 = { slot: 1_700_000_000_000, startedAt: 1_700_000_000_010, skipped: 0, intervalMs: 10_000 };
  const up: PublishedState = { verdict: { status: 'up', history: '10' }, seq: 4, published: 'up' };
  const down: PublishedState = { verdict: { status: 'down', history: '00' }, seq: 4, published: 'down' };
  test.each([
    ['would go down: held', up, failWith('status'), { status: 'up', history: '10', held: 'quarantine' }],
    ['would come back up: held too', down, pass(), { status: 'down', history: '00', held: 'quarantine' }],
    ['no change: counted as usual', up, pass(), { status: 'up', history: '101' }],
  ] as const)('%s', (_n, state, outcome, want) => {
    const { result, status } = outcomeMessages('api', spec, run1, outcome, state, by, undefined, 'quarantine');
    expect(result).toMatchObject(want);
    if (!('held' in want)) expect(result.held).toBeUndefined();
    expect(status).toBeNull();
  });
});

test('through the runner: every probe is told to the guard; while it holds, no status goes out and the failures say held "quarantine"', async () => {
  const spec = normalizeSpec('api', { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, confirm: false, policy: { type: 'consecutive', rise: 1, fall: 2 } });
  const f = fakePorts();
  let holds = false;
  const seen: string[] = [];
  f.ports.quarantine = { quarantined: () => holds, holdsVerdicts: () => holds, observe: (id, ok) => void seen.push(`${id}:${ok ? 'pass' : 'fail'}`) };
  startRunner(f, [spec]);
  await probeRounds(f, 10_000, ['ok']);
  holds = true;
  await probeRounds(f, 10_000, ['fail', 'fail', 'fail']);
  holds = false;
  await probeRounds(f, 10_000, ['fail']);
  const statuses = f.published.filter((p) => p.subject.startsWith('lookout.status.')).map((p) => p.msg.to);
  const held = f.published.filter((p) => p.subject.startsWith('lookout.result.') && p.msg.held === 'quarantine').length;
  expect(statuses).toEqual(['up', 'down']);
  expect(held).toBe(2); // the first failure changes nothing (fall 2); the 2nd and 3rd would each turn it down
  expect(seen).toEqual(['api:pass', 'api:fail', 'api:fail', 'api:fail', 'api:fail']);
});

describe('canaries', () => {
  test.each([
    ['http://127.0.0.1:8080/health', true],
    ['https://example.org/', true],
    ['10.0.0.1:53', true],
    ['ftp://example.org/', false],
    ['no port', false],
  ])('%s: %s', (target, ok) => expect(isCanary(target)).toBe(ok));

  test('specs named ~canary.<n> (never a check id), probed every canary interval', () => {
    const [a, b] = canarySpecs(['http://127.0.0.1:8080/h', '127.0.0.1:53'], 500);
    expect(a).toMatchObject({ id: canaryId(0), kind: 'http', intervalMs: 500, timeoutMs: 250 });
    expect(b).toMatchObject({ id: '~canary.1', kind: 'tcp' });
    expect(isCanaryId(a!.id) && !isCanaryId('canary-0')).toBe(true);
  });
});

describe('the assigner', () => {
  const members = (q: string[]): AssignedMember[] => ['a', 'b', 'c'].map((node) => ({ node, instance: `${node}1`, state: 'alive', quarantined: q.includes(node) }));
  async function report(actor: AnyActorRef, clock: ManualClock, q: string[], ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 100) {
      actor.send({ type: 'MEMBERS', live: ['a', 'b', 'c'], members: members(q) });
      await run(clock, 100);
    }
  }

  test('holds one quarantined member of three out of the map, refuses the second, and lets it back when it stops asking', async () => {
    const store = new FakeMapKey();
    const { clock, actor, events } = start(store, { live: ['a', 'b', 'c'], members: members([]), quarantineMaxFraction: 0.5 });
    await report(actor, clock, [], 500);
    expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b', 'c'] });
    await report(actor, clock, ['c'], 1_000);
    expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b'], quarantined: ['c'] });
    expect(store.writes.at(-1)!.shards.flat()).not.toContain('c');
    expect(events('quarantine_admitted')).toEqual([expect.objectContaining({ member: 'c' })]);
    // b asks too: past the bound (one of three), it keeps its shards; c stays admitted (sticky).
    await report(actor, clock, ['b', 'c'], 1_000);
    expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b'], quarantined: ['c'], quarantineRefused: ['b'] });
    expect(events('quarantine_refused')).toEqual([expect.objectContaining({ member: 'b' })]);
    await report(actor, clock, ['b'], 1_000);
    expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'c'], quarantined: ['b'] });
    await report(actor, clock, [], 1_000);
    expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b', 'c'] });
    expect(store.writes.at(-1)!.quarantined).toBeUndefined();
    actor.stop();
  });

  test('without the setting nobody is held out', async () => {
    const store = new FakeMapKey();
    const { clock, actor } = start(store, { live: ['a', 'b', 'c'], members: members(['c']) });
    await report(actor, clock, ['c'], 1_000);
    expect(store.writes.at(-1)).toMatchObject({ members: ['a', 'b', 'c'] });
    actor.stop();
  });
});
