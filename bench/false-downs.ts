// Benchmark 15 — false `down`s with one node's network broken (issue 13): 3 nodes, N single-vantage
// HTTP checks at a short interval against a target that answers by the probing node (its
// User-Agent); every target is healthy for two nodes and fails for the third (its network to the
// targets is broken) for a measured stretch, then heals. Every `down` published on
// `lookout.status.>` is false (no target is down for the other nodes). Two clusters, one after the
// other in one run (three, with the `confirm` row between them), each with its own nats-server and nodes:
//
//   off     — every feature off: checks with `confirm: false`, LOOKOUT_QUARANTINE_PERCENT=0,
//             LOOKOUT_PANIC_PERCENT=0
//   quorum  — multi-vantage quorum only: `replicas: 3` (every node a vantage, the default majority),
//             `confirm: false`, quarantine and panic guard off
//   confirm — confirm from elsewhere only (the spec default for replicas 1), quarantine and panic off
//   panic   — the panic guard only (`confirm: false`, quarantine off), at LOOKOUT_PANIC_PERCENT=20 so
//             that one node of three failing its third of the checks reaches it (the default, 50%,
//             is for a fleet-wide failure, which one node of three is not)
//   on      — the defaults: confirm from elsewhere (replicas 1), self-quarantine, the panic guard at
//             its default 50%, and a canary on the same target (LOOKOUT_CANARIES)
//
// Reported per run: false downs, check-hours measured (checks × the broken stretch plus the watch
// after healing), false downs per 1,000 check-hours, and what the broken node did (the checks it
// owned when its network broke, i.e. published the last result of; the checks it published a failed
// result for while broken; quarantined, when; failed results it published, the failures another
// node saw healthy; panics entered).
//
//   npm run build && npm run bench:false-downs
//   knobs: BENCH_CHECKS (60), BENCH_INTERVAL_MS (1000), BENCH_BROKEN_MS (60000), BENCH_AFTER_MS (15000)

import type { NatsConnection } from '@nats-io/transport-node';
import { perNodeTarget, type PerNodeTarget } from '../testkit/per-node-target';
import { nodeEnv, spawnNode, type NodeProc } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { checkId, natsClient, putSpecs } from './lib/specs';
import { envInt, note, round, runBench, sleep, waitFor } from './lib/util';

const CHECKS = envInt('BENCH_CHECKS', 60);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 1000);
const BROKEN_MS = envInt('BENCH_BROKEN_MS', 60_000);
const AFTER_MS = envInt('BENCH_AFTER_MS', 15_000);
const NODES = ['a', 'b', 'c'];
const VICTIM = 'b';

interface Mode {
  name: 'off' | 'quorum' | 'confirm' | 'panic' | 'on';
  env: Record<string, string>;
  spec: Record<string, unknown>;
}

const ALONE = { LOOKOUT_QUARANTINE_PERCENT: '0', LOOKOUT_PANIC_PERCENT: '0' };
const ALL_MODES: Mode[] = [
  { name: 'off', env: ALONE, spec: { confirm: false } },
  { name: 'quorum', env: ALONE, spec: { confirm: false, replicas: 3 } },
  { name: 'confirm', env: ALONE, spec: {} },
  { name: 'panic', env: { ...ALONE, LOOKOUT_PANIC_PERCENT: '20' }, spec: { confirm: false } },
  { name: 'on', env: {}, spec: {} },
];
/** BENCH_MODES: a comma list of mode names (all by default). */
const MODES = process.env.BENCH_MODES ? ALL_MODES.filter((m) => process.env.BENCH_MODES!.split(',').includes(m.name)) : ALL_MODES;

/** Status messages by check, as received; and per check the node of its last result, and the failed results per node. */
function watchStatuses(nc: NatsConnection): {
  byCheck: Map<string, { to: string; node: string }[]>;
  lastNode: Map<string, string>;
  failed: Map<string, number>;
  failedChecks: Map<string, Set<string>>;
  stop(): void;
} {
  const byCheck = new Map<string, { to: string; node: string }[]>();
  const lastNode = new Map<string, string>();
  const failed = new Map<string, number>();
  const failedChecks = new Map<string, Set<string>>();
  const results = nc.subscribe('lookout.result.>', {
    callback: (_err, m) => {
      const r = m.json<{ checkId?: string; node?: string; ok?: boolean }>();
      if (typeof r.checkId !== 'string' || typeof r.node !== 'string') return;
      lastNode.set(r.checkId, r.node);
      if (r.ok !== false) return;
      failed.set(r.node, (failed.get(r.node) ?? 0) + 1);
      let ids = failedChecks.get(r.node);
      if (!ids) failedChecks.set(r.node, (ids = new Set()));
      ids.add(r.checkId);
    },
  });
  const sub = nc.subscribe('lookout.status.>', {
    callback: (_err, m) => {
      const msg = m.json<{ checkId?: string; to?: string; node?: string }>();
      if (typeof msg.checkId !== 'string' || typeof msg.to !== 'string') return;
      let list = byCheck.get(msg.checkId);
      if (!list) byCheck.set(msg.checkId, (list = []));
      list.push({ to: msg.to, node: String(msg.node) });
    },
  });
  return { byCheck, lastNode, failed, failedChecks, stop: () => (sub.unsubscribe(), results.unsubscribe()) };
}

