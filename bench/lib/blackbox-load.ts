// blackbox_exporter under the two load drivers of bench/throughput.ts, each on a fresh exporter
// process, warm-up first, then one measured window:
//   wrk-c8    `wrk -t1 -c8` on /probe?module=http_2xx&target=<nginx> (closed loop: as fast as 8
//             connections go; wrk cannot pace). The driver issue 12 measured blackbox with.
//   paced16   an open-loop driver in this process at a fixed rate, over a 16-connection keep-alive
//             undici Pool (the old bench's 16-connection driver, now paced).
// CPU: utime + stime of the exporter's process tree (/proc), over the window only.

import { loadavg } from 'node:os';
import { Pool } from 'undici';
import { startBlackbox } from './blackbox';
import { openLoop } from './open-loop';
import { LoadMeter, processTree, treeCpuMs } from './procfs';
import type { Window } from './rate-math';
import { sleep } from './util';
import { startWrk } from './wrk';

export interface ProberWindow extends Window {
  ok: number;
  loadavg1m: number;
  extra?: Record<string, unknown>;
}

/** Our processes besides the prober (nginx, nats-server, this process, drivers): not foreign load. */
export type OursFn = () => number[];

const probePath = (nginxPort: number) => `/probe?module=http_2xx&target=${encodeURIComponent(`http://127.0.0.1:${nginxPort}/`)}`;

export async function blackboxWrk(nginxPort: number, connections: number, warmSec: number, seconds: number, ours: OursFn): Promise<ProberWindow & { version: string }> {
  const bb = await startBlackbox();
  try {
    const url = `http://127.0.0.1:${bb.port}${probePath(nginxPort)}`;
    await startWrk(url, connections, warmSec).done;
    const wrk = startWrk(url, connections, seconds);
    const meter = new LoadMeter(() => [...processTree(bb.pid), wrk.pid, ...ours()]);
    const c0 = treeCpuMs(bb.pid);
    const t0 = performance.now();
    const r = await wrk.done;
    // wrk has exited: the window is over (its own duration is the wall time of the requests it counted).
    const c1 = treeCpuMs(bb.pid);
    const wall = performance.now() - t0;
    const load = meter.read();
    return {
      count: r.requests,
      ok: r.ok,
      cpuMs: c1 - c0,
      wallMs: Math.min(wall, r.durationMs || wall),
      foreignPct: load.foreignPct,
      loadavg1m: loadavg()[0]!,
      version: bb.version,
      extra: { driver: `wrk -t1 -c${connections}`, bad: r.bad, socketErrors: r.errors },
    };
  } finally {
    await bb.stop();
  }
}

export async function blackboxPaced(nginxPort: number, rate: number, connections: number, warmSec: number, seconds: number, ours: OursFn): Promise<ProberWindow & { version: string }> {
  const bb = await startBlackbox();
  const pool = new Pool(`http://127.0.0.1:${bb.port}`, { connections });
  const path = probePath(nginxPort);
  let counting = false;
  let done = 0;
  let ok = 0;
  const fire = async () => {
    const res = await pool.request({ path, method: 'GET' });
    const text = await res.body.text();
    if (!counting) return;
    done++;
    if (res.statusCode === 200 && /^probe_success 1$/m.test(text)) ok++;
  };
  // At most a second's worth queued: past that the exporter is not keeping up, and the shortfall shows.
  const loop = openLoop(rate, () => fire().catch(() => undefined), rate);
  try {
    await sleep(warmSec * 1000);
    const meter = new LoadMeter(() => [...processTree(bb.pid), ...ours()]);
    const dropped0 = loop.dropped();
    const c0 = treeCpuMs(bb.pid);
    const t0 = performance.now();
    counting = true;
    await sleep(seconds * 1000);
    counting = false;
    const c1 = treeCpuMs(bb.pid);
    const wall = performance.now() - t0;
    const load = meter.read();
    return {
      count: done,
      ok,
      cpuMs: c1 - c0,
      wallMs: wall,
      foreignPct: load.foreignPct,
      loadavg1m: loadavg()[0]!,
      version: bb.version,
      extra: { driver: `paced ${rate}/s over ${connections} keep-alive connections`, dropped: loop.dropped() - dropped0 },
    };
  } finally {
    loop.stop();
    await pool.destroy();
    await bb.stop();
  }
}
