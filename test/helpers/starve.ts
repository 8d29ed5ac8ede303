// CPU starvation for the solo suites (test/solo/): pin processes to a CPU with taskset, burn a CPU
// with busy loops beside a node, and a healthy HTTP target in a process of its own.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { startNatsServer, type NatsServer } from '../../testkit/nats-server';
import { client, Collector, testEnv } from './lookout';
import { GiveUp, waitFor } from './poll';
import { runLookout, type LookoutProcess } from './processes';

/** Events StarveWorld.report prints, and the log fields it leaves out. */
const REPORTED = new Set(['node_overloaded', 'node_overload_cleared', 'member_relieved', 'member_unrelieved', 'relief_withheld', 'relief_unwithheld', 'assignment_written', 'slots_running', 'leader_elected', 'leader_stepped_down', 'member_dead', 'member_suspect', 'member_running']);
const OMITTED = new Set(['level', 'time', 'pid', 'hostname', 'node', 'event', 'msg', 'actor']);

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
 * Pin busy loops beside the node on NODE_CPU (into `loops`, for the caller to kill) until `until`
 * accepts what `probe` returns: at least `min` loops to start with, one more each time `perStepMs`
 * passes without it, at most `max` (then the last wait's error is thrown). How many it takes depends
 * on what else the machine runs. `check` runs at every poll (it may throw GiveUp to stop at once).
 */
export async function starveUntil<T>(
  loops: ChildProcess[],
  what: string,
  probe: () => Promise<T> | T,
  until: (v: T) => unknown,
  opts: { min?: number; max?: number; perStepMs?: number; check?: () => void } = {},
): Promise<T> {
  const max = opts.max ?? 6;
  while (loops.length < (opts.min ?? 0)) loops.push(busyLoop(NODE_CPU));
  for (;;) {
    try {
      return await waitFor(
        `${what} (${loops.length} busy loops)`,
        async () => {
          opts.check?.();
          return probe();
        },
        { timeoutMs: opts.perStepMs ?? 30_000, until },
      );
    } catch (err) {
      if (err instanceof GiveUp || loops.length >= max) throw err;
    }
    loops.push(busyLoop(NODE_CPU));
  }
}

/**
 * Starve the node until `member()` says it is overloaded: three busy loops to start with (with
 * three, the node kept up in some runs), one more each `perStepMs` without it, at most `max`.
 * Resolves with the member as it said so.
 */
export function starveUntilOverloaded<M extends { overloaded?: boolean }>(
  loops: ChildProcess[],
  member: () => Promise<M | undefined>,
  opts: { max?: number; perStepMs?: number; check?: () => void } = {},
): Promise<M> {
  return starveUntil(loops, 'the node to say it is overloaded', member, (m) => m?.overloaded === true, { min: 3, ...opts }) as Promise<M>;
}

/**
 * What relief turns on, from a cluster.status answer, short enough for a timeout's "last returned":
 * the map's term, epoch and relieved list, and per member `node state flags lag primaries`.
 */
export function reliefView(st: any): { term: number | null; epoch: number | null; leader: string | null; relieved: string[]; members: string[] } {
  const flags = (m: any) => ['starting', 'overloaded', 'relieved'].filter((f) => m[f]).join('+') || 'clear';
  return {
    term: st?.assignment?.term ?? null,
    epoch: st?.assignment?.epoch ?? null,
    leader: st?.leader?.node ?? null,
    relieved: st?.assignment?.relieved ?? [],
    members: (st?.members ?? []).map((m: any) => `${m.node} ${m.state} ${flags(m)} lag=${m.lagMs} primary=${m.shards?.primary ?? '-'}`),
  };
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

  /**
   * On a failure: each node's log lines an operator reads to follow overload and relief (kept whole
   * in a file under the OS temp dir, the last `tail` of them printed), since the solo tests decide
   * from the cluster's messages and a failure's last status alone cannot say why relief was withheld.
   */
  report(tail = 60): void {
    try {
      this.printReport(tail);
    } catch (err) {
      console.error(`could not report the node logs: ${String(err)}`); // never in place of the test's own failure
    }
  }

  private printReport(tail: number): void {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-solo-'));
    const lines: string[] = [];
    for (const n of this.nodes) {
      const logs = n.logs();
      writeFileSync(join(dir, `${logs[0]?.node ?? n.proc.pid}.ndjson`), n.output());
      for (const l of logs) if (REPORTED.has(l.event)) lines.push(`${l.time ?? ''} ${l.node} ${l.event} ${JSON.stringify(Object.fromEntries(Object.entries(l).filter(([k]) => !OMITTED.has(k))))}`);
    }
    lines.sort();
    console.error(`node logs kept in ${dir}; the last ${Math.min(tail, lines.length)} of ${lines.length} overload and relief events:\n${lines.slice(-tail).join('\n')}`);
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
