// What a node says of dropped publishes (runtime/publish-drops.ts): the counter exactly, the log
// line at once for the first drop after a quiet spell, then one line per DROP_LOG_MS with the sum —
// never one line per dropped message (a pause at 1M checks logged 15,852 of them in 20 s).
import pino from 'pino';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { DROP_LOG_MS, publishDrops } from '../../runtime/publish-drops';

function harness() {
  const lines: { results: number; statuses: number; at: number }[] = [];
  const clock = new ManualClock(0);
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push({ ...JSON.parse(s), at: clock.monotonic() }) });
  const metrics = createMetrics();
  const drops = publishDrops({ metrics, log, clock });
  const counted = async () => Object.fromEntries((await metrics.pauseDropped.get()).values.map((v) => [v.labels.type, v.value]));
  return { lines, clock, drops, counted };
}

test('a flood of single drops: the first logged at once, the rest summed once per window; the counter counts every one', async () => {
  const h = harness();
  for (let i = 0; i < 1000; i++) h.drops.note({ result: 1, status: i % 10 === 0 ? 1 : 0 });
  expect(h.lines.map(({ results, statuses, at }) => ({ results, statuses, at }))).toEqual([{ results: 1, statuses: 1, at: 0 }]);
  h.clock.advance(DROP_LOG_MS);
  expect(h.lines.slice(1).map(({ results, statuses, at }) => ({ results, statuses, at }))).toEqual([{ results: 999, statuses: 99, at: DROP_LOG_MS }]);
  // Quiet for a window: nothing to write, and no timer left armed.
  h.clock.advance(DROP_LOG_MS);
  expect(h.lines).toHaveLength(2);
  expect(h.clock.pending).toBe(0);
  // The next drop after the quiet spell is logged at once again.
  h.drops.note({ result: 0, status: 1 });
  expect(h.lines.at(-1)).toMatchObject({ event: 'publishes_dropped', results: 0, statuses: 1, at: 2 * DROP_LOG_MS });
  expect(await h.counted()).toEqual({ result: 1000, status: 101 });
});

test('what is not logged yet is written when the node stops', () => {
  const h = harness();
  h.drops.note({ result: 1, status: 0 });
  h.drops.note({ result: 3, status: 2 });
  expect(h.lines).toHaveLength(1);
  h.drops.stop();
  expect(h.lines.map(({ results, statuses }) => ({ results, statuses }))).toEqual([
    { results: 1, statuses: 0 },
    { results: 3, statuses: 2 },
  ]);
  expect(h.clock.pending).toBe(0);
});

test('nothing dropped, nothing said', async () => {
  const h = harness();
  h.drops.note({ result: 0, status: 0 });
  h.drops.stop();
  expect(h.lines).toEqual([]);
  expect(await h.counted()).toEqual({});
});
