// A node waits for JetStream to come up instead of exiting, and stops at once on a real problem.
import { CREATION_RACE_ATTEMPTS, JETSTREAM_HINT, isJetStreamNotReady, readyBackoff, whenJetStreamReady } from '../../runtime/jetstream-ready';
import { StorageTooSmall, naming } from '../../runtime/storage-limits';
import { silentLog } from '../helpers/actor-host';

test.each([
  ['a request timeout', Object.assign(new Error('timeout'), { name: 'TimeoutError' }), true],
  ['JetStream without a meta leader', new Error('JetStream system temporarily unavailable'), true],
  ['no responders yet', new Error('503 no responders'), true],
  ['a store too small', new StorageTooSmall('KV_lookout_specs', 1024, 'LOOKOUT_SPECS_MAX_BYTES', new Error('insufficient storage resources available')), false],
  ['a permission refused', new Error('Permissions Violation for Publish to "$JS.API.STREAM.CREATE.x"'), false],
  ['JetStream not enabled', new Error('jetstream not enabled'), false],
])('%s: not ready = %s', (_what, err, expected) => {
  expect(isJetStreamNotReady(err)).toBe(expected);
});

test('backoff doubles from 250 ms up to 5 s', () => {
  expect([1, 2, 3, 4, 5, 6, 7, 20].map(readyBackoff)).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
});

test('retries while JetStream is not ready, then returns what opened; a permanent error is thrown at once', async () => {
  const waits: number[] = [];
  let calls = 0;
  const opened = await whenJetStreamReady(
    async () => {
      if (++calls < 3) throw Object.assign(new Error('timeout'), { name: 'TimeoutError' });
      return 'stores';
    },
    silentLog,
    async (ms) => void waits.push(ms),
  );
  expect(opened).toBe('stores');
  expect(waits).toEqual([250, 500]);
  const tooSmall = new StorageTooSmall('lookout_results', 1, 'LOOKOUT_RESULTS_MAX_BYTES', new Error('insufficient storage resources available'));
  await expect(whenJetStreamReady(async () => Promise.reject(tooSmall), silentLog, async () => {})).rejects.toBe(tooSmall);
});

test('an add that lost a creation race to another node is opened again; the same refusal every time is a real conflict', async () => {
  const overlap = new Error('subjects overlap with an existing stream');
  let calls = 0;
  const waits: number[] = [];
  const opened = await whenJetStreamReady(
    async () => {
      if (++calls === 1) throw overlap; // another node's add landed first
      return 'stores';
    },
    silentLog,
    async (ms) => void waits.push(ms),
  );
  expect({ opened, calls, waits }).toEqual({ opened: 'stores', calls: 2, waits: [250] });
  let tries = 0;
  await expect(whenJetStreamReady(async () => ((tries++, Promise.reject(overlap))), silentLog, async () => {})).rejects.toBe(overlap);
  expect(tries).toBe(CREATION_RACE_ATTEMPTS);
});

test('JetStream missing on the server: the node stops at once, saying how to enable it', async () => {
  let calls = 0;
  const err = await whenJetStreamReady(async () => {
    calls++;
    throw new Error('jetstream is not enabled');
  }, silentLog, async () => {}).catch((e: Error) => e);
  expect(calls).toBe(1);
  expect((err as Error).message).toBe(`jetstream is not enabled. ${JETSTREAM_HINT}`);
});

test('a stream another node has just created can be briefly "not found" on a 3-server cluster: opened again, and a failure names the stream', async () => {
  let calls = 0;
  const opened = await whenJetStreamReady(
    () =>
      naming('KV_lookout_leader', async () => {
        if (++calls === 1) throw Object.assign(new Error('stream not found'), { name: 'StreamNotFoundError' });
        return 'stores';
      }),
    silentLog,
    async () => {},
  );
  expect({ opened, calls }).toEqual({ opened: 'stores', calls: 2 });
  const err = await naming('lookout_results', () => Promise.reject(Object.assign(new Error('stream not found'), { name: 'StreamNotFoundError' }))).catch((e: Error) => e);
  expect(err).toMatchObject({ name: 'StreamNotFoundError', message: 'stream lookout_results: stream not found' });
  const tooSmall = new StorageTooSmall('lookout_results', 1, 'LOOKOUT_RESULTS_MAX_BYTES', new Error('insufficient storage resources available'));
  await expect(naming('lookout_results', () => Promise.reject(tooSmall))).rejects.toBe(tooSmall);
});
