// The panic guard (protocol/panic.ts): when it starts, how long it holds, that it holds once; and
// what a held failure publishes (check-messages.ts, and through the check runner).
import { normalizeSpec } from '../../checks/spec';
import { outcomeMessages, type PublishedState } from '../../protocol/check-messages';
import { PanicWatch, panicThreshold, type PanicConfig } from '../../protocol/panic';
import { failWith, fakePorts, pass, probeRounds, startRunner } from '../helpers/fake-ports';

const cfg: PanicConfig = { fraction: 0.5, minDowns: 3, windowMs: 10_000, holdMs: 30_000 };

test.each([
  ['half of 100', cfg, 100, 50],
  ['the floor for a small fleet', cfg, 4, 3],
  ['a fraction rounds up', { ...cfg, fraction: 0.25 }, 10, 3],
  ['a fraction rounds up past the floor', { ...cfg, fraction: 0.25 }, 17, 5],
  ['off', { ...cfg, fraction: 0 }, 100, Infinity],
] as const)('panicThreshold: %s', (_n, c, checks, want) => expect(panicThreshold(c, checks)).toBe(want));

test('downs within the window start a panic; older ones do not count', () => {
  const w = new PanicWatch(cfg);
  expect(w.noteDown(0, 6)).toBeNull();
  expect(w.noteDown(1000, 6)).toBeNull();
  // The first falls out of the window: still two.
  expect(w.noteDown(10_500, 6)).toBeNull();
  expect(w.panicking()).toBe(false);
  expect(w.noteDown(10_600, 6)).toEqual({ type: 'entered', downs: 3, checks: 6, threshold: 3 });
  expect(w.panicking()).toBe(true);
});

test('a panic holds for holdMs, then cools off for a window (the held downs do not start another), then watches again', () => {
  const w = new PanicWatch(cfg);
  for (let i = 0; i < 3; i++) w.noteDown(i, 6);
  expect(w.state()).toEqual({ type: 'panic', since: 2 });
  expect(w.tick(30_001)).toBeNull();
  expect(w.tick(30_002)).toEqual({ type: 'released', heldMs: 30_000 });
  expect(w.panicking()).toBe(false);
  // The held downs arrive: no second panic.
  for (let i = 0; i < 6; i++) expect(w.noteDown(30_100 + i, 6)).toBeNull();
  expect(w.state()).toEqual({ type: 'cooling', until: 40_002 });
  // After the cooling-off, a new mass failure is a new panic.
  expect(w.noteDown(40_002, 6)).toBeNull();
  expect(w.noteDown(40_003, 6)).toBeNull();
  expect(w.noteDown(40_004, 6)).toMatchObject({ type: 'entered', downs: 3 });
});

test('off: never', () => {
  const w = new PanicWatch({ ...cfg, fraction: 0 });
  for (let i = 0; i < 100; i++) expect(w.noteDown(i, 10)).toBeNull();
  expect(w.panicking()).toBe(false);
});

describe('a held failure', () => {
  const spec = normalizeSpec('api', { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, confirm: false, policy: { type: 'consecutive', rise: 1, fall: 2 } });
  const by = { nodeId: 'n1', epoch: 3, rank: 0 };
  const run = { slot: 1_700_000_000_000, startedAt: 1_700_000_000_010, skipped: 0, intervalMs: 10_000 };
  const up: PublishedState = { verdict: { status: 'up', history: '10' }, seq: 4, published: 'up' };

  test.each([
    ['would go down: held, the verdict and history as they were', up, failWith('status'), true, { status: 'up', history: '10', held: 'panic' }, null],
    ['not in panic: down', up, failWith('status'), false, { status: 'down', history: '100' }, 'down'],
    ['a first failure that does not go down: counted as usual', { ...up, verdict: { status: 'up', history: '11' } }, failWith('status'), true, { status: 'up', history: '110' }, null],
    ['already down: stays down, nothing held', { verdict: { status: 'down', history: '00' }, seq: 4, published: 'down' }, failWith('status'), true, { status: 'down', history: '000' }, null],
    ['back up is never held', { verdict: { status: 'down', history: '00' }, seq: 4, published: 'down' }, pass(), true, { status: 'up', history: '001' }, 'up'],
  ] as const)('%s', (_n, state, outcome, panic, want, to) => {
    const { result, status } = outcomeMessages('api', spec, run, outcome, state as PublishedState, by, undefined, panic);
    expect(result).toMatchObject(want);
    if (!('held' in want)) expect(result.held).toBeUndefined();
    expect(status?.to ?? null).toBe(to);
  });

  test('through the runner: held while panicking, down at the first failure after', async () => {
    const f = fakePorts();
    let panicking = false;
    f.ports.panicking = () => panicking;
    startRunner(f, [spec]);
    await probeRounds(f, 10_000, ['ok']);
    panicking = true;
    await probeRounds(f, 10_000, ['fail', 'fail', 'fail', 'fail']);
    panicking = false;
    await probeRounds(f, 10_000, ['fail']);
    const statuses = f.published.filter((p) => p.subject.startsWith('lookout.status.')).map((p) => p.msg.to);
    const held = f.published.filter((p) => p.subject.startsWith('lookout.result.') && p.msg.held === 'panic').length;
    expect(statuses).toEqual(['up', 'down']);
    expect(held).toBe(3); // the 2nd to 4th failures would each have turned it down
    expect(await f.ports.metrics.panicHeld.get()).toMatchObject({ values: [{ value: 3 }] });
  });

  test('through the runner: a group’s panic holds the downs of its checks only, and their status messages name the group', async () => {
    const f = fakePorts();
    const asked: (string | undefined)[] = [];
    f.ports.panicking = (group) => {
      asked.push(group);
      return group === 'eu';
    };
    f.ports.panicGroupLabel = 'region';
    const eu = { ...spec, id: 'eu-api', labels: { region: 'eu' } };
    const us = { ...spec, id: 'us-api', labels: { region: 'us' } };
    const none = { ...spec, id: 'bare' };
    startRunner(f, [eu, us, none]);
    await probeRounds(f, 10_000, ['ok']);
    await probeRounds(f, 10_000, ['fail', 'fail']);
    const statuses = (id: string) => f.published.filter((p) => p.subject === `lookout.status.${id}`).map((p) => p.msg);
    expect(statuses('eu-api').map((m) => m.to)).toEqual(['up']);
    expect(statuses('us-api').map((m) => m.to)).toEqual(['up', 'down']);
    expect(statuses('bare').map((m) => m.to)).toEqual(['up', 'down']);
    expect(statuses('eu-api')[0].group).toBe('eu');
    expect(statuses('us-api').map((m) => m.group)).toEqual(['us', 'us']);
    expect(statuses('bare').every((m) => !('group' in m))).toBe(true);
    expect(f.published.filter((p) => p.subject === 'lookout.result.eu-api' && p.msg.held === 'panic')).toHaveLength(1);
    expect(new Set(asked)).toEqual(new Set(['eu', 'us', undefined]));
  });
});
