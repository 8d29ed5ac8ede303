// `lookout dev`: a whole cluster on one machine for a newcomer. Starts a local nats-server with
// JetStream (found on PATH or in /usr/sbin), three `lookout node` processes, the demo target and
// the example specs, then shows live status: members, leader, and every check with the node that
// probes it. Ctrl-C stops everything it started and leaves no process behind: the children run in
// process groups of their own (the terminal's Ctrl-C reaches only this process), and the nodes are
// stopped one at a time, the leader last (each leaves gracefully; the lease is released once).
// The state folder is locked (dev-state.ts), its NATS URL written to `<dir>/env`; a node that
// exits on its own is reported at once with the end of its log.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { runClientCommand } from '../cli/client';
import type { ClusterStatusReply } from '../cli/format';
import { readArgv } from '../runtime/argv';
import { resultVerdictOf } from '../protocol/check-state';
import { ConfigError } from '../runtime/config';
import { subjects } from '../runtime/subjects';
import { startDemoTarget } from './demo-target';
import { lockDevDir, preferredNatsPort, publishDevUrl, unlockDevDir } from './dev-state';
import { StatusView } from './status-view';
import { findNatsServer, NATS_SERVER_INSTALL_HINT, spawnNatsServer } from './nats-server-process';

const USAGE = `Usage: lookout dev [--nodes N] [--dir DIR] [--metrics-port P] [--no-status]

Starts a local dev cluster: a nats-server with JetStream, N Lookout nodes (default 3), a demo
target with healthy, failing, slow and flapping endpoints, and the example specs; then shows live
status. Ctrl-C stops everything.

  --nodes N      nodes to start (1..9, default 3)
  --dir DIR      state and logs (default .lookout-dev in the current directory)
  --metrics-port P  node i serves /metrics on P+i-1 (default 9464; 0: any free port)
  --no-status    print one status line per change instead of redrawing a screen
`;

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'lookout.js');

export interface DevOptions {
  nodes: number;
  dir: string;
  status: boolean;
  metricsPort: number;
}

export function parseDevArgs(argv: readonly string[]): DevOptions | 'help' {
  const { flags } = readArgv(
    argv,
    { nodes: { type: 'string' }, 'metrics-port': { type: 'string' }, dir: { type: 'string' }, 'no-status': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    (p) =>
      new ConfigError(
        p.kind === 'missing-value' ? `${p.flag} needs a value` : p.kind === 'unexpected-value' ? `${p.flag} takes no value` : `unknown option ${JSON.stringify(p.kind === 'unknown-flag' ? p.flag : p.value)} (see lookout dev --help)`,
      ),
    0,
  );
  if (flags.has('help')) return 'help';
  const o: DevOptions = { nodes: 3, dir: resolve('.lookout-dev'), status: !flags.has('no-status'), metricsPort: 9464 };
  const nodes = flags.get('nodes');
  if (nodes !== undefined) {
    const n = Number(nodes);
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new ConfigError('--nodes: expected an integer from 1 to 9');
    o.nodes = n;
  }
  const metricsPort = flags.get('metrics-port');
  if (metricsPort !== undefined) {
    const n = Number(metricsPort);
    if (!Number.isInteger(n) || n < 0 || n > 65_000) throw new ConfigError('--metrics-port: expected a port number');
    o.metricsPort = n;
  }
  const dir = flags.get('dir');
  if (dir !== undefined) {
    if (dir === '') throw new ConfigError('--dir needs a value');
    o.dir = resolve(dir as string);
  }
  return o;
}

function waitExit(p: ChildProcess, ms: number): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
    }, ms);
    p.once('exit', () => {
      clearTimeout(t);
      res();
    });
  });
}

async function startNats(bin: string, dir: string): Promise<{ proc: ChildProcess; url: string }> {
  const store = join(dir, 'nats');
  mkdirSync(store, { recursive: true });
  const log = openSync(join(dir, 'nats-server.log'), 'a');
  const port = await preferredNatsPort();
  try {
    return await spawnNatsServer({ bin, dir, args: ['-js', '-sd', store], stdio: ['ignore', log, log], ...(port ? { port } : {}), detached: true });
  } catch (err) {
    throw new Error(`${(err as Error).message}; see ${join(dir, 'nats-server.log')}`);
  }
}

