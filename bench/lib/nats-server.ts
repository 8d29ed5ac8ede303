// Spawn a JetStream nats-server for one benchmark: port chosen by the server (-p -1) and read back
// from its ports file, a temp store dir removed at the end. Never touches a server it did not start.

import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnNatsServer } from '../../dev/nats-server-process';

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
  const { proc, port } = await spawnNatsServer({ dir, args: ['-c', conf] });
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
