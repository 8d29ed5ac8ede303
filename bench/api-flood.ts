// A flood of invalid spec puts against one node, side by side with a quiet period, in one run.
//
// Modes: `bounded` (the shipped admission bounds), `unbounded` (bounds set out of reach) and, with
// BEFORE_CLI, `before` (another build, e.g. the commit before this work); interleaved REPEAT
// times, each row the median over its runs. Each run: a nats-server, one `lookout node` process
// (production timers, no jitter), CHECKS HTTP checks at INTERVAL ms against a local target; then
// QUIET_S seconds without traffic and FLOOD_S seconds with FLOOD_RATE invalid puts per second of
// FLOOD_BYTES each (requests, replies awaited in the background). Measured from what the node
// published: scheduling lateness (result `at` − `slot`), the longest stretch between two results
// of one check (in slots), missing results, skipped rounds, false failures; from its logs: lease
// losses and info lines written; from the flood: reply latency and how many were `unavailable`.
//
//   npm run build && npm run bench:flood
//   (knobs: CHECKS=200 INTERVAL=1000 QUIET_S=10 FLOOD_S=10 FLOOD_RATE=5000 FLOOD_BYTES=200 REPEAT=3
//    BEFORE_CLI=/path/to/older/dist/runtime/cli.js)

import type { NatsConnection } from '@nats-io/transport-node';
import { spawnNode, nodeEnv, type NodeProc } from './lib/lookout';
import { startNats } from './lib/nats-server';
import { cpuMs } from './lib/procfs';
import { httpCheckSpecs, natsClient, putSpecs } from './lib/specs';
import { dist, median } from './lib/stats';
import { startCountingTarget } from './lib/targets';
import { codeVersion, envInt, note, round, sleep, summary, waitFor } from './lib/util';

const CHECKS = envInt('CHECKS', 200);
const INTERVAL = envInt('INTERVAL', 1000);
const QUIET_S = envInt('QUIET_S', 10);
const FLOOD_S = envInt('FLOOD_S', 10);
const FLOOD_RATE = envInt('FLOOD_RATE', 5000);
/** Size of each invalid put (an oversized `http.body` makes it invalid, after the whole payload is parsed). */
const FLOOD_BYTES = envInt('FLOOD_BYTES', 200);
const REPEAT = envInt('REPEAT', 3);
/** Another build's cli.js (e.g. the commit before the admission control) run as a third mode. */
const BEFORE_CLI = process.env.BEFORE_CLI ?? '';

interface Seen {
  at: number;
  slot: number;
  ok: boolean;
  skipped: number;
}

function collect(nc: NatsConnection): Map<string, Seen[]> {
  const byCheck = new Map<string, Seen[]>();
  nc.subscribe('lookout.result.>', {
    callback: (err, m) => {
      if (err) return;
      const r = m.json<{ checkId: string; at: string; slot: number; ok: boolean; skipped: number }>();
      let list = byCheck.get(r.checkId);
      if (!list) byCheck.set(r.checkId, (list = []));
      list.push({ at: Date.parse(r.at), slot: r.slot, ok: r.ok, skipped: r.skipped });
    },
  });
  return byCheck;
}

/** What the node published for slots in [from, to). */
function phaseReport(byCheck: Map<string, Seen[]>, from: number, to: number) {
  const lateness: number[] = [];
  let maxSlotsBetween = 0;
  let skipped = 0;
  let failures = 0;
  let results = 0;
  for (const list of byCheck.values()) {
    const inPhase = list.filter((r) => r.slot >= from && r.slot < to).sort((a, b) => a.slot - b.slot);
    for (let i = 0; i < inPhase.length; i++) {
      const r = inPhase[i]!;
      results++;
      lateness.push(r.at - r.slot);
      skipped += r.skipped;
      if (!r.ok) failures++;
      if (i > 0) maxSlotsBetween = Math.max(maxSlotsBetween, (r.slot - inPhase[i - 1]!.slot) / INTERVAL);
    }
  }
  const expected = Math.floor((to - from) / INTERVAL) * byCheck.size;
  return { results, expected, latenessMs: dist(lateness, 1), maxSlotsBetween, skipped, failures };
}

async function flood(nc: NatsConnection, seconds: number, rate: number) {
  const latencies: number[] = [];
  const codes = new Map<string, number>();
  let sent = 0;
  let lost = 0;
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  const bad = JSON.stringify({ kind: 'http', target: 'http://127.0.0.1:1/', timeoutMs: 1, http: { body: 'x'.repeat(Math.max(0, FLOOD_BYTES - 100)) }, intervalMs: 5 });
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * rate);
    for (; sent < due; sent++) {
      const start = performance.now();
      pending.push(
        nc.request(`lookout.spec.put.flood${sent % 1000}`, bad, { timeout: 30_000 }).then(
          (m) => {
            latencies.push(performance.now() - start);
            const code = (m.json() as { error?: { code?: string } }).error?.code ?? 'ok';
            codes.set(code, (codes.get(code) ?? 0) + 1);
          },
          () => void lost++,
        ),
      );
    }
    await sleep(5);
  }
  await Promise.all(pending);
  return { sent, replies: latencies.length, lost, replyMs: dist(latencies, 1), codes: Object.fromEntries(codes) };
}

