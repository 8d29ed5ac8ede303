// The membership actor's clock watch (actors/clock-watch.ts) on a real metrics registry: the
// exposition of lookout_clock_offset_seconds{peer} and lookout_clock_skew_seconds (checked by
// promtool, the Prometheus project's linter), a peer's series removed when it is forgotten, and
// the log lines of a crossing.
import { spawnSync } from 'node:child_process';
import pino from 'pino';
import { clockWatch } from '../../actors/clock-watch';
import type { Heartbeat } from '../../protocol/records';
import { createMetrics } from '../../runtime/metrics';

const hb = (node: string, seq: number, sentAt?: number): Heartbeat => ({ node, instance: `${node}-i`, startedAt: 0, incarnation: 0, seq, version: '1', shards: 0, checks: 0, leaving: false, ...(sentAt === undefined ? {} : { sentAt }) });

function watched() {
  const metrics = createMetrics();
  const logs: any[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const watch = clockWatch({ node: 'a', boundMs: 1000, settleMs: 400, log, gauges: metrics });
  /** Three heartbeats from each peer: peer clock = ours + offset, received 2, 0 and 5 ms after sending. */
  const beats = (offsets: Record<string, number>, t0 = 1_700_000_000_000) => {
    for (let i = 0; i < 3; i++) for (const [peer, off] of Object.entries(offsets)) watch.heard(hb(peer, i + 1, t0 + i * 100 + off - [2, 0, 5][i]!), t0 + i * 100);
  };
  const clockLines = (text: string) => text.split('\n').filter((l) => l.startsWith('lookout_clock_'));
  return { metrics, logs, watch, beats, exposition: () => metrics.registry.metrics(), clockLines };
}

function promtool(text: string): { status: number | null; out: string } {
  const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (p.error) throw new Error(`promtool is needed for this test (Debian package "prometheus"): ${p.error.message}`);
  return { status: p.status, out: `${p.stdout}${p.stderr}`.trim() };
}

test('offsets per peer and this node\'s skew in the exposition; promtool accepts it; a forgotten peer\'s series goes', async () => {
  const w = watched();
  w.beats({ b: 0, c: -30_000 });
  w.watch.heard(hb('old', 1), 1_700_000_000_000); // an earlier version: no sentAt, no series
  w.watch.tick(['a', 'b', 'c', 'old'], 0);
  const text = await w.exposition();
  expect(w.clockLines(text)).toEqual(['lookout_clock_offset_seconds{peer="b"} 0', 'lookout_clock_offset_seconds{peer="c"} -30', 'lookout_clock_skew_seconds 0']);
  expect(text).toContain('# TYPE lookout_clock_offset_seconds gauge');
  expect(promtool(text)).toEqual({ status: 0, out: '' });
  w.watch.forget(['c']);
  w.watch.tick(['a', 'b'], 100);
  expect(w.clockLines(await w.exposition())).toEqual(['lookout_clock_offset_seconds{peer="b"} 0', 'lookout_clock_skew_seconds 0']);
  expect(promtool(await w.exposition())).toEqual({ status: 0, out: '' });
});

test('this node behind its peers: its own skew gauge, and once it has listened settleMs, a clock_skew line naming itself', async () => {
  const w = watched();
  w.beats({ b: 30_000, c: 30_000 });
  const report = w.watch.tick(['a', 'b', 'c'], 1000);
  expect(report.nodes.get('a')).toEqual({ offsetMs: 0, uncertaintyMs: 0, skewMs: -30_000 });
  expect(report.nodes.get('b')).toEqual({ offsetMs: 30_000, uncertaintyMs: 5, skewMs: 0 });
  expect(w.clockLines(await w.exposition())).toContain('lookout_clock_skew_seconds -30');
  expect(w.logs).toEqual([]); // listening for 0 of 400 ms: the gauges show it, no judgement yet
  w.watch.tick(['a', 'b', 'c'], 1399);
  expect(w.logs).toEqual([]);
  w.watch.tick(['a', 'b', 'c'], 1400);
  expect(w.logs.map((l) => [l.level, l.event, l.peer, l.offsetMs, l.skewMs, l.boundMs])).toEqual([[40, 'clock_skew', 'a', 0, -30_000, 1000]]);
  w.watch.tick(['a', 'b', 'c'], 1500);
  expect(w.logs).toHaveLength(1); // once per crossing
});
