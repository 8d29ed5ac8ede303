// Issue 12 §3: a CPU-starved node must not publish its own starvation as the target's failure.
// Real processes, real CPU starvation: a nats-server, a healthy HTTP target (a process of its own)
// and a `lookout node` n1, with n1 pinned to CPU 0 and everything else to CPU 1 (taskset). Once
// every check is up, busy loops are pinned beside n1 on CPU 0 (three, then one more each 30 s it
// keeps up, at most six, and up to eight while it publishes no inconclusive results:
// test/helpers/starve.ts) until it has far less CPU than its 2,000 probes/s take (700 until the lean HTTP path made a probe cheap enough that six loops left n1 keeping up).
// Decided from what the cluster publishes:
//   - no status message goes to down, and no result fails with reason `timeout` (every check has
//     rise 1 / fall 1: one counted timeout would be a down);
//   - results with reason `inconclusive` appear (the node's stall was measured), verdict unchanged;
//   - n1 says it is overloaded: cluster.status (its heartbeat);
//   - a second node n2 (on CPU 1) joins: the leader relieves n1 (the map's `relieved`), which then
//     holds fewer primary shards than n2;
// Nothing waits a fixed time: every step polls what was published, with a deadline. On a failure
// the nodes' overload and relief events are printed and their logs kept (StarveWorld.report).
import { request } from '../helpers/lookout';
import { GiveUp, waitFor } from '../helpers/poll';
import { haveTwoCpus, kill, median, NODE_CPU, OTHER_CPU, reliefView, starveUntil, starveUntilOverloaded, StarveWorld } from '../helpers/starve';

jest.setTimeout(420_000);

/** Busy loops beside n1 at most while waiting for its inconclusive results (three to six to say it is overloaded). */
const MAX_LOOPS = 8;

const CHECKS = Number(process.env.LOOKOUT_OVERLOAD_TEST_CHECKS ?? 2000);
const TIMEOUT_MS = 500;
/** A put waits for the lone node, busy probing every check put before it on one core (a slow CI host took > 5 s for one). */
const PUT_TIMEOUT_MS = 30_000;