async function runMode(mode: Mode, target: PerNodeTarget, cleanup: (fn: () => unknown) => void): Promise<Record<string, unknown>> {
  const nats = await startNats();
  cleanup(() => nats.stop());
  const nc = await natsClient(nats.url);
  cleanup(() => nc.close());
  const statuses = watchStatuses(nc);
  const quarantine: { node: string; quarantined: boolean; atMs: number }[] = [];
  let t0 = 0;
  const panics: { node: string; atMs: number }[] = [];
  nc.subscribe('lookout.cluster.panic', { callback: (_e, m) => { const e = m.json<{ node?: string; active?: boolean }>(); if (e.active === true) panics.push({ node: String(e.node), atMs: Date.now() - t0 }); } });
  nc.subscribe('lookout.cluster.member.quarantined', { callback: (_e, m) => { const e = m.json<{ node: string; quarantined: boolean }>(); quarantine.push({ node: e.node, quarantined: e.quarantined, atMs: Date.now() - t0 }); } });
  const env = nodeEnv({ LOOKOUT_TARGET_ALLOW: '127.0.0.1/32', LOOKOUT_CANARIES: `${target.url}/c/canary`, ...mode.env });
  const nodes: NodeProc[] = NODES.map((id) => spawnNode({ id, natsUrl: nats.url, env }));
  for (const n of nodes) cleanup(() => n.kill('SIGKILL'));
  for (const n of nodes) await n.waitLog(`${n.id}: assignment applied`, (l) => l.event === 'assignment_applied', 60_000);
  const ids = Array.from({ length: CHECKS }, (_, i) => checkId(i, `${mode.name}-`));
  await putSpecs(nc, new Map(ids.map((id) => [id, { kind: 'http', target: `${target.url}/c/${id}`, intervalMs: INTERVAL, timeoutMs: Math.min(1000, INTERVAL - 1), ...mode.spec }])));
  await waitFor(`${mode.name}: every check up`, () => ids.every((id) => statuses.byCheck.get(id)?.some((s) => s.to === 'up')), 120_000, 200);
  const upFirst = new Map(ids.map((id) => [id, statuses.byCheck.get(id)!.length]));

  // The victim's network to the targets (and the canary) breaks.
  const victimChecks = ids.filter((id) => statuses.lastNode.get(id) === VICTIM).length;
  statuses.failed.clear();
  statuses.failedChecks.clear();
  for (const id of [...ids, 'canary']) target.downFor.set(id, new Set([VICTIM]));
  t0 = Date.now();
  note(`${mode.name}: ${VICTIM}'s probes fail for ${BROKEN_MS} ms`);
  await sleep(BROKEN_MS);
  target.downFor.clear();
  note(`${mode.name}: healed; watching ${AFTER_MS} ms`);
  await sleep(AFTER_MS);
  statuses.stop();

  const later = (id: string) => statuses.byCheck.get(id)!.slice(upFirst.get(id)!);
  const falseDowns = ids.reduce((n, id) => n + later(id).filter((s) => s.to === 'down').length, 0);
  const checksDown = ids.filter((id) => later(id).some((s) => s.to === 'down')).length;
  const checkHours = (CHECKS * (BROKEN_MS + AFTER_MS)) / 3_600_000;
  const victim = nodes.find((n) => n.id === VICTIM)!;
  const events = (e: string) => victim.logs.filter((l) => l.event === e).length;
  return {
    mode: mode.name,
    falseDowns,
    checksDown,
    checkHours: round(checkHours, 3),
    falseDownsPer1000CheckHours: round((falseDowns / checkHours) * 1000, 1),
    victimChecks,
    victimFailedChecks: statuses.failedChecks.get(VICTIM)?.size ?? 0,
    quarantine,
    panicsEntered: panics,
    victimFailedResults: statuses.failed.get(VICTIM) ?? 0,
    victimConfirmDisagreed: events('confirm_disagreed'),
  };
}

runBench('false-downs', async (cleanup) => {
  const target = await perNodeTarget();
  cleanup(() => target.close());
  const rows: Record<string, unknown>[] = [];
  for (const mode of MODES) {
    const local: (() => unknown)[] = [];
    try {
      rows.push(await runMode(mode, target, (fn) => void local.push(fn)));
    } finally {
      for (const fn of local.reverse()) await Promise.resolve(fn()).catch(() => {});
    }
    note(JSON.stringify(rows.at(-1)));
  }
  return { checks: CHECKS, intervalMs: INTERVAL, brokenMs: BROKEN_MS, afterMs: AFTER_MS, nodes: NODES.length, victim: VICTIM, rows };
});
