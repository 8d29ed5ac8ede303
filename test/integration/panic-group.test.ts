// The panic guard per labelled group (issue 13 §4; protocol/panic-groups.ts), end to end: a real
// nats-server, 2 real node processes grouping checks by their `region` label, 6 checks in `eu` and
// 14 in `us`. Settings: a panic at 50% (at least 3) within 10 s, held 4 s. Every `eu` target fails
// at once: 6 downs are far from the fleet's threshold (10 of 20) but past eu's (3 of 6). Decided
// from what the cluster published:
//   - the members' heartbeats count the groups (eu 6, us 14 summed over the nodes);
//   - the leader announces `lookout.cluster.panic` {active: true, group: "eu"}, then its release,
//     and no panic of the whole fleet;
//   - eu failures that would have turned a check down are published `held: "panic"` (verdict still
//     up), each before that check's down (by seq); once released every eu check is down;
//   - eu's status messages name the group; the us checks never leave up.
import { putChecks } from '../helpers/cluster';
import { expectHeldBeforeDown } from '../helpers/panic-held';
import { perNodeTarget } from '../helpers/per-node-target';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;
const env = { LOOKOUT_PANIC_GROUP_LABEL: 'region', LOOKOUT_PANIC_PERCENT: '50', LOOKOUT_PANIC_MIN_DOWNS: '3', LOOKOUT_PANIC_WINDOW_MS: '10000', LOOKOUT_PANIC_HOLD_MS: '4000' };

scenarioTest('one group fails wholesale: its downs are held for the hold time, the fleet and the other group are not', { nodes: ['n1', 'n2'], intervalMs: I, env }, async (s) => {
  const target = await perNodeTarget();
  s.onCleanup(() => target.close());
  const policy = { type: 'consecutive', rise: 1, fall: 2 };
  const eu = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, 'eu', 6, I, { policy, labels: { region: 'eu' } });
  const us = await putChecks(s.cluster.nc, { url: target.url } as HttpTarget, 'us', 14, I, { policy, labels: { region: 'us' } });
  for (const id of [...eu, ...us]) await waitFor(`${id} up`, () => s.events.statuses(id).find((m) => m.to === 'up'), { timeoutMs: 60_000, intervalMs: 100 });

  // The group sizes every node decides by: the sum of the members' latest heartbeats.
  const beats = new Map<string, { groups?: Record<string, number> }>();
  const sub = s.cluster.nc.subscribe('lookout._node.heartbeat', { callback: (_e, m) => void beats.set(m.json<{ node: string }>().node, m.json()) });
  s.onCleanup(() => sub.unsubscribe());
  const sizes = () => {
    const sum: Record<string, number> = {};
    for (const b of beats.values()) for (const [g, n] of Object.entries(b.groups ?? {})) sum[g] = (sum[g] ?? 0) + n;
    return sum;
  };
  await waitFor('the heartbeats count eu 6 and us 14', () => (beats.size === 2 && sizes().eu === 6 && sizes().us === 14 ? sizes() : undefined), { timeoutMs: 30_000, intervalMs: 100 });

  for (const id of eu) target.downFor.set(id, 'all');
  const panics = () => s.events.messages.filter((m) => m.subject === 'lookout.cluster.panic').map((m) => m.msg);
  const entered = await waitFor('the group panic announced', () => panics().find((p) => p.active === true), { timeoutMs: 60_000, intervalMs: 100 });
  expect(entered).toMatchObject({ group: 'eu', checks: 6, threshold: 3, holdMs: 4000 });
  await waitFor('the group panic released', () => panics().find((p) => p.active === false), { timeoutMs: 60_000, intervalMs: 100 });
  for (const id of eu) await waitFor(`${id} down`, () => s.events.statuses(id).find((m) => m.to === 'down'), { timeoutMs: 60_000, intervalMs: 100 });

  expectHeldBeforeDown(s.events, eu);
  for (const id of eu) {
    expect(s.events.statuses(id).map((m) => m.to)).toEqual(['up', 'down']);
    expect(s.events.statuses(id).map((m) => m.group)).toEqual(['eu', 'eu']);
  }
  // The us checks kept probing all along, and never left up.
  const seen = new Map(us.map((id) => [id, s.events.results(id).length]));
  for (const id of us) await waitFor(`${id} probed twice more after eu went down`, () => s.events.results(id).length >= seen.get(id)! + 2 || undefined, { timeoutMs: 30_000, intervalMs: 100 });
  for (const id of us) expect(s.events.results(id).filter((r) => !r.ok)).toEqual([]);
  for (const id of us) expect(s.events.statuses(id).map((m) => m.to)).toEqual(['up']);
  // Only eu panicked: every announcement names it.
  expect(panics().map((p) => [p.group, p.active])).toEqual([
    ['eu', true],
    ['eu', false],
  ]);
});
