// A preload for a Lookout process under a benchmark: a CPU profile and a sampling allocation profile
// (objects collected since included: what was allocated, not what survived) over one window of the
// process's life, written while it still runs — the benchmarks SIGKILL their nodes at the end, so
// `--cpu-prof` / `--heap-prof` would write nothing.
//
//   BENCH_NODE_ARGS="-r ./dist/bench/lib/window-profile.js" \
//   BENCH_NODE_ENV="WINDOW_PROFILE_START_MS=70000 WINDOW_PROFILE_MS=30000 WINDOW_PROFILE_DIR=/tmp/wp" npm run bench:scale
//   node dist/bench/profile-summary.js /tmp/wp/<pid>.cpuprofile
//   node dist/bench/alloc-summary.js /tmp/wp/<pid>.heapprofile
//
// Settings (environment of the profiled process): WINDOW_PROFILE_START_MS (70000) after the
// process started, for WINDOW_PROFILE_MS (30000), into WINDOW_PROFILE_DIR (/tmp/window-profile).
// WINDOW_PROFILE_HEAP: `all` (default: every sampled allocation, collected or not), `survivors`
// (only objects no scavenge collected: what was promoted to the old generation — garbage a full
// collection finds later, or live — plus what is young at the end), or `none` (a CPU profile
// alone, undisturbed by the allocation sampler: for `bench/long-tasks.ts`).
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const startMs = Number(process.env.WINDOW_PROFILE_START_MS ?? 70_000);
const forMs = Number(process.env.WINDOW_PROFILE_MS ?? 30_000);
const dir = process.env.WINDOW_PROFILE_DIR ?? '/tmp/window-profile';
const heapKind = process.env.WINDOW_PROFILE_HEAP ?? 'all';

const session = new Session();
session.connect();
const post = (method: string, params: object = {}): Promise<any> =>
  new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

async function profileWindow(): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 500 });
  await post('Profiler.start');
  if (heapKind !== 'none') {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', { samplingInterval: 16_384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: heapKind !== 'survivors' });
  }
  setTimeout(() => void stop(), forMs).unref();
}

async function stop(): Promise<void> {
  const cpu = await post('Profiler.stop');
  writeFileSync(`${dir}/${process.pid}.cpuprofile`, JSON.stringify(cpu.profile));
  if (heapKind !== 'none') {
    const heap = await post('HeapProfiler.stopSampling');
    writeFileSync(`${dir}/${process.pid}.heapprofile`, JSON.stringify(heap.profile));
  }
  process.stderr.write(`window-profile: wrote ${dir}/${process.pid}.cpuprofile${heapKind === 'none' ? '' : ' and .heapprofile'}\n`);
}

setTimeout(() => void profileWindow().catch((err) => process.stderr.write(`window-profile: ${String(err)}\n`)), startMs).unref();
