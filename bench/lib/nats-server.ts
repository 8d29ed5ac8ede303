// Spawn a JetStream nats-server for one benchmark: port chosen by the server (-p -1) and read back
// from its ports file, a temp store dir removed at the end. Never touches a server it did not start.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './util';

export function natsServerBinary(): string {
  for (const c of [process.env.NATS_SERVER_BIN, '/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server']) {
    if (c && existsSync(c)) return c;
  }
  throw new Error('nats-server not found (Debian: apt-get install nats-server) or set NATS_SERVER_BIN');
}

export interface BenchNats {
  url: string;
  port: number;
  pid: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function startNats(extraConfig = ''): Promise<BenchNats> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-nats-'));
  const conf = join(dir, 'server.conf');
  writeFileSync(conf, [`server_name: bench${process.pid}`, `jetstream { store_dir: "${join(dir, 'js')}" }`, extraConfig].join('\n'));
  let stderr = '';
  const proc = spawn(natsServerBinary(), ['-c', conf, '-a', '127.0.0.1', '-p', '-1', '--ports_file_dir', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const portsFile = await waitFor(
    'nats-server ports file',
    () => {
      if (proc.exitCode !== null) throw new Error(`nats-server exited with ${proc.exitCode}: ${stderr}`);
      const f = readdirSync(dir).find((x) => x.endsWith('.ports'));
      return f ? join(dir, f) : undefined;
    },
    15_000,
    20,
  );
  const port = Number(new URL((JSON.parse(readFileSync(portsFile, 'utf8')) as { nats: string[] }).nats[0]!).port);
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: proc.pid!,
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise<void>((r) => proc.once('exit', () => r()));
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
