// LOOKOUT_MEMORY_MB out of the box: the real `lookout node` (dist/bin/lookout.js, no node flag,
// no NODE_OPTIONS) sizes its own heap — read back from the process (/proc/<pid>/cmdline and
// environ, its /metrics) — while node flags the user gives still win; and the flags it sets do
// what they claim on this Node: a heap that churns stays within the budget, and does not without it.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { waitFor } from '../helpers/poll';
import { CLI, runLookout, type LookoutProcess } from '../helpers/processes';

const MiB = 1024 * 1024;
let server: NatsServer;
const running: LookoutProcess[] = [];

beforeAll(async () => {
  server = await startNatsServer();
});

afterAll(async () => {
  for (const p of running) {
    p.signal('SIGKILL');
    await p.exited;
  }
  await server?.cleanup();
});

/** A node on its own prefix; resolves with the process and its /metrics as name → value (unlabelled samples, and labelled ones by their full name). */
async function startNode(id: string, env: Record<string, string> = {}) {
  const p = runLookout(['node'], { NATS_URL: server.url, LOOKOUT_NODE_ID: id, LOOKOUT_PREFIX: id, LOOKOUT_HTTP_PORT: '0', LOOKOUT_HTTP_HOST: '127.0.0.1', LOOKOUT_TIMING: 'test', ...env });
  running.push(p);
  const listening = await waitFor(`${id}: http endpoints`, () => p.logs().find((l) => l.event === 'http_listening'));
  const metrics = async () => {
    const text = await (await fetch(`http://127.0.0.1:${listening.port}/metrics`)).text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
      if (m) out.set(m[1]!, Number(m[2]));
    }
    return out;
  };
  return { p, metrics, budgetLog: p.logs().find((l) => l.event === 'memory_budget') };
}

test('lookout node with no flag and no setting keeps itself within 256 MiB: the flags are set from inside the process', async () => {
  const { p, metrics, budgetLog } = await startNode('mem-default');
  // Nothing on the command line but the script and the command, nothing in the environment.
  const cmdline = readFileSync(`/proc/${p.proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  expect(cmdline).toEqual([process.execPath, CLI, 'node']);
  const environ = readFileSync(`/proc/${p.proc.pid}/environ`, 'utf8').split('\0');
  expect(environ.filter((e) => /^(NODE_OPTIONS|LOOKOUT_MEMORY_MB)=/.test(e))).toEqual([]);
  // What the process applied (its log and gauges), and what V8 reports.
  expect(budgetLog).toMatchObject({ event: 'memory_budget', budgetMb: 256, userOldGeneration: false, userYoungGeneration: false });
  expect(budgetLog.flags).toMatch(/--heap-growing-percent=\d+ --semi-space-growth-factor=[12]/);
  const m = await metrics();
  expect(m.get('lookout_memory_budget_bytes')).toBe(256 * MiB);
  expect(m.get('lookout_heap_growing_percent')).toBeGreaterThanOrEqual(10);
  expect(m.get('lookout_heap_growing_percent')).toBeLessThanOrEqual(100);
  expect(m.get('lookout_young_generation_target_bytes')).toBe(4 * MiB);
  expect(m.get('lookout_memory_over_budget')).toBe(0);
  // The young generation stopped growing within its target (two semi-spaces).
  expect(m.get('lookout_nodejs_heap_space_size_total_bytes{space="new"}')).toBeLessThanOrEqual(2 * 4 * MiB);
});

test('LOOKOUT_MEMORY_MB=0 leaves V8 alone', async () => {
  const { metrics, budgetLog } = await startNode('mem-off', { LOOKOUT_MEMORY_MB: '0' });
  expect(budgetLog).toMatchObject({ event: 'memory_budget', budgetMb: 0 });
  const m = await metrics();
  expect(m.get('lookout_memory_budget_bytes')).toBe(0);
  expect(m.get('lookout_heap_growing_percent')).toBe(0);
  expect(m.get('lookout_young_generation_target_bytes')).toBe(0);
});

test('node flags that size the heap win over the setting (NODE_OPTIONS)', async () => {
  const { metrics, budgetLog } = await startNode('mem-user', { NODE_OPTIONS: '--max-old-space-size=300' });
  expect(budgetLog).toMatchObject({ budgetMb: 256, userOldGeneration: true, userYoungGeneration: false });
  expect(budgetLog.flags).not.toMatch(/heap-growing-percent/);
  const m = await metrics();
  expect(m.get('lookout_heap_growing_percent')).toBe(0);
  expect(m.get('lookout_young_generation_target_bytes')).toBe(4 * MiB);
  // V8's hard limit is the user's 300 MiB old generation plus the young generation's share.
  const limit = m.get('lookout_heap_size_limit_bytes')!;
  expect(limit).toBeGreaterThanOrEqual(300 * MiB);
  expect(limit).toBeLessThan(400 * MiB);
});

/**
 * A process that keeps ~30 MiB of objects alive and replaces each of them 10 times over, under the
 * governor with `budgetMb` (0: off). Reports the largest heap V8 committed and the largest young generation.
 */
function churn(budgetMb: number): Promise<{ maxHeap: number; maxNew: number; overBudget: boolean | null }> {
  const governor = join(__dirname, '..', '..', 'dist', 'runtime', 'memory-governor.js');
  const script = `
    const v8 = require('v8');
    const gov = require(${JSON.stringify(governor)}).startMemoryGovernor(${budgetMb}, { info() {}, warn() {} });
    const LIVE = 200000, ROUNDS = 10, live = new Array(LIVE);
    for (let i = 0; i < LIVE; i++) live[i] = { i, s: 'x' + i, v: { h: 'yy' + i } };
    let maxHeap = 0, maxNew = 0, k = 0;
    const step = () => {
      for (let j = 0; j < 20000; j++) { const i = (k++ * 7919) % LIVE; live[i] = { i, s: 'x' + i, v: { h: 'yy' + i } }; }
      maxHeap = Math.max(maxHeap, v8.getHeapStatistics().total_heap_size);
      maxNew = Math.max(maxNew, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
      if (k < LIVE * ROUNDS) return setImmediate(step);
      gov.stop();
      console.log(JSON.stringify({ maxHeap, maxNew, overBudget: gov.plan() ? gov.plan().overBudget : null }));
    };
    setImmediate(step);`;
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`churn exited ${code}: ${out}`))));
  });
}

test('the flags take effect on this Node: a churning heap stays within the budget under the governor, not without it', async () => {
  // 160 MiB: a ~30 MiB live set with room to spare. At 128 MiB the plan's headroom swung with the
  // measured fragmentation (--heap-growing-percent 20–65 in runs here), and once fell under the
  // 10% floor (over budget) on a loaded machine.
  const governed = await churn(160);
  const free = await churn(0);
  expect(governed.overBudget).toBe(false);
  expect(governed.maxHeap).toBeLessThan(128 * MiB);
  // The young generation stops at its target (2 semi-spaces of 2 MiB for 160 MiB), or one doubling
  // past it: the governor hears of a scavenge only after it, and a burst of scavenges in one turn may
  // double a semi-space once more before the flag lands (planHeap). Seen on this machine: 4 MiB in
  // 4 runs of 5, 8 MiB in 1.
  expect(governed.maxNew).toBeLessThanOrEqual(2 * (2 * 2 * MiB));
  // V8 on its own lets the same live set's heap grow well past it, young generation to 2 x 16 MiB.
  expect(free.maxHeap).toBeGreaterThan(1.5 * governed.maxHeap);
  expect(free.maxNew).toBeGreaterThan(2 * governed.maxNew);
});
