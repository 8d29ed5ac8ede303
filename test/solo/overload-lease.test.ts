// Issue 12 §3, the lease: a CPU-starved leader hands the lease to a healthy node, the cluster does
// not churn, and the starved node clears once the starvation ends. Real processes, real CPU
// starvation (test/helpers/starve.ts): a nats-server and a healthy HTTP target on CPU 1, node n1 on
// CPU 0, 2,000 HTTP checks at 1 s (700 until the lean HTTP path made a probe cheap enough that six busy loops left n1 keeping up). n1 starts alone and leads; three busy loops are pinned beside it
// (one more each time it still keeps up after 30 s, at most six) until it says it is overloaded;
// then n2 joins on CPU 1. Decided from what the cluster publishes
// (`lookout.cluster.leader` events with their terms, cluster.status, the nodes' logs):
//   - n1 steps down with reason `overloaded`, and n2 is elected with a higher term;
//   - every term has one leader (the `elected` events), and after n2's election leadership moves
//     only by an overload hand-over (no churn: no lease expires, nobody takes it, an overloaded n1
//     does not stand again). While n2 stays clear nobody follows it; on a machine busy enough that
//     n2 itself says overloaded (its CPU is shared with the nats-server, the target, this process
//     and whatever else runs), n2 may hand the lease back to a recovered n1 — that is the rule
//     working, and the test accepts it only as a `stepped_down` for `overloaded` by the leader
//     before each later `elected`; while n1 is still starved, such an n2 relieves nobody (no room:
//     its assigner logs `relief_withheld`), which the test accepts in place of n2's relief map;
//   - n1 is never declared dead (its late heartbeats are tolerated: LOOKOUT_OVERLOAD_GRACE_MS);
//   - once the busy loops are killed, n1 says it is clear in cluster.status, and the leader's map
//     gives it its full share back (not relieved).
// Nothing waits a fixed time: every step polls what was published, with a deadline. On a failure
// the nodes' overload and relief events are printed and their logs kept (StarveWorld.report).
import { request } from '../helpers/lookout';
import { waitFor } from '../helpers/poll';
import { haveTwoCpus, kill, NODE_CPU, OTHER_CPU, reliefView, starveUntilOverloaded, StarveWorld } from '../helpers/starve';

jest.setTimeout(420_000);

const CHECKS = Number(process.env.LOOKOUT_OVERLOAD_TEST_CHECKS ?? 1000);
/** Busy loops beside n1 at most (three to start with). */
const MAX_LOOPS = 10;

interface LeaderEvent {
  event: 'elected' | 'stepped_down';
  node: string;
  term: number;
  reason?: string;
}

