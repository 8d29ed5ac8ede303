// The chaos suite's long profile (issue 11 §6): the scenarios of testkit/chaos/scenarios.ts with 3
// nodes and 300 HTTP checks at a 2 s interval, under the production timing profile (one NATS
// server) and the nats-cluster profile (three routed NATS servers, KV replicas 3) — the latter for
// the scenarios whose outcome depends on the lease and the detector's timers (the proxied-link
// scenarios need a single server and run under production only). Prints one Markdown table row
// per (scenario, profile), the examples behind each broken invariant, and the JSON summary last.
//
//   npm run build && npm run chaos
//   knobs: CHAOS_CHECKS (300), CHAOS_INTERVAL_MS (2000), CHAOS_SCENARIOS (comma list, default all),
//          CHAOS_TIMINGS (production,nats-cluster), LOOKOUT_CHAOS_CLI (another build's lookout.js)

import { appendRow, formatExamples, formatTable } from '../testkit/chaos/table';
import { closeOpenHarnesses, runScenario, SCENARIOS, type ChaosProfile, type ChaosScenario } from '../testkit/chaos/scenarios';
import type { ChaosRow } from '../testkit/chaos/invariants';
import { envInt, note, runBench } from './lib/util';

const CHECKS = envInt('CHAOS_CHECKS', 300);
const INTERVAL = envInt('CHAOS_INTERVAL_MS', 2000);
const list = (name: string): string[] | null => (process.env[name] ? process.env[name]!.split(',').map((x) => x.trim()).filter(Boolean) : null);

/** Scenarios whose outcome depends on the timers: run under nats-cluster too. */
const TIMER_BOUND = ['formation', 'kill-node', 'kill-leader', 'pause-leader', 'pause-leader-short', 'skew-kill', 'nats-server-loss', 'rolling-restart', 'flapping'];

const PROFILES: { profile: ChaosProfile; runs: (s: ChaosScenario) => boolean }[] = [
  { profile: { timing: 'production', checks: CHECKS, intervalMs: INTERVAL, natsServers: 1 }, runs: (s) => s.nats !== 3 },
  { profile: { timing: 'nats-cluster', checks: CHECKS, intervalMs: INTERVAL, natsServers: 3 }, runs: (s) => TIMER_BOUND.includes(s.name) && s.nats !== 1 },
];

runBench('chaos', async (cleanup) => {
  cleanup(closeOpenHarnesses); // an interrupted run stops its processes
  const only = list('CHAOS_SCENARIOS');
  const timings = list('CHAOS_TIMINGS');
  const rows: ChaosRow[] = [];
  const notes: string[] = [];
  for (const { profile, runs } of PROFILES) {
    if (timings && !timings.includes(profile.timing)) continue;
    for (const s of SCENARIOS.filter((x) => runs(x) && (!only || only.includes(x.name)))) {
      note(`${s.name} (${profile.timing}): ${s.what}`);
      const run = await runScenario(s, profile);
      rows.push(run.row);
      notes.push(...run.notes);
      if (process.env.LOOKOUT_CHAOS_ROWS) appendRow(process.env.LOOKOUT_CHAOS_ROWS, run.row);
      note(`  broken: ${run.row.broken.join(', ') || 'none'}; max gap ${run.row.maxGapMs} ms; logs ${run.runDir}`);
    }
  }
  process.stdout.write(`${formatTable(rows)}\n\n${formatExamples(rows)}\n${notes.map((n) => `note: ${n}`).join('\n')}\n`);
  return { checks: CHECKS, intervalMs: INTERVAL, scenarios: rows.length, broken: rows.filter((r) => r.broken.length).map((r) => `${r.scenario}/${r.profile}: ${r.broken.join(',')}`) };
});
