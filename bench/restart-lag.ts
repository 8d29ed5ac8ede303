// Benchmark 11 — a node restarted over its stored checks: how long after a probe started its
// result reaches NATS (receipt time − result `at`), per second since the restart. A fresh node
// looks up each gained check's last published result before it publishes the check's first
// outcome (seq and verdict continue); outcomes that finish first are parked, so a slow lookup
// queue shows up as results held back and then published in a burst. Also reports the node's
// pause lines (an event loop stalled past the pause threshold).
//
//   npm run build && npm run bench:restart
//   knobs: BENCH_CHECKS (2000), BENCH_INTERVAL_MS (2000), BENCH_WATCH_MS (10000);
//          BENCH_CLI=<other build>/dist/bin/lookout.js for a before/after row

import { nodeEnv, spawnNode } from './lib/lookout';
import { ResultLog } from './lib/results';
import { httpCheckSpecs, putSpecs } from './lib/specs';
import { dist } from './lib/stats';
import { envInt, note, runBench, sleep } from './lib/util';
import { startWorld } from './lib/world';

const CHECKS = envInt('BENCH_CHECKS', 2000);
const INTERVAL = envInt('BENCH_INTERVAL_MS', 2000);
const WATCH_MS = envInt('BENCH_WATCH_MS', 10_000);

runBench('restart-lag', async (cleanup) => {
  const { nats, target, nc } = await startWorld(cleanup);
  const env = nodeEnv({ LOOKOUT_TARGET_ALLOW: '127.0.0.1/32' });
  const first = spawnNode({ id: 'a', natsUrl: nats.url, env });
  cleanup(() => first.kill('SIGKILL'));
  await first.waitLog('assignment applied', (l) => l.event === 'assignment_applied');
  await putSpecs(nc, httpCheckSpecs(target.port, CHECKS, INTERVAL));
  await sleep(3 * INTERVAL);
  await first.kill('SIGKILL');
  const results = new ResultLog(nc);
  const t0 = Date.now();
  const node = spawnNode({ id: 'a', natsUrl: nats.url, env });
  cleanup(() => node.kill('SIGKILL'));
  await sleep(WATCH_MS);
  const bySecond = new Map<number, number[]>();
  for (const list of results.byCheck.values()) {
    for (const r of list) {
      const s = Math.floor((r.at - t0) / 1000);
      let lags = bySecond.get(s);
      if (!lags) bySecond.set(s, (lags = []));
      lags.push(r.recv - r.at);
    }
  }
  const perSecond = [...bySecond].sort((a, b) => a[0] - b[0]).map(([s, lags]) => ({ s, results: lags.length, lagMs: dist(lags, 0) }));
  for (const p of perSecond) note(`second ${p.s}: ${p.results} results, lag p50 ${p.lagMs.p50} ms, max ${p.lagMs.max} ms`);
  const at = (e: string) => node.logs.filter((l) => l.event === e).map((l) => Date.parse(String(l.time)) - t0);
  const pauses = node.logs.filter((l) => l.event === 'pause_detected').map((l) => ({ atMs: Date.parse(String(l.time)) - t0, gapMs: l.gapMs, source: l.source }));
  return { checks: CHECKS, intervalMs: INTERVAL, assignmentAppliedMs: at('assignment_applied'), perSecond, pauses };
});
