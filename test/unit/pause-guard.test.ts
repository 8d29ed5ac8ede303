// The pause guard (actors/pause-guard.ts) with a fake queue, a fake NATS flush and a manual clock:
// it holds the queue from the pause until a flush succeeded and the follower answered a map
// re-read, retries what fails, starts over on another pause, and gives up holding after
// confirmMaxMs (resuming on the last map).
import { pauseGuard, type PauseGuardEmitted } from '../../actors/pause-guard';
import { ManualClock } from '../../runtime/clock';
import { flush, host, run, silentLog } from '../helpers/actor-host';

const timings = { retryMs: 100, stepTimeoutMs: 1000, confirmMaxMs: 3000 };

function start() {
  const clock = new ManualClock();
  const calls: string[] = [];
  const queue = { hold: () => calls.push('hold'), resume: () => calls.push('resume') };
  const flushes: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const natsFlush = () => new Promise<void>((resolve, reject) => flushes.push({ resolve, reject }));
  const pauses: string[] = [];
  const metrics = { pauses: { inc: (l: { source: string }) => pauses.push(l.source) } } as never;
  const g = host<PauseGuardEmitted>(pauseGuard, { queue, flush: natsFlush, clock, log: silentLog, metrics, timings }, clock);
  const sent = () => g.events.map((e) => (e.type === 'PAUSE_RELEASE' ? `RELEASE:${e.confirmed}` : e.type));
  return { clock, g, calls, flushes, pauses, sent };
}

test('a pause: held until NATS answers a flush and the map has been re-read; then resumed', async () => {
  const t = start();
  t.g.send({ type: 'PAUSED', gapMs: 5000, source: 'ticks' });
  await flush();
  expect(t.calls).toEqual(['hold']);
  expect(t.sent()).toEqual(['PAUSE_HOLD']);
  expect(t.pauses).toEqual(['ticks']);
  expect(t.flushes).toHaveLength(1);
  t.flushes[0]!.resolve();
  await flush();
  expect(t.sent()).toEqual(['PAUSE_HOLD', 'MAP_REREAD_REQUEST']);
  expect(t.calls).toEqual(['hold']); // the flush alone is not enough
  t.g.send({ type: 'MAP_REREAD', ok: true, epoch: 7 });
  await flush();
  expect(t.calls).toEqual(['hold', 'resume']);
  expect(t.sent()).toEqual(['PAUSE_HOLD', 'MAP_REREAD_REQUEST', 'RELEASE:true']);
  // A late answer once clear changes nothing.
  t.g.send({ type: 'MAP_REREAD', ok: true, epoch: 8 });
  await flush();
  expect(t.calls).toEqual(['hold', 'resume']);
});

test('a failed flush, a flush that never answers and a failed re-read are retried; the queue stays held meanwhile', async () => {
  const t = start();
  t.g.send({ type: 'PAUSED', gapMs: 2000, source: 'nats' });
  await flush();
  t.flushes[0]!.reject(new Error('disconnected'));
  await flush();
  await run(t.clock, 100, 50);
  expect(t.flushes).toHaveLength(2); // retried after retryMs
  await run(t.clock, 1100, 100); // the second never answers: given up after stepTimeoutMs, retried
  expect(t.flushes).toHaveLength(3);
  t.flushes[2]!.resolve();
  await flush();
  t.g.send({ type: 'MAP_REREAD', ok: false, epoch: 3, code: 'storage_unavailable' });
  await flush();
  await run(t.clock, 100, 50);
  expect(t.flushes).toHaveLength(4);
  t.flushes[1]!.resolve(); // an old attempt answering late is ignored
  await flush();
  expect(t.sent().filter((s) => s === 'MAP_REREAD_REQUEST')).toHaveLength(1);
  t.flushes[3]!.resolve();
  await flush();
  t.g.send({ type: 'MAP_REREAD', ok: true, epoch: 4 });
  await flush();
  expect(t.calls).toEqual(['hold', 'resume']);
  expect(t.sent().at(-1)).toBe('RELEASE:true');
});

test('another pause while confirming: the map is read again before resuming', async () => {
  const t = start();
  t.g.send({ type: 'PAUSED', gapMs: 2000, source: 'timer' });
  await flush();
  t.flushes[0]!.resolve();
  await flush();
  t.g.send({ type: 'PAUSED', gapMs: 3000, source: 'ticks' });
  await flush();
  expect(t.pauses).toEqual(['timer', 'ticks']);
  expect(t.calls).toEqual(['hold']); // held once
  t.g.send({ type: 'MAP_REREAD', ok: true, epoch: 1 });
  await flush();
  expect(t.calls).toEqual(['hold']); // what was read may predate the second pause
  expect(t.flushes).toHaveLength(2);
  t.flushes[1]!.resolve();
  await flush();
  t.g.send({ type: 'MAP_REREAD', ok: true, epoch: 2 });
  await flush();
  expect(t.calls).toEqual(['hold', 'resume']);
});

test('NATS unreachable after a pause: after confirmMaxMs the node resumes on its last map, unconfirmed', async () => {
  const t = start();
  t.g.send({ type: 'PAUSED', gapMs: 5000, source: 'ticks' });
  await flush();
  await run(t.clock, 2900, 100);
  expect(t.calls).toEqual(['hold']);
  await run(t.clock, 200, 100);
  expect(t.calls).toEqual(['hold', 'resume']);
  expect(t.sent().at(-1)).toBe('RELEASE:false');
  // The next pause is handled afresh.
  t.g.send({ type: 'PAUSED', gapMs: 900, source: 'nats' });
  await flush();
  expect(t.calls).toEqual(['hold', 'resume', 'hold']);
});

test('stopped while holding: the queue is not left held', async () => {
  const t = start();
  t.g.send({ type: 'PAUSED', gapMs: 5000, source: 'ticks' });
  await flush();
  t.g.stop();
  expect(t.calls).toEqual(['hold', 'resume']);
});
