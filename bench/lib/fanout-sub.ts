// Fan-out subscriber process (bench/fanout.ts spawns a few): opens `conns` NATS connections, each
// subscribed to lookout.result.>, and for every message parses the JSON (as a real consumer would)
// and records receipt − publish stamp. Stamps are process.hrtime (CLOCK_MONOTONIC), the same clock
// in every process on the host. Latencies go into a histogram with 1 µs buckets up to 1 s.
// Protocol: argv = natsUrl conns; prints "ready" once subscribed; on stdin "stop" prints one
// JSON line {counts (sparse [µs, n][]), received, over} and exits.

import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createInterface } from 'node:readline';

const [url, connsArg] = process.argv.slice(2);
const conns = Number(connsArg ?? 1);
const MAX_US = 1_000_000;
const hist = new Uint32Array(MAX_US + 1);
let received = 0;
let over = 0;
let warm = 0;

async function main(): Promise<void> {
  const ncs: NatsConnection[] = [];
  for (let i = 0; i < conns; i++) {
    const nc = await connect({ servers: url!, name: `fanout-sub-${process.pid}-${i}` });
    nc.subscribe('lookout.result.>', {
      callback: (err, m) => {
        if (err) return;
        const now = process.hrtime.bigint();
        const r = m.json<{ t: string; warm?: boolean }>();
        if (r.warm) {
          warm++;
          return;
        }
        const us = Number((now - BigInt(r.t)) / 1000n);
        received++;
        if (us > MAX_US) over++;
        else hist[Math.max(0, us)]!++;
      },
    });
    await nc.flush();
    ncs.push(nc);
  }
  process.stdout.write('ready\n');
  createInterface({ input: process.stdin }).on('line', async (line) => {
    if (line.trim() !== 'stop') return;
    const counts: [number, number][] = [];
    for (let i = 0; i <= MAX_US; i++) if (hist[i]) counts.push([i, hist[i]!]);
    await Promise.all(ncs.map((nc) => nc.close()));
    // Exit only once the (large) line is flushed to the pipe.
    process.stdout.write(JSON.stringify({ counts, received, over, warm }) + '\n', () => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`fanout-sub: ${(err as Error).message}\n`);
  process.exit(1);
});
