// The panic guard (issue 13 §4), end to end: a real nats-server, 2 real node processes, 12 checks,
// then every target fails at once. Settings for the test: a panic at 50% of the checks (at least 3)
// within 10 s, held 4 s. Decided from what the cluster published:
//   - the leader announces `lookout.cluster.panic` {active: true}, then {active: false};
//   - some checks' failures that would have turned them down are published `held: "panic"` with
//     the verdict still up, and each such check goes down only after its held results (by seq);
//   - once released, every check is down: the hold is bounded, nothing is lost.
import { putChecks } from '../helpers/cluster';
import { expectHeldBeforeDown } from '../helpers/panic-held';
import { perNodeTarget } from '../helpers/per-node-target';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;
const env = { LOOKOUT_PANIC_PERCENT: '50', LOOKOUT_PANIC_MIN_DOWNS: '3', LOOKOUT_PANIC_WINDOW_MS: '10000', LOOKOUT_PANIC_HOLD_MS: '4000' };

scenarioTest('a mass failure: the first downs go out, the rest are held for the hold time and then go out; the leader announces the panic and its release', { nodes: ['n1', 'n2'], intervalMs: I, env }, async (s) => {
  const target = await perNodeTarget();
  s.onCleanup(() => target.close());
  const ids = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, 'pg', 12, I, { policy: { type: 'consecutive', rise: 1, fall: 2 } });
  for (const id of ids) await waitFor(`${id} up`, () => s.events.statuses(id).find((m) => m.to === 'up'), { timeoutMs: 60_000, intervalMs: 100 });

  for (const id of ids) target.downFor.set(id, 'all');
  const panics = () => s.events.messages.filter((m) => m.subject === 'lookout.cluster.panic').map((m) => m.msg);
  const entered = await waitFor('the panic announced', () => panics().find((p) => p.active === true), { timeoutMs: 60_000, intervalMs: 100 });
  expect(entered).toMatchObject({ checks: 12, threshold: 6, holdMs: 4000 });
  expect(entered.downs).toBeGreaterThanOrEqual(6);
  await waitFor('the panic released', () => panics().find((p) => p.active === false), { timeoutMs: 60_000, intervalMs: 100 });
  for (const id of ids) await waitFor(`${id} down`, () => s.events.statuses(id).find((m) => m.to === 'down'), { timeoutMs: 60_000, intervalMs: 100 });

  expectHeldBeforeDown(s.events, ids);
  // One down per check; nothing else flipped.
  for (const id of ids) expect(s.events.statuses(id).map((m) => m.to)).toEqual(['up', 'down']);
  expect(panics().map((p) => p.active)).toEqual([true, false]);
  // The guards heard the downs as notices (lookout._node.down), one per status saying down, and
  // nothing of the ups: what every node hears is the downs, not every verdict change.
  const notices = () => s.events.messages.filter((m) => m.subject === 'lookout._node.down').map((m) => m.msg.checkId as string).sort();
  await waitFor('a down notice for each status saying down', notices, { timeoutMs: 30_000, intervalMs: 100, until: (n) => n.length >= ids.length });
  expect(notices()).toEqual([...ids].sort());
});