(haveTwoCpus ? test : test.skip)('a starved leader hands the lease to a healthy node (higher term, one leader per term, no churn), is not declared dead, and clears once the starvation ends', async () => {
  const w = new StarveWorld();
  const { loops } = w;
  try {
    // No results collected: this process shares n2's CPU (StarveWorld.start).
    const { target, nc, events } = await w.start(['lookout.cluster.>', 'lookout.status.>', 'lookout._node.>']);
    const leaderEvents = () => events!.messages.filter((m) => m.subject === 'lookout.cluster.leader').map((m) => m.msg as LeaderEvent);
    const status = async () => request(nc!, 'lookout.cluster.status', '', 10_000);
    /** The status, led by what relief turns on (what a timeout prints). */
    const reliefStatus = async () => {
      const st = await status();
      return { view: reliefView(st), st };
    };
    const n1 = w.startNode('n1', NODE_CPU);
    await waitFor('n1 elected', () => leaderEvents().find((e) => e.event === 'elected' && e.node === 'n1'), { timeoutMs: 30_000 });
    await waitFor('n1 to follow a map', () => n1.logs().some((l) => l.event === 'assignment_followed'), { timeoutMs: 30_000 });

    for (let i = 0; i < CHECKS; i++) {
      const r = await request(nc, `lookout.spec.put.c${i}`, { kind: 'http', target: `http://127.0.0.1:${target.port}/c${i}`, intervalMs: 1000, timeoutMs: 500 }, 30_000);
      expect(r.ok).toBe(true);
    }
    await waitFor(`all ${CHECKS} checks up`, () => new Set(events!.statuses().filter((s) => s.to === 'up').map((s) => s.checkId)).size, { timeoutMs: 60_000, until: (n) => n >= CHECKS });

    // Starve n1, alone: it says overloaded, and keeps leading (nobody to hand the lease to). Three
    // busy loops usually do it, but one run of five left n1 keeping
    // up (lag 36 ms): while it does not say overloaded, one more loop, up to MAX_LOOPS.
    const t = { starved: performance.now(), overloaded: 0, joined: 0, handedOver: 0, stopped: 0, cleared: 0 }; // for the report only: nothing is decided on them
    await starveUntilOverloaded(loops, async () => (await status()).members.find((m: any) => m.node === 'n1'), { max: MAX_LOOPS });
    t.overloaded = performance.now();
    const n1TermsAlone = leaderEvents().filter((e) => e.event === 'elected' && e.node === 'n1').map((e) => e.term);

    // A healthy node joins: n1 hands the lease over to it.
    const joinedAt = events.messages.length;
    const n2 = w.startNode('n2', OTHER_CPU);
    t.joined = performance.now();
    const n2Elected = await waitFor(
      'n1 to step down (overloaded) and n2 to be elected',
      () => {
        const ev = leaderEvents();
        const down = ev.find((e) => e.event === 'stepped_down' && e.node === 'n1' && e.reason === 'overloaded');
        const up = ev.find((e) => e.event === 'elected' && e.node === 'n2');
        return { down, up, ev };
      },
      { timeoutMs: 90_000, until: (r) => r.down && r.up },
    );
    t.handedOver = performance.now();
    const stepDown = n2Elected.down!;
    const n2Term = n2Elected.up!.term;
    // n2's map: written under its term, n1 relieved (it still says overloaded) — unless n2 is
    // overloaded too (see the header): then it hands the lease on to a recovered n1, or, while n1
    // still says overloaded, its assigner withholds relief for want of room (overload-relief.ts:
    // moving shards between two overloaded members only adds handovers). The landing CI of 8d8bab3
    // took that last way: n2 said overloaded 0.4 s after its election and stayed so for 60 s.
    const n2RelievesN1 = (st: any): boolean => st.assignment?.term === n2Term && st.assignment?.relieved?.includes('n1') === true;
    const n2HandedOn = () => leaderEvents().some((e) => e.event === 'stepped_down' && e.node === 'n2' && e.reason === 'overloaded');
    const n2WithheldNoRoom = () => n2.logs().some((l) => l.event === 'node_overloaded') && n2.logs().some((l) => l.event === 'relief_withheld' && l.reason === 'no_room' && l.members?.includes('n1'));
    const n2Relief = await waitFor('a map from n2 that relieves n1 (or n2, overloaded too, stepping down or withholding relief for want of room)', reliefStatus, {
      timeoutMs: 60_000,
      until: ({ st }: any) => n2RelievesN1(st) || n2HandedOn() || n2WithheldNoRoom(),
    });
    const n2Way = n2RelievesN1(n2Relief.st) ? 'relieved n1' : n2HandedOn() ? 'handed the lease on' : 'withheld relief (no room)';
    const starvedLeaderEvents = leaderEvents().length;

    for (const l of loops) await kill(l);
    t.stopped = performance.now();
    const cleared = await waitFor('n1 to say it is clear in cluster.status', async () => (await status()).members.find((m: any) => m.node === 'n1'), {
      timeoutMs: 120_000,
      until: (m: any) => m?.overloaded === false,
    });
    t.cleared = performance.now();
    // The leader gives it its full share back: published proof that the cluster ran on after the recovery.
    const { st: unrelieved } = await waitFor('a map (term ≥ n2\'s) that no longer relieves n1', reliefStatus, {
      timeoutMs: 90_000,
      until: ({ st }: any) => st.assignment?.term >= n2Term && Array.isArray(st.assignment?.relieved) && !st.assignment.relieved.includes('n1'),
    });

    const ev = leaderEvents();
    const elected = ev.filter((e) => e.event === 'elected');
    const byTerm = new Map<number, Set<string>>();
    for (const e of elected) byTerm.set(e.term, (byTerm.get(e.term) ?? new Set()).add(e.node));
    const suspicions = events.messages.slice(joinedAt).filter((m) => m.subject === 'lookout._node.suspect' && m.msg.node === 'n1').length;
    const refuted = n1.logs().filter((l) => l.event === 'suspicion_refuted').length;
    const deadN1 = [...n2.logs(), ...n1.logs()].filter((l) => l.event === 'member_dead' && l.member === 'n1');
    const n1Suspects = n1.logs().filter((l) => l.event === 'member_suspect').length;
    const n2Overloaded = n2.logs().filter((l) => l.event === 'node_overloaded').length;
    console.log(
      `lease under starvation (${loops.length} busy loops): n1 terms while alone ${JSON.stringify(n1TermsAlone)}; n1 stepped down in term ${stepDown.term} (reason ${stepDown.reason}); n2 elected in term ${n2Term}; ` +
        `elected events ${JSON.stringify(elected.map((e) => [e.node, e.term]))} (${starvedLeaderEvents} leader events while starved, ${ev.length} in all); ` +
        `after n2 joined: ${suspicions} suspicions of n1 published, n1 refuted ${refuted} in its whole life, n1 suspected others ${n1Suspects} times, n1 declared dead ${deadN1.length} times; ` +
        `n2 said overloaded ${n2Overloaded} times and ${n2Way}; n1 overloaded ${Math.round(t.overloaded - t.starved)} ms after the loops started; n2 elected ${Math.round(t.handedOver - t.joined)} ms after it was started (n1's step-down seen by then); n1 clear ${Math.round(t.cleared - t.stopped)} ms after the loops were killed, with lag ${cleared.lagMs} ms; full share back in map epoch ${unrelieved.assignment.epoch}: primaries ${JSON.stringify(unrelieved.members.map((m: any) => [m.node, m.shards?.primary]))}`,
    );

    // One leader per term, and a higher term for the successor.
    for (const [term, who] of byTerm) expect({ term, leaders: [...who] }).toEqual({ term, leaders: [...who].slice(0, 1) });
    expect(n2Term).toBeGreaterThan(stepDown.term);
    expect(n2Term).toBeGreaterThan(Math.max(...n1TermsAlone));
    // No churn: after n2's election the lease moves only by an overload hand-over of the leader.
    expect(handovers(ev.slice(ev.indexOf(n2Elected.up!)))).toEqual({ unjustified: [] });
    if (n2Overloaded === 0) expect(ev.slice(ev.indexOf(n2Elected.up!) + 1)).toEqual([]);
    // n1 said why, in its log; and it was never declared dead (its shards were not yanked).
    expect(n1.logs().filter((l) => l.event === 'leader_stepped_down').map((l) => l.reason)).toContain('overloaded');
    expect(deadN1).toEqual([]);
  } catch (err) {
    w.report();
    throw err;
  } finally {
    await w.stop();
  }
});

/**
 * Walks leader events from an `elected`: each later `elected` must follow a `stepped_down` for
 * `overloaded` by the leader of the time; anything else (a lease that expired or was taken, a step
 * down by a non-leader, an election while someone leads) is listed.
 */
function handovers(events: LeaderEvent[]): { unjustified: LeaderEvent[] } {
  const unjustified: LeaderEvent[] = [];
  let leader: string | null = events[0]?.node ?? null;
  for (const e of events.slice(1)) {
    if (e.event === 'stepped_down') {
      if (e.node !== leader || e.reason !== 'overloaded') unjustified.push(e);
      if (e.node === leader) leader = null;
    } else {
      if (leader !== null) unjustified.push(e);
      leader = e.node;
    }
  }
  return { unjustified };
}
