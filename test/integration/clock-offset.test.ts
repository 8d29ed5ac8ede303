// Clock skew as the cluster reports it: three `lookout node` processes on their own nats-server,
// one of them (c) with its wall clock 30 s behind (libfaketime; monotonic clock untouched). What
// the system publishes must name c and measure about −30 s: cluster.status (clockOffsetMs,
// clockSkewMs), the other nodes' /metrics (lookout_clock_offset_seconds{peer="c"}) and c's own
// (lookout_clock_skew_seconds), a `clock_skew` log line, and `lookout cluster`. The numbers are
// measurements of an injected offset (the tolerance covers heartbeat delay), not timing bounds.
// And with no skew: no `clock_skew` anywhere, every offset within the bound. And a node restarted
// with its clock 60 s behind (an earlier startedAt than its previous life): both peers take the
// new instance as a new life at once and measure its clock from its own heartbeats.

import { spawnSync } from 'node:child_process';
import { waitFor } from '../helpers/poll';
import { runLookout } from '../helpers/processes';
import { scenarioTest, type Scenario } from '../helpers/scenario';

const INJECTED_MS = -30_000;
/** How far a measurement may be from the injected offset: heartbeat delay on a busy machine. */
const TOLERANCE_MS = 3_000;
const BOUND_MS = 1_000; // LOOKOUT_CLOCK_SKEW_WARN_MS default
const NODES = ['a', 'b', 'c'];

/** A node's /metrics text (its HTTP port is logged at start). */
async function metricsOf(s: Scenario, id: string): Promise<string> {
  const listening = s.cluster.logs(id).find((l) => l.event === 'http_listening');
  if (!listening) throw new Error(`${id} has not logged http_listening yet`);
  return (await fetch(`http://127.0.0.1:${listening.port}/metrics`)).text();
}

/** Values of one metric in an exposition, by its `peer` label ('' without one). */
function series(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}(?:\\{peer="([^"]*)"\\})? (\\S+)$`).exec(line);
    if (m) out[m[1] ?? ''] = Number(m[2]);
  }
  return out;
}

