// CPU starvation for the solo suites (test/solo/): pin processes to a CPU with taskset, burn a CPU
// with busy loops beside a node, and a healthy HTTP target in a process of its own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, testEnv } from './lookout';
import { GiveUp, waitFor } from './poll';
import { runLookout, type LookoutProcess } from './processes';

/** The CPU the starved node runs on, and the one everything else runs on. */
export const NODE_CPU = '0';
export const OTHER_CPU = '1';

/** Pin every thread of `pid` to `cpus` (taskset -a: the event loop, libuv's pool, V8's helpers). */
export function pin(pid: number | undefined, cpus: string): void {
  if (pid === undefined) throw new Error('no pid to pin');
  const r = spawnSync('taskset', ['-a', '-pc', cpus, String(pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset -a -pc ${cpus} ${pid} failed: ${r.stderr || r.error?.message}`);
}

/** A healthy HTTP target in a process of its own (so the test process's own work never slows it): 200 "ok". */
export async function startTarget(): Promise<{ proc: ChildProcess; port: number }> {
  const code = "const s=require('http').createServer((q,r)=>{r.end('ok')});s.keepAliveTimeout=1000;s.listen(0,'127.0.0.1',()=>console.log(s.address().port))";
  const proc = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer];
  return { proc, port: Number(line.toString().trim()) };
}

/** A loop that burns a CPU until killed, pinned to `cpu`. */
export function busyLoop(cpu: string): ChildProcess {
  return spawn('taskset', ['-c', cpu, process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' });
}

export async function kill(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGKILL');
  await once(p, 'exit');
}

/** Whether this machine can pin: taskset and at least two CPUs. */
export const haveTwoCpus = (() => {
  const r = spawnSync('nproc', [], { encoding: 'utf8' });
  return spawnSync('taskset', ['-V']).status === 0 && Number(r.stdout) >= 2;
})();

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Pin busy loops beside the node on NODE_CPU (into `loops`, for the caller to kill) until `member()`
 * says it is overloaded: three to start with, one more each time `perStepMs` passes without it, at
 * most `max`. How many it takes depends on what else the machine runs (with three, the node kept up
 * in some runs). `check` runs at every poll (it may throw GiveUp to stop at once). Resolves with the
 * member as it said so.
 */
export async function starveUntilOverloaded<M extends { overloaded?: boolean }>(
  loops: ChildProcess[],
  member: () => Promise<M | undefined>,
  opts: { max?: number; perStepMs?: number; check?: () => void } = {},
): Promise<M> {
  const max = opts.max ?? 6;
  loops.push(busyLoop(NODE_CPU), busyLoop(NODE_CPU));
  for (;;) {
    loops.push(busyLoop(NODE_CPU));
    try {
      return await waitFor(
        `the node to say it is overloaded (${loops.length} busy loops)`,
        async () => {
          opts.check?.();
          return member();
        },
        { timeoutMs: opts.perStepMs ?? 30_000, until: (m) => m?.overloaded === true },
      ) as M;
    } catch (err) {
      if (err instanceof GiveUp || loops.length >= max) throw err;
    }
  }
}

/**
 * The solo suites' world: a nats-server and a healthy target pinned to OTHER_CPU, a client that
 * collects `subjects` (default `lookout.>`), the node processes and busy loops started, and one stop
 * for all of them. A test that needs no results should not collect them: the test process runs on
 * OTHER_CPU too, beside the node that must stay healthy, and a thousand results a second kept and
 * scanned there is load of its own.
 */
export class StarveWorld {
  server: NatsServer | undefined;
  target: { proc: ChildProcess; port: number } | undefined;
  nc: NatsConnection | undefined;
  events: Collector | undefined;
  readonly nodes: LookoutProcess[] = [];
  readonly loops: ChildProcess[] = [];

  async start(subjects: string | readonly string[] = 'lookout.>'): Promise<{ target: { proc: ChildProcess; port: number }; nc: NatsConnection; events: Collector }> {
    this.server = await startNatsServer();
    pin(this.server.proc.pid, OTHER_CPU);
    this.target = await startTarget();
    pin(this.target.proc.pid, OTHER_CPU);
    this.nc = await client(this.server);
    this.events = new Collector(this.nc, subjects);
    return { target: this.target, nc: this.nc, events: this.events };
  }

  /** A `lookout node` with production timers and the overload settings of these tests, pinned to `cpu`. */
  startNode(id: string, cpu: string): LookoutProcess {
    const env = testEnv(this.server!, { LOOKOUT_NODE_ID: id, LOOKOUT_LOG_LEVEL: 'info', LOOKOUT_TIMING: 'production', LOOKOUT_OVERLOAD_LAG_MS: '250', LOOKOUT_OVERLOAD_HOLD_MS: '2000', LOOKOUT_OVERLOAD_RELIEF_MS: '5000' });
    const n = runLookout(['node'], env);
    this.nodes.push(n);
    pin(n.proc.pid, cpu);
    return n;
  }

  async stop(): Promise<void> {
    for (const l of this.loops) await kill(l);
    this.events?.stop();
    await this.nc?.close();
    for (const n of this.nodes) n.signal('SIGKILL');
    for (const n of this.nodes) await n.exited;
    await kill(this.target?.proc);
    await this.server?.cleanup();
  }
}
