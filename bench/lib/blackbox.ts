// Debian's prometheus-blackbox-exporter (apt-get install prometheus-blackbox-exporter) with one
// module, http_2xx: a GET per probe. blackbox_exporter builds a new HTTP transport for every probe,
// so every probe opens a fresh connection (there is no keep-alive setting to turn off).

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopChild } from './targets';
import { freePort, waitFor } from './util';

export interface Blackbox {
  port: number;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

export function blackboxBinary(): string {
  for (const c of ['/usr/bin/prometheus-blackbox-exporter', '/usr/local/bin/blackbox_exporter']) if (existsSync(c)) return c;
  throw new Error('blackbox_exporter not found: apt-get install -y prometheus-blackbox-exporter');
}

export const BLACKBOX_CONFIG = `modules:
  http_2xx:
    prober: http
    timeout: 2s
    http:
      method: GET
      valid_status_codes: [200]
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      enable_http2: false
`;

export async function startBlackbox(): Promise<Blackbox> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-blackbox-'));
  writeFileSync(join(dir, 'blackbox.yml'), BLACKBOX_CONFIG);
  const port = await freePort();
  let out = '';
  const proc = spawn(blackboxBinary(), [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(
    'blackbox_exporter answering',
    async () => {
      if (proc.exitCode !== null) throw new Error(`blackbox_exporter exited ${proc.exitCode}: ${out}`);
      return (await fetch(`http://127.0.0.1:${port}/metrics`)).ok;
    },
    15_000,
  );
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const version = /blackbox_exporter_build_info\{[^}]*version="([^"]+)"/.exec(metrics)?.[1] ?? 'unknown';
  return {
    port,
    pid: proc.pid!,
    version,
    stop: () => stopChild(proc).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}