/** Wait until every node's /metrics has an offset for each of its peers: each has judged a full report. */
async function awaitEstimates(s: Scenario): Promise<Record<string, string>> {
  const texts: Record<string, string> = {};
  for (const id of NODES) {
    texts[id] = await waitFor(
      `${id}'s /metrics to have a clock offset for each peer`,
      async () => {
        const text = await metricsOf(s, id);
        const peers = Object.keys(series(text, 'lookout_clock_offset_seconds')).sort();
        const want = NODES.filter((n) => n !== id);
        if (peers.join() !== want.join()) throw new Error(`offsets for [${peers}] of [${want}]`);
        return text;
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }
  return texts;
}

/** Wait until every node has sent `n` more heartbeats (one full estimate window and more: judged many times since). */
async function awaitHeartbeats(s: Scenario, n: number): Promise<void> {
  const seqOf = (id: string) => Math.max(0, ...s.events.of('lookout._node.heartbeat').filter((h) => h.node === id).map((h) => h.seq));
  const from = Object.fromEntries(NODES.map((id) => [id, seqOf(id)]));
  await waitFor(`${n} more heartbeats from every node`, () => NODES.every((id) => seqOf(id) >= from[id]! + n) || `seq now ${NODES.map((id) => `${id}:${seqOf(id)}`)} from ${JSON.stringify(from)}`, {
    until: (v) => v === true,
    timeoutMs: 60_000,
  });
}

const skewLines = (s: Scenario, id: string) => s.cluster.logs(id).filter((l) => l.event === 'clock_skew' || l.event === 'clock_skew_cleared');

scenarioTest('a node 30 s behind is measured at about −30 s, logged, on /metrics and in `lookout cluster`', { nodes: NODES, spawn: { c: { faketime: '-30s' } } }, async (s) => {
  const texts = await awaitEstimates(s);

  // The others measure c's clock about 30 s behind theirs and each other's in step.
  for (const id of ['a', 'b']) {
    const offsets = series(texts[id]!, 'lookout_clock_offset_seconds');
    expect(Math.abs(offsets.c! * 1000 - INJECTED_MS)).toBeLessThan(TOLERANCE_MS);
    expect(Math.abs(offsets[id === 'a' ? 'b' : 'a']! * 1000)).toBeLessThan(BOUND_MS);
    expect(Math.abs(series(texts[id]!, 'lookout_clock_skew_seconds')[''] ?? 0)).toBeLessThan(BOUND_MS / 1000);
  }
  // c measures theirs about 30 s ahead, and itself 30 s off the members' median.
  const fromC = series(texts.c!, 'lookout_clock_offset_seconds');
  for (const peer of ['a', 'b']) expect(Math.abs(fromC[peer]! * 1000 + INJECTED_MS)).toBeLessThan(TOLERANCE_MS);
  expect(Math.abs(series(texts.c!, 'lookout_clock_skew_seconds')['']! * 1000 - INJECTED_MS)).toBeLessThan(TOLERANCE_MS);
  // The exposition with the new series still passes Prometheus' own linter.
  const promtool = spawnSync('promtool', ['check', 'metrics'], { input: texts.a, encoding: 'utf8' });
  if (promtool.error) throw new Error(`promtool is needed for this test (Debian package "prometheus"): ${promtool.error.message}`);
  expect({ status: promtool.status, out: `${promtool.stdout}${promtool.stderr}`.trim() }).toEqual({ status: 0, out: '' });

  // cluster.status, whichever node answers: c's skew about −30 s, a's and b's within the bound;
  // offsets relative to the answering node.
  const st = await waitFor('cluster.status with a clock for every member', () => s.cluster.status(), {
    until: (r: any) => r.members.length === 3 && r.members.every((m: any) => typeof m.clockSkewMs === 'number'),
  });
  expect(st.clock).toEqual({ boundMs: BOUND_MS });
  const truth = (id: string) => (id === 'c' ? INJECTED_MS : 0);
  for (const m of st.members) {
    expect({ node: m.node, offsetOff: Math.abs(m.clockOffsetMs - (truth(m.node) - truth(st.answeredBy))) < TOLERANCE_MS }).toEqual({ node: m.node, offsetOff: true });
    if (m.node === 'c') expect(Math.abs(m.clockSkewMs - INJECTED_MS)).toBeLessThan(TOLERANCE_MS);
    else expect(Math.abs(m.clockSkewMs)).toBeLessThan(BOUND_MS);
  }

  // Logged: every node ends up naming c (c names itself), and nobody else. A node that judged while
  // it had heard only one peer (a slow start of the third) saw two clocks, whose median is halfway,
  // and flagged both (README, *Clock skew*); once it has heard every member it names only c.
  for (const id of NODES) {
    const log = s.cluster.logs(id);
    const heardAll = Math.max(...NODES.filter((n) => n !== id).map((n) => log.findIndex((l) => l.event === 'member_joined' && l.member === n)));
    expect({ id, heardAll: heardAll >= 0 }).toEqual({ id, heardAll: true });
    const lines = skewLines(s, id);
    const flagged = new Set<string>();
    for (const l of lines) if (l.event === 'clock_skew') flagged.add(l.peer); else flagged.delete(l.peer);
    expect({ id, flagged: [...flagged] }).toEqual({ id, flagged: ['c'] });
    const later = log.slice(heardAll + 1).filter((l) => l.event === 'clock_skew');
    expect({ id, flaggedLater: later.map((l) => l.peer).filter((p) => p !== 'c') }).toEqual({ id, flaggedLater: [] });
    const c = lines.find((l) => l.event === 'clock_skew' && l.peer === 'c')!;
    expect(c).toMatchObject({ level: 'warn', boundMs: BOUND_MS, offsetMs: expect.any(Number), skewMs: expect.any(Number) });
    // c's offset does not depend on the median: the others measure it 30 s behind, c itself at 0.
    expect(Math.abs(c.offsetMs - (id === 'c' ? 0 : INJECTED_MS))).toBeLessThan(TOLERANCE_MS);
  }

  // `lookout cluster` names c in its clock line and marks its row.
  const cli = runLookout(['cluster'], { NATS_URL: s.server.url });
  expect(await cli.exited).toBe(0);
  const out = cli.output();
  expect(out).toMatch(/^clock {8}c off by -(29|30|31|32|33)\.\ds \(bound ±1000 ms from the members' median\)$/m);
  expect(out).toMatch(/^c\s+alive\s+.*\s-(29|30|31|32|33)\.\ds !\s+\S+$/m);
  expect(out).toMatch(/^a\s+alive\s+.*\s[+-]\d+ms\s+\S+$/m);
});

scenarioTest('clocks in step: no clock_skew on any node, every offset within the bound', { nodes: NODES }, async (s) => {
  const texts = await awaitEstimates(s);
  for (const id of NODES) {
    for (const [peer, v] of Object.entries(series(texts[id]!, 'lookout_clock_offset_seconds'))) expect({ id, peer, within: Math.abs(v * 1000) < BOUND_MS }).toEqual({ id, peer, within: true });
  }
  // Judged every heartbeat since: a full window (16) and more, on every node.
  await awaitHeartbeats(s, 40);
  for (const id of NODES) expect(skewLines(s, id)).toEqual([]);
  const st = await s.cluster.status();
  expect(st.members.map((m: any) => [m.node, typeof m.clockSkewMs === 'number' && Math.abs(m.clockSkewMs) < BOUND_MS])).toEqual(NODES.map((n) => [n, true]));
  const cli = runLookout(['cluster'], { NATS_URL: s.server.url });
  expect(await cli.exited).toBe(0);
  expect(cli.output()).toMatch(/^clock {8}in step \(bound ±1000 ms from the members' median\)$/m);
});

scenarioTest('a node restarted with its clock 60 s behind is a new life at once, measured afresh', { nodes: NODES }, async (s) => {
  await awaitEstimates(s);
  const before = (await s.cluster.status()).members.find((m: any) => m.node === 'c');
  await s.cluster.kill('c');
  s.cluster.start('c', {}, { faketime: '-60s' });
  // Its new life starts "earlier" by the wall clock (startedAt about 60 s before the old one's):
  // peers take it by its instance id, so it is alive again long before the old entry could be
  // forgotten (10 min), and its clock is measured from the new life's heartbeats only.
  // cluster.status is answered by any one node (a queue group): ask until a and b have each
  // answered with c alive in its new life and measured (c's own answer would prove nothing).
  const seen = new Map<string, any>();
  await waitFor(
    'a and b each to see c alive in its new life, with a clock estimate',
    async () => {
      const r = await s.cluster.status();
      const c = r.members.find((m: any) => m.node === 'c');
      if (r.answeredBy !== 'c' && c && c.state === 'alive' && c.startedAt < before.startedAt && typeof c.clockSkewMs === 'number' && c.clockSkewMs < -BOUND_MS) seen.set(r.answeredBy, c);
      if (seen.size < 2) throw new Error(`seen by [${[...seen.keys()]}]; last answer from ${r.answeredBy}: c ${JSON.stringify(c)}`);
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 20 },
  );
  for (const c of seen.values()) {
    expect(Math.abs(c.clockSkewMs + 60_000)).toBeLessThan(TOLERANCE_MS);
    expect(Math.abs(c.clockOffsetMs + 60_000)).toBeLessThan(TOLERANCE_MS);
  }
  for (const id of ['a', 'b']) {
    const skew = await waitFor(`${id} logs clock_skew for c's new life`, () => skewLines(s, id).find((l) => l.event === 'clock_skew' && l.peer === 'c'));
    expect(Math.abs(skew.offsetMs + 60_000)).toBeLessThan(TOLERANCE_MS);
  }
});
