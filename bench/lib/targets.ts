// Probe targets for the benchmarks, all on 127.0.0.1:
//   startCountingTarget() — an in-process HTTP server that records the arrival time of every
//                           request per path (target-load)
//   startNginx()          — Debian's nginx (apt-get install nginx-light), one worker, its own
//                           prefix dir, "200 ok" on every path (throughput)
//   startTcpSink()        — a child process that accepts TCP connections and closes them (scale)

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, waitFor } from './util';

export interface CountingTarget {
  port: number;
  /** Arrival times (Date.now()) per request path. */
  hits: Map<string, number[]>;
  total(): number;
  close(): Promise<void>;
}

export async function startCountingTarget(): Promise<CountingTarget> {
  const hits = new Map<string, number[]>();
  let total = 0;
  const server = http.createServer((req, res) => {
    const t = Date.now();
    const path = req.url ?? '/';
    let list = hits.get(path);
    if (!list) hits.set(path, (list = []));
    list.push(t);
    total++;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '3' });
    res.end('ok\n');
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    total: () => total,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

export interface Nginx {
  port: number;
  /** Master process pid (the worker is its child). */
  pid: number;
  stop(): Promise<void>;
}

export function nginxBinary(): string {
  for (const c of ['/usr/sbin/nginx', '/usr/bin/nginx']) if (existsSync(c)) return c;
  throw new Error('nginx not found: apt-get install -y nginx-light');
}

/** nginx with `workers` worker processes answering 200 "ok\n" on every path; keep-alive allowed. */
export async function startNginx(workers = 1): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'lookout-bench-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes ${workers};
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { default_type text/plain; return 200 "ok\\n"; }
  }
}
`,
  );
  const proc = spawn(nginxBinary(), ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await waitFor(
    'nginx answering',
    async () => {
      if (proc.exitCode !== null) throw new Error(`nginx exited ${proc.exitCode}: ${stderr}`);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      return res.status === 200;
    },
    10_000,
  );
  return {
    port,
    pid: proc.pid!,
    stop: () => stopChild(proc).then(() => rmSync(dir, { recursive: true, force: true })),
  };
}

export interface TcpSink {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** A separate process (bench/lib/tcp-sink.js) that accepts and immediately closes connections. */
export async function startTcpSink(): Promise<TcpSink> {
  const proc = spawn(process.execPath, [join(__dirname, 'tcp-sink.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout! });
    rl.once('line', (l) => resolve(Number(l.trim())));
    proc.once('exit', (c) => reject(new Error(`tcp sink exited ${c}`)));
  });
  return { port, pid: proc.pid!, stop: () => stopChild(proc) };
}

export async function stopChild(proc: ChildProcess, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill(sig);
  const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}
