// Spawn real nats-servers for tests, as the nats.js test harness does: a free port chosen by the
// server (-p -1) and read back from its ports file, a temp JetStream store dir, and a clear error
// when the binary is missing. Clusters of several servers with routes are supported too, and so
// are servers started from a config file (e.g. examples/nats/server.conf) with their log kept.

import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { findNatsServer, NATS_SERVER_INSTALL_HINT, spawnNatsServer } from '../dev/nats-server-process';
import { connect } from '@nats-io/transport-node';
import { freePort } from './free-port';
import { waitFor } from './wait';

export function natsServerBinary(): string {
  const bin = findNatsServer();
  if (!bin) throw new Error(NATS_SERVER_INSTALL_HINT);
  return bin;
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
  /** The server's log so far ('' unless started with `logFile: true`). */
  log(): string;
}

export interface ServerOptions {
  /** Fixed client port; default: chosen by the server. */
  port?: number;
  /** Extra config file content (e.g. a cluster block). */
  config?: string;
  name?: string;
  /**
   * Start from this config file (e.g. examples/nats/server.conf) instead of an empty one. It and
   * the files it includes are copied into the server's temp dir; its `server_name` and JetStream
   * `store_dir` are replaced by the test's own, and its `listen` is overridden by -a/-p. `config`
   * is appended after it.
   */
  configFile?: string;
  /**
   * Values for the `$NAME` references of the config file (e.g. passwords nats-server would take
   * from its environment): defined at the top of the copied file, where nats-server looks first.
   */
  vars?: Record<string, string>;
  /** Write the server's log to `<dir>/server.log`, readable through `log()`. */
  logFile?: boolean;
}

/** Copy `file` and, recursively, the files it `include`s (relative to it) into `dir`; return its text. */
function copyWithIncludes(file: string, dir: string): string {
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/^\s*include\s+["']?([^"'\s;]+)["']?/gm)) {
    const inc = join(dirname(file), m[1]!);
    if (!existsSync(join(dir, basename(inc)))) {
      writeFileSync(join(dir, basename(inc)), copyWithIncludes(inc, dir));
    }
  }
  return text;
}

function configText(opts: ServerOptions, dir: string, name: string): string {
  const store = `store_dir: "${join(dir, 'js')}"`;
  const log = opts.logFile ? `log_file: "${join(dir, 'server.log')}"` : '';
  if (!opts.configFile) return [`server_name: ${name}`, `jetstream { ${store} }`, log, opts.config ?? ''].join('\n');
  const vars = Object.entries(opts.vars ?? {}).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
  const base = copyWithIncludes(opts.configFile, dir)
    .replace(/^\s*server_name\s*[:=].*$/gm, '')
    .replace(/^(\s*)store_dir\s*[:=].*$/gm, `$1${store}`);
  return [...vars, `server_name: ${name}`, base, log, opts.config ?? ''].join('\n');
}

export { freePort };

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

export async function startNatsServer(opts: ServerOptions = {}): Promise<NatsServer> {
  const bin = natsServerBinary();
  const dir = mkdtempSync(join(tmpdir(), 'lookout-nats-'));
  const conf = join(dir, 'server.conf');
  const name = opts.name ?? `t${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  writeFileSync(conf, configText(opts, dir, name));
  let port = opts.port ?? -1;

  const launch = async (): Promise<ChildProcess> => {
    const started = await spawnNatsServer({ bin, dir, args: ['-c', conf], ...(port > 0 ? { port } : {}) });
    port = started.port;
    return started.proc;
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
    log() {
      const file = join(dir, 'server.log');
      return existsSync(file) ? readFileSync(file, 'utf8') : '';
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

/**
 * A routed NATS cluster needs its JetStream meta group before buckets can be created, and a
 * node gives up at start if creating its 3-way buckets times out: wait until a scratch 3-way
 * bucket can be created (and remove it).
 */
export async function jetStreamReady(server: NatsServer, replicas: number): Promise<void> {
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const { Kvm } = await import('@nats-io/kv');
  await waitFor(
    'JetStream cluster ready',
    async () => {
      const nc = await connect({ servers: server.url, name: 'test-js-ready' });
      try {
        const jsm = await jetstreamManager(nc, { timeout: 20_000 });
        await jsm.getAccountInfo();
        await new Kvm(nc).create('test_ready', { replicas });
        await jsm.streams.delete('KV_test_ready');
        return true;
      } finally {
        await nc.close();
      }
    },
    90_000,
    250,
  );
}