(haveTwoCpus ? test : test.skip)('busy loops pinned beside a node: no spurious down or timeout, inconclusive results instead; it says it is overloaded and is relieved of primary shards', async () => {
  const w = new StarveWorld();
  const { loops } = w;
  try {
    const { target, nc, events } = await w.start();
    const n1 = w.startNode('n1', NODE_CPU);
    await waitFor('n1 to follow a map', () => n1.logs().some((l) => l.event === 'assignment_followed'), { timeoutMs: 30_000 });

    const ids = Array.from({ length: CHECKS }, (_, i) => `c${i}`);
    for (const id of ids) {
      const spec = { kind: 'http', target: `http://127.0.0.1:${target.port}/${id}`, intervalMs: 1000, timeoutMs: TIMEOUT_MS, policy: { type: 'consecutive', rise: 1, fall: 1 } };
      // A put that timed out or was answered `unavailable` is put again (it is idempotent), as a
      // client should: a loaded CI host once kept the lone node's answer past 30 s.
      const r = await waitFor(`put ${id} answered other than unavailable`, () => request(nc, `lookout.spec.put.${id}`, spec, PUT_TIMEOUT_MS), { timeoutMs: 4 * PUT_TIMEOUT_MS, intervalMs: 250, until: (a: any) => a.ok || a.error?.code !== 'unavailable' });
      expect(r.ok).toBe(true);
    }
    await waitFor(`all ${CHECKS} checks up`, () => {
      const up = new Set(events!.statuses().filter((s) => s.to === 'up').map((s) => s.checkId));
      if (up.size < CHECKS) throw new Error(`${up.size} of ${CHECKS} up`);
      return true;
    }, { timeoutMs: 60_000 });
    const baseline = events.results().length;
    expect(events.results().filter((r) => r.reason === 'timeout')).toEqual([]);

    // Starve n1: three busy loops on its CPU.
    const t0 = performance.now(); // for the report only: nothing is decided on it
    const starvedAt = events.messages.length;
    /** Every wait below stops at once when the starvation went out as the target's failure. */
    const spurious = () => {
      const since = events!.messages.slice(starvedAt);
      const timeouts = since.filter((m) => m.subject.startsWith('lookout.result.') && m.msg.reason === 'timeout').map((m) => m.msg);
      const downs = since.filter((m) => m.subject.startsWith('lookout.status.') && m.msg.to === 'down').map((m) => m.msg);
      if (timeouts.length || downs.length) {
        const reasons = since.filter((m) => m.subject.startsWith('lookout.result.')).reduce<Record<string, number>>((acc, m) => ((acc[m.msg.reason ?? 'ok'] = (acc[m.msg.reason ?? 'ok'] ?? 0) + 1), acc), {});
        throw new GiveUp(`the node published its starvation as the target's failure: ${timeouts.length} results with reason timeout, ${downs.length} status messages to down, results by reason ${JSON.stringify(reasons)}; first down ${JSON.stringify(downs[0])}`);
      }
    };
    const status = async () => request(nc!, 'lookout.cluster.status', '', 10_000);
    const overloaded = await starveUntilOverloaded(loops, async () => (await status()).members.find((m: any) => m.node === 'n1'), { check: spurious });
    const tOverloaded = performance.now();
    // Overloaded is 250 ms of lag for 2 s; an inconclusive result needs a stall past a quarter of
    // the 500 ms deadline. A CI run with another busy process on the machine saw n1 overloaded at
    // 377 ms, then clear 7 s later, with no inconclusive result in 60 s: one more loop each 30 s
    // without 20 of them, at most MAX_LOOPS.
    await starveUntil(
      loops,
      'inconclusive results from n1',
      () => events!.results().slice(baseline).filter((r) => r.reason === 'inconclusive' && r.node === 'n1').length,
      (n) => n >= 20,
      { max: MAX_LOOPS, check: spurious },
    );

    // A second node joins: the leader gives the overloaded n1 fewer primary shards.
    w.startNode('n2', OTHER_CPU);
    const { st: relieved } = await waitFor('a map relieving n1, with fewer primaries on n1 than on n2', async () => {
      spurious();
      const st = await status();
      return { view: reliefView(st), st };
    }, {
      timeoutMs: 90_000,
      until: ({ st }: any) => {
        const p = (id: string) => st.members.find((m: any) => m.node === id)?.shards?.primary ?? -1;
        return st.assignment?.relieved?.includes('n1') && p('n1') >= 0 && p('n1') < p('n2');
      },
    });

    const tRelieved = performance.now();
    for (const l of loops) await kill(l);
    // (Whether n1 clears once the loops stop depends on what else this machine runs: it is not
    // asserted here; test/unit/load-monitor.test.ts and overload.test.ts cover the clearing.)

    const after = events.results().slice(baseline);
    const inconclusive = after.filter((r) => r.reason === 'inconclusive');
    const timeouts = after.filter((r) => r.reason === 'timeout');
    const downs = events.messages.slice(starvedAt).filter((m) => m.subject.startsWith('lookout.status.') && m.msg.to === 'down').map((m) => m.msg);
    const reasons = after.reduce<Record<string, number>>((acc, r) => ((acc[r.reason ?? 'ok'] = (acc[r.reason ?? 'ok'] ?? 0) + 1), acc), {});
    console.log(
      `starved n1 (${loops.length} busy loops): ${after.length} results after the busy loops started, by reason ${JSON.stringify(reasons)}; stallMs of inconclusive results: median ${median(inconclusive.map((r) => r.stallMs))}; n1 said overloaded with lag ${overloaded.lagMs} ms; relieved map epoch ${relieved.epoch}: primaries ${JSON.stringify(relieved.members.map((m: any) => [m.node, m.shards.primary]))}; ` +
        `overloaded ${Math.round(tOverloaded - t0)} ms after the loops started, relieved map seen ${Math.round(tRelieved - t0)} ms after; ` +
        `inconclusive by node ${JSON.stringify(inconclusive.reduce<Record<string, number>>((acc, r) => ((acc[r.node] = (acc[r.node] ?? 0) + 1), acc), {}))}`,
    );
    expect(downs).toEqual([]);
    expect(timeouts.slice(0, 5)).toEqual([]);
    expect(inconclusive.length).toBeGreaterThanOrEqual(20);
    // An inconclusive result keeps the verdict (every check was up) and carries the stall it measured.
    // (n2 may publish some too: CPU 1 is shared with the target, NATS and whatever else runs here.)
    expect(inconclusive.filter((r) => r.node === 'n1').length).toBeGreaterThanOrEqual(20);
    for (const r of inconclusive) {
      expect(r).toMatchObject({ ok: false, status: 'up' });
      expect(r.stallMs).toBeGreaterThan(TIMEOUT_MS / 4);
    }
    expect(n1.logs().some((l) => l.event === 'node_overloaded')).toBe(true);
  } catch (err) {
    w.report();
    throw err;
  } finally {
    await w.stop();
  }
});