type Mode = 'bounded' | 'unbounded' | 'before';

async function runMode(mode: Mode) {
  const nats = await startNats();
  const target = await startCountingTarget();
  const env = nodeEnv({ LOOKOUT_JITTER_MS: '0' });
  if (mode === 'unbounded') Object.assign(env, { LOOKOUT_API_RATE: '1000000', LOOKOUT_API_BURST: '1000000', LOOKOUT_API_MAX_PENDING: '1000000' });
  let node: NodeProc | null = null;
  const nc = await natsClient(nats.url);
  try {
    node = spawnNode({ id: `flood-${mode}`, natsUrl: nats.url, env, echo: false, ...(mode === 'before' ? { cli: BEFORE_CLI } : {}) });
    await node.waitLog('elected', (l) => l.msg === 'elected leader');
    const byCheck = collect(nc);
    await putSpecs(nc, httpCheckSpecs(target.port, CHECKS, INTERVAL));
    await waitFor('every check probed', () => byCheck.size === CHECKS, 60_000);
    await sleep(2 * INTERVAL);
    const phase = async (name: string, seconds: number, work: () => Promise<unknown>) => {
      const from = Math.ceil(Date.now() / INTERVAL) * INTERVAL + INTERVAL;
      await sleep(from - Date.now());
      const logsBefore = node!.logs.length;
      const cpu0 = cpuMs(node!.pid);
      const extra = await work();
      const to = from + seconds * 1000;
      await sleep(Math.max(0, to - Date.now()) + 2 * INTERVAL); // results of the last slots arrive
      const newLogs = node!.logs.slice(logsBefore);
      const report = {
        ...phaseReport(byCheck, from, to),
        leaseLost: newLogs.filter((l) => l.msg === 'no longer leader').length,
        infoLogLines: newLogs.filter((l) => l.level === 'info').length,
        nodeCpuMs: Math.round(cpuMs(node!.pid) - cpu0),
        ...(extra ? { flood: extra } : {}),
      };
      note(mode, name, report);
      return report;
    };
    const quiet = await phase('quiet', QUIET_S, async () => {
      await sleep(QUIET_S * 1000);
      return null;
    });
    const flooded = await phase('flood', FLOOD_S, () => flood(nc, FLOOD_S, FLOOD_RATE));
    return { quiet, flood: flooded };
  } finally {
    await node?.kill('SIGKILL');
    await nc.close();
    await target.close();
    await nats.stop();
  }
}

type Run = Awaited<ReturnType<typeof runMode>>;

/** One row per mode: medians over the repetitions. */
function row(runs: Run[]) {
  const med = (f: (r: Run) => number) => round(median(runs.map(f)), 1);
  return {
    runs: runs.length,
    quietLatenessP99: med((r) => r.quiet.latenessMs.p99),
    floodLatenessP99: med((r) => r.flood.latenessMs.p99),
    floodLatenessMax: med((r) => r.flood.latenessMs.max),
    floodMaxSlotsBetween: med((r) => r.flood.maxSlotsBetween),
    floodMissingResults: med((r) => r.flood.expected - r.flood.results),
    floodSkipped: med((r) => r.flood.skipped),
    floodFailures: med((r) => r.flood.failures),
    floodLeaseLost: med((r) => r.flood.leaseLost),
    floodInfoLogLines: med((r) => r.flood.infoLogLines),
    floodNodeCpuMs: med((r) => r.flood.nodeCpuMs),
    replyP99: med((r) => (r.flood.flood as { replyMs: { p99: number } }).replyMs.p99),
    unavailable: med((r) => (r.flood.flood as { codes: Record<string, number> }).codes.unavailable ?? 0),
  };
}

async function main() {
  const modes: Mode[] = ['bounded', 'unbounded', ...(BEFORE_CLI ? (['before'] as const) : [])];
  note(`api-flood: ${CHECKS} checks at ${INTERVAL} ms, quiet ${QUIET_S} s, then ${FLOOD_RATE} invalid puts/s of ${FLOOD_BYTES} bytes for ${FLOOD_S} s; ${modes.join(' / ')} interleaved, ${REPEAT}×`);
  const runs = new Map<Mode, Run[]>(modes.map((m) => [m, []]));
  for (let i = 0; i < REPEAT; i++) for (const m of modes) runs.get(m)!.push(await runMode(m));
  summary({
    bench: 'api-flood',
    code: codeVersion(),
    checks: CHECKS,
    intervalMs: INTERVAL,
    floodRate: FLOOD_RATE,
    floodBytes: FLOOD_BYTES,
    floodSeconds: FLOOD_S,
    ...Object.fromEntries(modes.map((m) => [m, row(runs.get(m)!)])),
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
