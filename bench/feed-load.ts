// Loading a snapshot's entries from memory through the spec feeds (actors/spec-feed.ts), many feeds
// at once as at a start: how long until every feed has told SPECS_LOADED, and the event loop's
// worst delay meanwhile (perf_hooks.monitorEventLoopDelay, 1 ms resolution) — what the lease
// renewals and heartbeats would have waited.
//
//   npm run build && node dist/bench/feed-load.js
//   knobs: BENCH_FEEDS (256), BENCH_PER_FEED (1200), BENCH_REPS (3),
//          BENCH_DIST (a build's dist directory to load the feed from, e.g. an older commit's)
//
// Specs are HTTP checks as users write them (~130 bytes of JSON each). No NATS, no runner: the
// feeds' own CPU only.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { envInt, note, round, runBench } from './lib/util';

const FEEDS = envInt('BENCH_FEEDS', 256);
const PER_FEED = envInt('BENCH_PER_FEED', 1200);
const REPS = envInt('BENCH_REPS', 3);
const DIST = process.env.BENCH_DIST ?? join(__dirname, '..');

interface Entry {
  id: string;
  revision: number;
  deleted: boolean;
  value: Uint8Array;
}
type Feed = (source: unknown, catalog: unknown, log: unknown, tell: (e: { type: string }) => void) => () => Promise<void>;

/* eslint-disable @typescript-eslint/no-require-imports */
const { SpecCatalog } = require(join(DIST, 'actors', 'spec-catalog')) as { SpecCatalog: new (shards: number) => { size: number } };
const { followSpecs } = require(join(DIST, 'actors', 'spec-feed')) as { followSpecs: Feed };
const { snapshotThenTail } = require(join(DIST, 'runtime', 'spec-snapshot')) as { snapshotThenTail: (e: Entry[], seq: number, open: () => Promise<unknown>) => unknown };
/* eslint-enable @typescript-eslint/no-require-imports */

const quiet = { info() {}, warn() {}, error() {}, debug() {}, child: () => quiet };

async function once(): Promise<{ loadMs: number; maxDelayMs: number; p99DelayMs: number }> {
  const enc = new TextEncoder();
  const catalog = new SpecCatalog(256);
  // A tail that never delivers (the feed follows it after its load).
  const never = { changes: { [Symbol.asyncIterator]: () => ({ next: () => new Promise<never>(() => {}) }) }, stop() {} };
  const sources = Array.from({ length: FEEDS }, (_, f) => {
    const entries: Entry[] = [];
    for (let i = 0; i < PER_FEED; i++) {
      const spec = { kind: 'http', target: `http://127.0.0.1:${1000 + (i % 5000)}/c/${f}-${i}`, intervalMs: 60_000, timeoutMs: 1_000 };
      entries.push({ id: `f${f}-${i}`, revision: f * PER_FEED + i + 1, deleted: false, value: enc.encode(JSON.stringify(spec)) });
    }
    return { local: true, count: async () => PER_FEED, watch: async () => snapshotThenTail(entries, FEEDS * PER_FEED, async () => never) };
  });
  const h = monitorEventLoopDelay({ resolution: 1 });
  const stops: (() => Promise<void>)[] = [];
  const t0 = performance.now();
  h.enable();
  await new Promise<void>((resolve) => {
    let loaded = 0;
    for (const s of sources) stops.push(followSpecs(s, catalog, quiet, (e) => e.type === 'SPECS_LOADED' && ++loaded === FEEDS && resolve()));
  });
  const loadMs = performance.now() - t0;
  h.disable();
  void Promise.all(stops.map((s) => s()));
  return { loadMs: round(loadMs), maxDelayMs: round(h.max / 1e6), p99DelayMs: round(h.percentile(99) / 1e6) };
}

runBench('feed-load', async () => {
  const runs = [];
  for (let i = 0; i < REPS; i++) {
    const r = await once();
    note(`rep ${i + 1}: ${JSON.stringify(r)}`);
    runs.push(r);
  }
  return { feeds: FEEDS, perFeed: PER_FEED, dist: DIST, runs };
});
