// One layer of bench/http-layers.ts in a process of its own, so its CPU is its own: drives the
// layer's probe open-loop at `rate`/s (bench/lib/open-loop.ts), warms up, then measures a window
// with process.cpuUsage() (getrusage of the whole process: every thread, GC included) and prints
// one JSON line. argv: layer[+pub|+batch] host port path rate warmSec seconds natsUrl batchMs

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { openLoop } from './open-loop';
import { LAYERS, makeProbe, publishing, type Layer, type PublishMode } from './probe-layers';

const [spec, host, port, path, rateArg, warmArg, secArg, natsUrl, batchArg] = process.argv.slice(2);
const [layer, mode = 'none'] = spec!.split('+') as [Layer, PublishMode | undefined];
const rate = Number(rateArg);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  if (!LAYERS.includes(layer)) throw new Error(`unknown layer ${layer}; one of ${LAYERS.join(', ')}`);
  const nc: NatsConnection | null = mode === 'none' ? null : await connect({ servers: natsUrl!, name: `bench-layer-${spec}` });
  const pub = publishing(makeProbe(layer, { host: host!, port: Number(port), path: path! }), mode, nc, Number(batchArg));
  let counting = false;
  let done = 0;
  let ok = 0;
  let errors = 0;
  const fire = () =>
    pub.probe().then(
      (good) => {
        if (!counting) return;
        done++;
        if (good) ok++;
      },
      () => {
        if (!counting) return;
        done++;
        errors++;
      },
    );
  // At most one second of probes in flight: past that the layer is not keeping up, and it shows.
  const loop = openLoop(rate, fire, rate);
  await sleep(Number(warmArg) * 1000);
  const dropped0 = loop.dropped();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  counting = true;
  await sleep(Number(secArg) * 1000);
  counting = false;
  const c = process.cpuUsage(c0);
  const wallMs = performance.now() - t0;
  loop.stop();
  pub.stop();
  if (nc) await nc.flush();
  const out = { layer: spec, done, ok, errors, dropped: loop.dropped() - dropped0, cpuMs: (c.user + c.system) / 1000, wallMs };
  process.stdout.write(JSON.stringify(out) + '\n', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`${spec}: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
