// Benchmark: the spec API's list right after a write, on a catalog of many ids (issue 12 §4).
// A catalog of BENCH_IDS specs, one list page first (the order is built), then BENCH_PUTS rounds
// of "put one new id, list the first page"; each round's list is timed. Pure CPU in this process.
//
//   npm run build && npm run bench:catalog-list
//   knobs: BENCH_IDS (200000), BENCH_PUTS (200), BENCH_LIMIT (1000: ids per page)

import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { SpecCatalog } from '../actors/spec-catalog';
import { normalizeSpec } from '../checks/spec';
import { LoadMeter } from './lib/procfs';
import { median } from './lib/stats';
import { codeVersion, envInt, note, round, runBench } from './lib/util';

const IDS = envInt('BENCH_IDS', 200_000);
const PUTS = envInt('BENCH_PUTS', 200);
const LIMIT = envInt('BENCH_LIMIT', 1000);

const spec = (id: string) => normalizeSpec(id, { kind: 'tcp', target: '127.0.0.1:9', intervalMs: 60_000, timeoutMs: 1000 } as never);

runBench('catalog-list', async () => {
  const load = new LoadMeter(() => [process.pid]);
  const catalog = new SpecCatalog(256);
  for (let i = 0; i < IDS; i++) catalog.set(spec(`check-${(i * 7919) % IDS}-${i}`), 1);
  let t = performance.now();
  catalog.page(null, LIMIT);
  const firstMs = performance.now() - t;
  const ms: number[] = [];
  for (let i = 0; i < PUTS; i++) {
    catalog.set(spec(`check-${(i * 104729) % IDS}-new`), 2);
    t = performance.now();
    const p = catalog.page(null, LIMIT);
    ms.push(performance.now() - t);
    if (p.ids.length !== Math.min(LIMIT, IDS + i + 1)) throw new Error(`page of ${p.ids.length} ids`);
  }
  ms.sort((a, b) => a - b);
  const out = { code: codeVersion(), ids: IDS, puts: PUTS, limit: LIMIT, firstPageMs: round(firstMs), listAfterPutMedianMs: round(median(ms), 3), listAfterPutMaxMs: round(ms[ms.length - 1]!, 3), loadavg: loadavg().map((x) => round(x)), ...load.read() };
  note(out);
  return out;
});