export async function runDev(argv: string[]): Promise<number> {
  const opts = parseDevArgs(argv);
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const bin = findNatsServer();
  if (!bin) throw new Error(NATS_SERVER_INSTALL_HINT);
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (or "npm ci", which builds) first`);
  mkdirSync(join(opts.dir, 'logs'), { recursive: true });
  lockDevDir(opts.dir);

  const children: ChildProcess[] = [];
  const nodeIds = new Map<ChildProcess, string>();
  let view: StatusView | null = null;
  let nc: NatsConnection | null = null;
  let demo: { close(): Promise<void>; url: string } | null = null;
  let refresh: NodeJS.Timeout | null = null;
  let stopping = false;
  const say = (s: string) => process.stdout.write(`${s}\n`);

  const stopAll = async () => {
    if (refresh) clearInterval(refresh);
    await nc?.close().catch(() => {});
    // One node at a time, the leader last: each leaves gracefully, and leadership moves at most once.
    const leader = view?.cluster?.leader?.node;
    const nodes = children.slice(1).sort((a, b) => Number(nodeIds.get(a) === leader) - Number(nodeIds.get(b) === leader));
    for (const p of nodes) {
      p.kill('SIGTERM');
      await waitExit(p, 10_000);
    }
    await demo?.close().catch(() => {});
    const nats = children[0];
    if (nats) {
      nats.kill('SIGTERM');
      await waitExit(nats, 5000);
    }
    unlockDevDir(opts.dir);
  };

  const done = new Promise<number>((resolveDone) => {
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      say('\nstopping the dev cluster…');
      stopAll().then(
        () => {
          say('stopped: nats-server, nodes and demo target are gone');
          resolveDone(0);
        },
        () => resolveDone(1),
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  });

  try {
    const nats = await startNats(bin, opts.dir);
    children.push(nats.proc);
    say(`nats-server ${bin} (pid ${nats.proc.pid}) on ${nats.url} (JetStream store ${join(opts.dir, 'nats')})`);
    const envFile = publishDevUrl(opts.dir, nats.url);
    const target = await startDemoTarget({ host: '127.0.0.1', port: 0 });
    demo = target;
    say(`demo target on ${target.url}`);
    for (let i = 1; i <= opts.nodes; i++) {
      const logFile = join(opts.dir, 'logs', `dev-${i}.log`);
      const log = openSync(logFile, 'a');
      const port = opts.metricsPort === 0 ? 0 : opts.metricsPort + i - 1;
      const p = spawn(process.execPath, [CLI, 'node'], {
        env: { ...process.env, NATS_URL: nats.url, LOOKOUT_NODE_ID: `dev-${i}`, LOOKOUT_HTTP_PORT: String(port) },
        stdio: ['ignore', log, log],
        detached: true, // its own process group: the terminal's Ctrl-C reaches only this process, which stops the nodes in order
      });
      children.push(p);
      nodeIds.set(p, `dev-${i}`);
      p.once('exit', (code, signal) => {
        if (!stopping) say(`\nnode dev-${i} (pid ${p.pid}) exited (${code ?? signal}); the end of ${logFile}:\n${tail(logFile, 5)}\n`);
      });
      const where = port === 0 ? 'metrics on a free port (see its log)' : `metrics on http://127.0.0.1:${port}/metrics`;
      say(`node dev-${i} (pid ${p.pid}) — ${where}, log ${logFile}`);
    }
    nc = await connect({ servers: nats.url, name: 'lookout-dev' });
    const s = subjects();
    // Seed the example specs (the same command the compose seed service runs) once a node answers.
    const examples = join(ROOT, 'examples', 'specs');
    const io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: { ...process.env, NATS_URL: nats.url, DEMO_URL: target.url } };
    if ((await runClientCommand('spec', ['put', '--wait', '30000', examples], io)) !== 0) {
      throw new Error(`could not seed the example specs; see the logs in ${join(opts.dir, 'logs')}`);
    }
    say(`\nWatch it yourself:  source ${envFile}; ./lookout watch    |    NATS_URL=${nats.url} ./lookout cluster\n`);

    view = new StatusView(nats.url, envFile);
    const screen = view;
    const conn = nc;
    conn.subscribe(s.resultWildcard(), {
      callback: (err, m) => {
        if (err) return;
        const r = m.json<{ checkId: string; status: string; degraded?: boolean; flapping?: boolean; node: string; latencyMs: number; reason: string | null; message?: string | null; at: string }>();
        screen.checks.set(r.checkId, { status: resultVerdictOf(r), node: r.node, latencyMs: r.latencyMs, reason: r.reason, message: r.message ?? null, at: r.at });
      },
    });
    conn.subscribe(s.statusWildcard(), {
      callback: (err, m) => {
        if (err) return;
        const t = m.json<{ checkId: string; from: string; to: string; node: string; at: string }>();
        const line = `${t.at.slice(11, 19)} ${t.checkId}: ${t.from} → ${t.to} (by ${t.node})`;
        screen.addTransition({ at: t.at, text: line });
        if (!opts.status) say(line);
      },
    });
    const tty = process.stdout.isTTY && opts.status;
    refresh = setInterval(() => {
      conn
        .request(s.clusterStatus(), '', { timeout: 1000 })
        .then((m) => (screen.cluster = m.json<ClusterStatusReply>()))
        .catch(() => {})
        .finally(() => {
          if (stopping) return;
          if (tty) process.stdout.write(`\x1b[2J\x1b[H${screen.render()}\n\nCtrl-C stops everything.\n`);
          else if (opts.status) say(screen.summary());
        });
    }, 2000);
  } catch (err) {
    stopping = true;
    await stopAll();
    throw err;
  }
  return done;
}

/** The last `n` lines of a log file (for a node that exited). */
function tail(file: string, n: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}
