// Start a local nats-server as a child process: found on PATH, in /usr/sbin or /usr/local/bin (or
// NATS_SERVER_BIN), listening on 127.0.0.1 on a port it picks itself (-p -1) or a given one; the
// chosen port is read back from the ports file it writes. Used by `lookout dev`, and by the tests
// and benchmarks, which each run their own servers.

import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export const NATS_SERVER_INSTALL_HINT =
  'nats-server not found on PATH, in /usr/sbin or /usr/local/bin. Install it: Debian/Ubuntu "sudo apt-get install nats-server", ' +
  'macOS "brew install nats-server", or a release from https://github.com/nats-io/nats-server/releases (or set NATS_SERVER_BIN).';

export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string | null {
  const candidates = [env.NATS_SERVER_BIN, ...(env.PATH ?? '').split(':').map((d) => d && join(d, 'nats-server')), '/usr/sbin/nats-server', '/usr/local/bin/nats-server'];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

export interface NatsServerProcess {
  proc: ChildProcess;
  port: number;
  url: string;
}

export interface SpawnOptions {
  /** Directory for the ports file (existing .ports files in it are removed first). */
  dir: string;
  /** Fixed client port; default: any free port. */
  port?: number;
  /** Arguments before the listen options, e.g. ['-c', conf] or ['-js', '-sd', store]. */
  args?: string[];
  stdio?: StdioOptions;
  timeoutMs?: number;
  bin?: string;
  /** Its own process group (lookout dev: the terminal's Ctrl-C must reach only the parent, which stops it last). */
  detached?: boolean;
}

/** The client port from the server's ports file; null until the file is there and complete (it may be caught half-written). */
function readPortsFile(dir: string): number | null {
  const f = readdirSync(dir).find((x) => x.endsWith('.ports'));
  if (!f) return null;
  try {
    const ports = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { nats?: string[] };
    const port = Number(new URL(ports.nats![0]!).port);
    return port > 0 ? port : null;
  } catch {
    return null;
  }
}

/** Spawn nats-server and resolve once it has written its ports file. */
export async function spawnNatsServer(o: SpawnOptions): Promise<NatsServerProcess> {
  const bin = o.bin ?? findNatsServer();
  if (!bin) throw new Error(NATS_SERVER_INSTALL_HINT);
  for (const f of readdirSync(o.dir)) if (f.endsWith('.ports')) rmSync(join(o.dir, f));
  const proc = spawn(bin, [...(o.args ?? []), '-a', '127.0.0.1', '-p', String(o.port ?? -1), '--ports_file_dir', o.dir], { stdio: o.stdio ?? ['ignore', 'ignore', 'pipe'], detached: o.detached === true });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + (o.timeoutMs ?? 15_000);
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nats-server exited with code ${proc.exitCode}${stderr ? `: ${stderr.trim()}` : ''}`);
    const port = readPortsFile(o.dir);
    if (port !== null) return { proc, port, url: `nats://127.0.0.1:${port}` };
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`nats-server did not start within ${o.timeoutMs ?? 15_000} ms${stderr ? `: ${stderr.trim()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
