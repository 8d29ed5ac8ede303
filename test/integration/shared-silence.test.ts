// Shared silence (protocol/shared-silence.ts) across real processes: `lookout node` p1 and p2 on
// their own nats-server, p3 through a TCP proxy (testkit/tcp-proxy.ts) whose link is then frozen
// (no bytes, no reset). p3 hears nobody: both of its peers silent at once is its link's silence, not
// two deaths — it logs `shared_silence` naming both, declares neither dead nor takes over their
// slots before its link watch has dropped the frozen link (after which it judges nobody), and counts
// the silence in lookout_shared_silences_total. p1 and p2 each hear one silent member of two, which
// is never shared alone: they declare p3 dead at the usual bound. Without the rule, p3's dead threshold
// (1 s on the test timers) races its link watch (~0.75–0.8 s): with LOOKOUT_SHARED_SILENCE_GRACE_MS=0
// for p3, this test found p3 declaring a peer dead and taking over its slots before the drop in 1 of
// 6 runs (and no shared_silence in all 6); the chaos `link-freeze` scenario broke 2 of 6 short runs
// that way, p3 probing every check of the cluster beside their new owners.
import { scenarioTest } from '../helpers/scenario';
import { waitFor } from '../helpers/poll';
import { startTcpProxy } from '../../testkit/tcp-proxy';

const NODES = ['p1', 'p2', 'p3'];

scenarioTest('a node whose NATS link froze hears both peers silent at once: shared silence, no peer declared dead before its link is dropped; the peers declare it dead as usual', { nodes: ['p1', 'p2'], checks: 0 }, async (s) => {
  const proxy = await startTcpProxy(s.server.port);
  s.onCleanup(() => proxy.close());
  s.cluster.start('p3', { NATS_URL: proxy.url });
  await s.cluster.settled(NODES);
  const mark = Object.fromEntries(NODES.map((id) => [id, s.cluster.logs(id).length]));
  const since = (id: string) => s.cluster.logs(id).slice(mark[id]);
  proxy.freeze();
  // Frozen until both peers hold p3 dead and p3's watch has dropped the link: the whole race is over.
  await waitFor('p1 and p2 declare p3 dead, and p3 drops its frozen link', () => {
    const dead = ['p1', 'p2'].filter((id) => since(id).some((l) => l.event === 'member_dead' && l.member === 'p3'));
    const dropped = since('p3').some((l) => l.event === 'nats_disconnected');
    if (dead.length < 2 || !dropped) throw new Error(`p3 held dead by [${dead.join(', ')}]; p3 dropped its link: ${dropped}; p3's last events: ${since('p3').slice(-6).map((l) => l.event).join(', ')}`);
    return true;
  });
  const frozen = since('p3');
  proxy.thaw();
  await s.cluster.settled(NODES);

  const dropAt = frozen.findIndex((l) => l.event === 'nats_disconnected');
  const beforeDrop = frozen.slice(0, dropAt);
  const shared = beforeDrop.find((l) => l.event === 'shared_silence');
  const judged = (ls: typeof frozen) => ls.filter((l) => l.event === 'member_dead' || l.event === 'provisional_takeover').map((l) => `${l.event} ${l.member ?? l.dead}`);
  console.log(`p3 while frozen: ${frozen.map((l) => l.event).filter((e) => /member_|shared_silence|nats_|provisional|pause_/.test(e)).join(', ')}`);
  expect(shared).toBeDefined();
  expect(shared!.silent).toEqual(['p1', 'p2']);
  expect(shared!.live).toBe(2);
  expect(shared!.graceMs).toBe(600);
  // Neither peer held dead, no slot taken over, before the link was dropped — nor after (cut off, it judges nobody).
  expect(judged(frozen)).toEqual([]);
  // p1 and p2 hear p3 silent alone, never a shared silence: if either logs one (its other peer's
  // heartbeats late at the same moment on a loaded host: a silence it rightly shares), it names
  // both peers. What the freeze itself must not do to them is hide p3's death.
  for (const id of ['p1', 'p2']) {
    for (const l of since(id).filter((x) => x.event === 'shared_silence')) expect(l.silent).toEqual(expect.arrayContaining(NODES.filter((n) => n !== id)));
    expect(since(id).some((l) => l.event === 'member_dead' && l.member === 'p3')).toBe(true);
  }
  // The counter counts what the log line says, on the frozen node and on one that heard nothing shared.
  // (Polled: a line and the count it goes with reach the test by different pipes.)
  const logged = (id: string) => s.cluster.logs(id).filter((l) => l.event === 'shared_silence').length;
  for (const id of ['p3', 'p1']) {
    const [counted] = await waitFor(`${id}'s lookout_shared_silences_total equals its shared_silence lines`, async () => [await s.counter(id, 'lookout_shared_silences_total'), logged(id)], { until: ([c, l]) => c === l });
    if (id === 'p3') expect(counted).toBeGreaterThanOrEqual(1);
  }
});
