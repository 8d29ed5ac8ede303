// waitFor gives up naming what it last saw: the value the probe returned (short JSON) or the
// message it threw — never a bare "returned undefined" when there was something to show.
import { GiveUp, waitFor } from '../helpers/poll';

test('returns the first acceptable value', async () => {
  let n = 0;
  await expect(waitFor('n to reach 3', () => ++n >= 3 && n, { intervalMs: 1 })).resolves.toBe(3);
  let m = 0;
  await expect(waitFor('m to reach 3', () => ({ m: ++m }), { intervalMs: 1, until: (v) => v.m >= 3 })).resolves.toEqual({ m: 3 });
});

test('on timeout: the last value returned, as short JSON', async () => {
  const status = { members: [{ node: 'n1', state: 'alive' }], leader: null };
  await expect(waitFor('a leader', () => status, { timeoutMs: 30, intervalMs: 5, until: (s) => s.leader !== null })).rejects.toThrow(
    'timed out after 30 ms waiting for a leader; last returned {"members":[{"node":"n1","state":"alive"}],"leader":null}',
  );
  const long = { text: 'x'.repeat(1000) };
  await expect(waitFor('never', () => long, { timeoutMs: 10, intervalMs: 5, until: () => false })).rejects.toThrow(/last returned \{"text":"x+… \(1011 chars\)$/);
  await expect(waitFor('nothing', () => undefined, { timeoutMs: 10, intervalMs: 5 })).rejects.toThrow('waiting for nothing; last returned undefined');
});

test('on timeout: the last message thrown; GiveUp stops at once', async () => {
  let n = 0;
  await expect(
    waitFor('three nodes', () => {
      throw new Error(`alive=[n1] try ${++n}`);
    }, { timeoutMs: 30, intervalMs: 5 }),
  ).rejects.toThrow(new RegExp(`waiting for three nodes; last threw: alive=\\[n1\\] try \\d+$`));
  const t0 = performance.now();
  await expect(
    waitFor('a node that exited', () => {
      throw new GiveUp('n2 exited (1)');
    }, { timeoutMs: 60_000 }),
  ).rejects.toThrow('n2 exited (1)');
  expect(performance.now() - t0 < 60_000).toBe(true); // it did not wait for the hang guard
});
