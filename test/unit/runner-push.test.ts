// Push checks through the real check runner and handover (actors/runner-push.ts): two runners on
// one in-memory bus, each node with its own manual clock and push registry. The holder owns the
// check while it runs it and gives it up with its release; the release carries the age of the last
// report; the new owner continues it (decided from the published results' `push.lastReportAgoMs`
// and reason); a takeover without a release publishes `inconclusive` until a full interval + grace.
import { createActor } from 'xstate';
import { checkRunnerMachine, type RunnerStart } from '../../actors/check-runner';
import { normalizeSpec } from '../../checks/spec';
import { PushRegistry } from '../../runtime/push-registry';
import { FakeHub } from '../helpers/fake-bus';
import { fakePorts, type FakePorts } from '../helpers/fake-ports';

const I = 10_000;
const GRACE = 25_000;
const spec = normalizeSpec('job', { kind: 'push', intervalMs: I, push: { graceMs: GRACE } });
const BASE = 1_700_000_000_000;

function node(hub: FakeHub, nodeId: string, start = BASE): { f: FakePorts; reg: PushRegistry } {
  const f = fakePorts({ start, hub, nodeId });
  const reg = new PushRegistry({ clock: f.clock, maxBytes: 4096, perSecond: 5 });
  f.ports.push = reg;
  f.auto = (s) => reg.evaluate(s);
  return { f, reg };
}

function runner(f: FakePorts, gen: number, start: RunnerStart = { type: 'fresh' }) {
  const actor = createActor(checkRunnerMachine, { input: { shard: 0, rank: 0, gen, epoch: gen, specs: [spec], start, ports: f.ports }, clock: f.clock });
  actor.start();
  return actor;
}

const results = (f: FakePorts) => f.published.filter((p) => p.subject === 'lookout.result.job').map((p) => p.msg);

async function advance(nodes: FakePorts[], totalMs: number, stepMs = 100): Promise<void> {
  for (let t = 0; t < totalMs; t += stepMs) {
    for (const f of nodes) f.clock.advance(stepMs);
    await nodes[0]!.hub.settle(20);
  }
}

const report = (reg: PushRegistry, payload = '') => reg.receive('job', new TextEncoder().encode(payload));

test('the runner owns its push check while it runs it: inconclusive before the first report, then ok', async () => {
  const hub = new FakeHub();
  const a = node(hub, 'a');
  runner(a.f, 1);
  await advance([a.f], I + 100);
  expect(a.reg.size).toBe(1);
  expect(results(a.f).at(-1)).toMatchObject({ ok: false, reason: 'inconclusive', push: { lastReportAgoMs: null } });
  expect(report(a.reg)).toBe('accepted');
  await advance([a.f], I);
  expect(results(a.f).at(-1)).toMatchObject({ ok: true, status: 'up', push: { signal: 'ok' } });
});

test('a handover carries the age of the last report; the new owner continues it and publishes missed when it passes', async () => {
  const hub = new FakeHub();
  const a = node(hub, 'a');
  const holder = runner(a.f, 1);
  await advance([a.f], I);
  report(a.reg);
  await advance([a.f], 2 * I); // results with the report 10–20 s old
  const lastOld = results(a.f).at(-1);
  expect(lastOld).toMatchObject({ ok: true, push: { signal: 'ok' } });
  // The new owner's monotonic clock starts at 0 now: nothing to do with the holder's (30 s on).
  const b = node(hub, 'b', a.f.clock.now());
  const claimant = runner(b.f, 2, { type: 'claim', holder: 'a' });
  await advance([a.f, b.f], 3 * I);
  expect(['released', 'stopped']).toContain(holder.getSnapshot().value);
  expect(claimant.getSnapshot().value).toBe('running');
  expect([a.reg.size, b.reg.size]).toEqual([0, 1]); // the holder gave the deadline up with its release
  const byNew = results(b.f);
  expect(byNew[0].seq).toBe(lastOld.seq + 1);
  // Never null: the age travelled. It keeps growing from where the holder's left off.
  expect(byNew.every((r) => r.push.lastReportAgoMs !== null)).toBe(true);
  expect(byNew[0].push.lastReportAgoMs).toBeGreaterThan(lastOld.push.lastReportAgoMs);
  // The report was heard 30 s before the release at the latest; the deadline is 35 s.
  await advance([a.f, b.f], 2 * I);
  const missed = results(b.f).find((r) => r.reason === 'missed');
  expect(missed).toBeDefined();
  expect(missed.push.lastReportAgoMs).toBeGreaterThan(I + GRACE);
  // Reports now reach the new owner only.
  expect(report(a.reg)).toBe('not_owned');
  expect(report(b.reg)).toBe('accepted');
});

test('a takeover without a release: inconclusive (the resumed verdict stays) until a full interval + grace on its own clock, then missed', async () => {
  const hub = new FakeHub();
  const b = node(hub, 'b');
  // The stream says the check was down (its dead owner published missed).
  b.f.history.set('job', { seq: 7, status: 'down', history: '0', slot: BASE - I });
  runner(b.f, 2, { type: 'takeover', from: 'a', heldDead: true });
  await advance([b.f], I + GRACE - 1_000);
  const before = results(b.f);
  expect(before.length).toBeGreaterThanOrEqual(2);
  expect(before.every((r) => r.reason === 'inconclusive' && r.status === 'down')).toBe(true);
  expect(b.f.published.filter((p) => p.subject === 'lookout.status.job')).toEqual([]);
  await advance([b.f], 2 * I);
  expect(results(b.f).at(-1)).toMatchObject({ reason: 'missed', status: 'down' });
});
