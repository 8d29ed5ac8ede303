// Degraded and flapping (issue 15) end to end: a real nats-server, a real node process, and a real
// local HTTP server whose latency the test sets per check and whose answers alternate on request.
// Decided from what the node published on `lookout.result.<id>` / `lookout.status.<id>` (seq,
// flags, from/to), never from time:
//   - a check whose answers turn slow (past degradedAfterMs, within timeoutMs) goes up → degraded
//     with reason `latency`, its results say `degraded: true`, and fast answers bring it back up;
//   - a check whose answers alternate 200 / 503 publishes one change to `flapping`, nothing more
//     while the storm lasts, and one change out of it once the answers settle.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ownerOf, putChecks } from '../helpers/cluster';
import { waitFor } from '../helpers/poll';
import { scenarioTest, type Scenario } from '../helpers/scenario';
import type { HttpTarget } from '../helpers/targets';

const I = 1000;

/** A target answering each check's path as the test sets it: fast, slow (delayMs), or alternating 200 / 503. */
async function controlledTarget() {
  const mode = new Map<string, { delayMs?: number; alternate?: boolean }>();
  const count = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const id = /^\/c\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
    const m = mode.get(id) ?? {};
    const n = (count.get(id) ?? 0) + 1;
    count.set(id, n);
    const status = m.alternate && n % 2 === 0 ? 503 : 200;
    const answer = () => res.writeHead(status, { 'content-length': '2' }).end('ok');
    if (!m.delayMs) return answer();
    const timer = setTimeout(answer, m.delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  server.on('clientError', (_e, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    target: { url } as HttpTarget,
    mode,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const changes = (s: Scenario, id: string) => s.events.statuses(id).map((m: { from: string; to: string }) => `${m.from}→${m.to}`);
const resultsAfter = (s: Scenario, id: string, seq: number) => s.events.results(id).filter((r: { seq: number }) => r.seq > seq);

scenarioTest('degraded on slow answers and back; one flapping change for a storm and one when it settles', { nodes: ['n1'], intervalMs: I }, async (s) => {
  const t = await controlledTarget();
  s.onCleanup(() => t.close());
  const policy = { type: 'consecutive', rise: 1, fall: 1 };
  const [slow] = await putChecks(s.cluster.nc, t.target, 'dg', 1, I, { timeoutMs: 900, degradedAfterMs: 300, confirm: false, policy });
  const [storm] = await putChecks(s.cluster.nc, t.target, 'fl', 1, I, { timeoutMs: 900, confirm: false, policy, flap: { low: 20, high: 30 } });
  const opts = { timeoutMs: 90_000, intervalMs: 100 };
  for (const id of [slow!, storm!]) await waitFor(`${id} up`, () => s.events.statuses(id).find((m: { to: string }) => m.to === 'up'), opts);

  // Degraded: slow answers (600 ms: past 300, within the 900 ms timeout), then fast ones again.
  t.mode.set(slow!, { delayMs: 600 });
  const toDegraded = await waitFor(`${slow} degraded`, () => s.events.statuses(slow!).find((m: { to: string }) => m.to === 'degraded'), opts);
  expect(toDegraded).toMatchObject({ from: 'up', to: 'degraded', reason: 'latency' });
  const first = s.events.results(slow!).find((r: { seq: number }) => r.seq === toDegraded.seq);
  expect(first).toMatchObject({ ok: true, status: 'up', degraded: true });
  expect(first.latencyMs).toBeGreaterThan(300);
  await waitFor(`${slow}: 2 more slow results`, () => resultsAfter(s, slow!, toDegraded.seq), { ...opts, until: (rs) => rs.length >= 2 });
  t.mode.set(slow!, {});
  const back = await waitFor(`${slow} back up`, () => s.events.statuses(slow!).find((m: { from: string; to: string }) => m.from === 'degraded' && m.to === 'up'), opts);
  expect(s.events.results(slow!).find((r: { seq: number }) => r.seq === back.seq)).toMatchObject({ ok: true, status: 'up' });
  expect(s.events.results(slow!).find((r: { seq: number }) => r.seq === back.seq).degraded).toBeUndefined();
  // Every slow result in between was degraded: no status flipped up and back.
  expect(changes(s, slow!)).toEqual(['unknown→up', 'up→degraded', 'degraded→up']);

  // Flapping: answers alternate 200 / 503.
  t.mode.set(storm!, { alternate: true });
  const onset = await waitFor(`${storm} flapping`, () => s.events.statuses(storm!).find((m: { to: string }) => m.to === 'flapping'), opts);
  expect(onset.reason).toBeNull();
  expect(onset.message).toMatch(/% state change over the last 21 results/);
  // The storm goes on for 10 more results: all flapping, no status.
  const during = await waitFor(`${storm}: 10 results after onset`, () => resultsAfter(s, storm!, onset.seq), { ...opts, until: (rs) => rs.length >= 10 });
  expect(during.every((r: { flapping?: boolean }) => r.flapping === true)).toBe(true);
  expect(new Set(during.map((r: { ok: boolean }) => r.ok))).toEqual(new Set([true, false])); // it really alternated
  expect(s.events.statuses(storm!).filter((m: { seq: number }) => m.seq > onset.seq)).toEqual([]);
  const flapsBefore = changes(s, storm!).filter((c) => c.endsWith('→flapping'));
  expect(flapsBefore).toHaveLength(1);

  // Settled: steady 200s until flapping ends (at most 21 results), one change to up.
  t.mode.set(storm!, {});
  const settle = await waitFor(`${storm} settled`, () => s.events.statuses(storm!).find((m: { from: string }) => m.from === 'flapping'), opts);
  expect(settle.to).toBe('up');
  const after = s.events.statuses(storm!).filter((m: { seq: number }) => m.seq >= onset.seq);
  expect(after.map((m: { from: string; to: string }) => `${m.from}→${m.to}`)).toEqual([`${onset.from}→flapping`, 'flapping→up']);
  expect(s.events.results(storm!).find((r: { seq: number }) => r.seq === settle.seq).flapping).toBeUndefined();
});

// A flapping check that changes owner — by a planned move (its holder leaves: the release carries
// the flag) and by a crash (SIGKILL: the next owner resumes from the last published result) — stays
// flapping on its new owner: no second change to flapping, and one change out of it when it settles.
// The panic guard is off: six checks failing together would be held as a panic, and a held failure
// enters no history (check-messages.ts), so they would never be seen flapping.
scenarioTest('flapping survives a planned move and a crash: no change republished, one settle change', { nodes: ['n1', 'n2', 'n3'], intervalMs: I, env: { LOOKOUT_PANIC_PERCENT: '0' } }, async (s) => {
  const t = await controlledTarget();
  s.onCleanup(() => t.close());
  const opts = { timeoutMs: 120_000, intervalMs: 100 };
  const ids = await putChecks(s.cluster.nc, t.target, 'mv', 6, I, { timeoutMs: 900, confirm: false, policy: { type: 'consecutive', rise: 1, fall: 1 }, flap: { low: 20, high: 30 } });
  for (const id of ids) await waitFor(`${id} up`, () => s.events.statuses(id).find((m: { to: string }) => m.to === 'up'), opts);
  for (const id of ids) t.mode.set(id, { alternate: true });
  const onset = new Map<string, { seq: number; epoch: number }>();
  for (const id of ids) onset.set(id, await waitFor(`${id} flapping`, () => s.events.statuses(id).find((m: { to: string }) => m.to === 'flapping'), opts));

  const flapped = (id: string) => s.events.statuses(id).filter((m: { to: string }) => m.to === 'flapping');
  /** Wait until every check in `moved` has 3 results from a node other than `from`, all flapping, with no status since its onset. */
  const continuedElsewhere = async (moved: string[], from: string) => {
    for (const id of moved) {
      const after = await waitFor(
        `${id}: 3 results from a node other than ${from}`,
        () => s.events.results(id).filter((r: { node: string; seq: number }) => r.node !== from && r.seq > onset.get(id)!.seq),
        { ...opts, until: (rs) => rs.length >= 3 },
      );
      expect(after.every((r: { flapping?: boolean }) => r.flapping === true)).toBe(true);
      expect(flapped(id)).toHaveLength(1);
      expect(s.events.statuses(id).filter((m: { seq: number; epoch: number }) => m.epoch > onset.get(id)!.epoch || m.seq > onset.get(id)!.seq)).toEqual([]);
    }
  };

  // A planned move: n3 leaves (SIGTERM), its runners release their checks to the next owners.
  const onN3 = ids.filter((id) => ownerOf(s.events, id) === 'n3');
  s.cluster.signal('n3', 'SIGTERM');
  await s.cluster.settled(['n1', 'n2']);
  await continuedElsewhere(onN3, 'n3');
  // A crash: n2 is killed; n1 resumes its checks from their last published results.
  const onN2 = ids.filter((id) => ownerOf(s.events, id) === 'n2');
  await s.cluster.kill('n2');
  await s.cluster.settled(['n1']);
  await continuedElsewhere(onN2, 'n2');
  expect(onN3.length + onN2.length).toBeGreaterThan(0);

  // Settled: one change out of flapping per check, to up.
  for (const id of ids) t.mode.set(id, {});
  for (const id of ids) {
    const settle = await waitFor(`${id} settled`, () => s.events.statuses(id).find((m: { from: string }) => m.from === 'flapping'), opts);
    expect(settle).toMatchObject({ to: 'up', node: 'n1' });
    expect(flapped(id)).toHaveLength(1);
    expect(s.events.statuses(id).filter((m: { from: string }) => m.from === 'flapping')).toHaveLength(1);
  }
}, 400_000);
