// Spawn real nats-servers for tests, as the nats.js test harness does: a free port chosen by the
// server (-p -1) and read back from its ports file, a temp JetStream store dir, and a clear error
// when the binary is missing. Clusters of several servers with routes are supported too.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './poll';

export function natsServerBinary(): string {
  const candidates = [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  throw new Error('nats-server not found: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN');
}

export interface NatsServer {
  url: string;
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Stop the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** SIGKILL the server. */
  kill(): Promise<void>;
  /** Start it again on the same port and store dir. */
  restart(): Promise<void>;
  /** Stop and remove the store dir. */
  cleanup(): Promise<void>;
}

export interface ServerOptions {
  /** Fixed client port; default: chosen by the server. */
  port?: number;
  /** Extra config file content (e.g. a cluster block). */
  config?: string;
  name?: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export async function startNatsServer(opts: ServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'lookout-nats-'));
  const conf = join(dir, 'server.conf');
  const name = opts.name ?? `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(conf, [`server_name: ${name}`, `jetstream { store_dir: "${join(dir, 'js')}" }`, opts.config ?? ''].join('\n'));
  let port = opts.port ?? -1;
  let stderr = '';

  const launch = async (): Promise<ChildProcess> => {
    for (const f of readdirSync(dir)) if (f.endsWith('.ports')) rmSync(join(dir, f));
    stderr = '';
    const proc = spawn(bin, ['-c', conf, '-a', '127.0.0.1', '-p', String(port), '--ports_file_dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const portsFile = await waitFor(
      'nats-server ports file',
      () => {
        if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}: ${stderr}`);
        const f = readdirSync(dir).find((x) => x.endsWith('.ports'));
        return f ? join(dir, f) : undefined;
      },
      { timeoutMs: 15_000 },
    );
    const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] };
    port = Number(new URL(ports.nats[0]!).port);
    return proc;
  };

  let proc = await launch();
  const server: NatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    dir,
    get proc() {
      return proc;
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited(proc);
      clearTimeout(t);
    },
    async kill() {
      proc.kill('SIGKILL');
      await exited(proc);
    },
    async restart() {
      await server.stop();
      proc = await launch();
    },
    async cleanup() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

/**
 * A cluster of `n` JetStream-enabled nats-servers with routes between them, each with its own
 * store dir. Client ports are chosen by the servers; cluster ports are picked free up front.
 */
export async function startNatsCluster(n = 3): Promise<NatsServer[]> {
  const clusterPorts: number[] = [];
  for (let i = 0; i < n; i++) clusterPorts.push(await freePort());
  const routes = clusterPorts.map((p) => `nats-route://127.0.0.1:${p}`).join(', ');
  const tag = `${process.pid}-${Math.random().toString(36).slice(2, 6)}`;
  return Promise.all(
    clusterPorts.map((p, i) =>
      startNatsServer({
        name: `lk-${tag}-${i}`,
        config: `cluster { name: "lk-${tag}", listen: "127.0.0.1:${p}", routes: [${routes}] }`,
      }),
    ),
  );
}
