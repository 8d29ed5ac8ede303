// Provisional takeover (issue 11 §2): a dead node's checks resume without waiting for a leader.
// The leader's lease is set long here (as with NATS clustered, where the lease must ride out
// JetStream's own re-election), so a new map comes only after it runs out. SIGKILL the leader:
// the survivors' failure detectors say dead long before that, and the next owners by rank run
// its checks under the map they already follow — judged from what is published: results from a
// survivor while no survivor follows a newer map (under the old map, published one epoch past it), a
// `provisional_takeover` line, and,
// once the new leader's map arrives, every check keeps every slot once with its seq unbroken.
import { ownerOf } from '../helpers/cluster';
import { waitFor } from '../helpers/poll';
import { scenarioTest } from '../helpers/scenario';

const I = 1000;
const NODES = ['n1', 'n2', 'n3'];
/** Long against the test profile's 1 s dead threshold: the lease cannot be what ends the gap. */
const LEASE_MS = 20_000;

scenarioTest(
  'SIGKILL the leader under a long lease: the next owners by rank run its checks under the old map, before any new leader writes one',
  { nodes: NODES, checks: 60, intervalMs: I, env: { LOOKOUT_LEASE_MS: String(LEASE_MS), LOOKOUT_RENEW_MS: '1000' } },
  async (s) => {
    const st = await s.cluster.status();
    const leader = st.leader.node as string;
    const epoch = st.assignment.epoch as number;
    const survivors = NODES.filter((n) => n !== leader);
    const moved = s.ids.filter((id) => ownerOf(s.events, id) === leader);
    expect(moved.length).toBeGreaterThan(5);
    const seen = s.events.results().length;

    await s.cluster.kill(leader);

    // Every check of the dead leader published by a survivor while no survivor follows a newer map
    // (none can be written until the lease runs out): taken over under the map they already had,
    // published one epoch past it (a wrongly-dead owner's late results stay recognisably older).
    const taken = await waitFor('each of the dead leader\'s checks published by a survivor', () => {
      const late = s.events.results().slice(seen);
      const byCheck = new Map<string, { node: string; epoch: number }>();
      for (const r of late) if (r.node !== leader && moved.includes(r.checkId) && !byCheck.has(r.checkId)) byCheck.set(r.checkId, r);
      const missing = moved.filter((id) => !byCheck.has(id));
      if (missing.length) throw new Error(`${missing.length} of ${moved.length} not yet taken over, e.g. ${missing.slice(0, 3).join(', ')}`);
      return byCheck;
    });
    const newerMap = survivors.filter((n) => s.cluster.logs(n).some((l) => l.event === 'assignment_followed' && l.epoch > epoch));
    expect(newerMap).toEqual([]);
    const offEpoch = [...taken].filter(([, r]) => r.epoch !== epoch + 1).map(([id, r]) => `${id}: ${r.node} e${r.epoch}`);
    expect(offEpoch).toEqual([]);
    for (const [, r] of taken) expect(survivors).toContain(r.node);
    const took = survivors.filter((n) => s.cluster.logs(n).some((l) => l.event === 'provisional_takeover' && l.dead?.includes(leader)));
    expect(took.length).toBeGreaterThan(0);

    // The new leader's map confirms it; from then on every check keeps every slot once.
    const after = await s.cluster.settled(survivors);
    expect(after.assignment.epoch).toBeGreaterThan(epoch);
    const to = Date.now() + 2 * I;
    await s.awaitSlot(s.ids, to);
    const rest = s.slots(s.ids.filter((id) => !moved.includes(id)), { to });
    expect(rest.duplicates).toEqual([]);
    expect(rest.gaps).toEqual([]);
    expect(rest.seqBreaks).toEqual([]);
    const report = s.slots(moved, { to }, { failoverFrom: leader });
    expect(report.duplicates).toEqual([]);
    expect(report.gaps).toEqual([]);
    expect(report.seqBreaks).toEqual([]);
    // The provisional part ends once a map without the dead leader is followed.
    for (const n of took) {
      await waitFor(`${n}: provisional takeover ended`, () => {
        const l = s.cluster.logs(n).find((x) => x.event === 'provisional_takeover_ended');
        if (!l) throw new Error(`${n}'s last events: ${s.cluster.logs(n).slice(-4).map((x) => x.event).join(', ')}`);
        return l;
      });
    }
  },
);
