// The assignment follower on an in-memory map key under a manual clock: it follows newer maps,
// ignores maps of a term older than the highest seen (from the lease: TERM_SEEN), finds a map the
// watch missed by re-reading, and keeps its map while the store is unreachable.
import { assignmentFollower, type Assigned } from '../../actors/assignment-follower';
import type { AssignmentRecord } from '../../protocol/records';
import { ManualClock } from '../../runtime/clock';
import { FakeMapKey } from '../helpers/fake-kv';
import { flush, host, run, silentLog } from '../helpers/actor-host';

const map = (term: number, epoch: number, owners: string[]): AssignmentRecord => ({ term, epoch, leader: 'a', at: 0, members: [...owners].sort(), shards: [[owners[0]!], [owners[1 % owners.length]!], [owners[2 % owners.length]!], [owners[0]!]] });

function start(key: FakeMapKey) {
  const clock = new ManualClock();
  const f = host<Assigned>(assignmentFollower, { store: key, node: 'b', clock, log: silentLog, rereadMs: 1000 }, clock);
  const followed = () => f.events.filter((e) => e.type === 'ASSIGNED').map((e) => `${e.record.term}.${e.record.epoch}:${e.slots.map((x) => x.shard).join(',')}`);
  return { clock, f, followed };
}

test('follows the stored map, then every newer one, with the slots this node holds', async () => {
  const key = new FakeMapKey();
  await key.write(map(3, 1, ['a', 'b', 'c']), 0);
  const { followed } = start(key);
  await flush();
  expect(followed()).toEqual(['3.1:1']);
  await key.write(map(3, 2, ['b', 'c']), 1);
  await key.write(map(3, 2, ['a']), 2); // same epoch again: not news
  await flush();
  expect(followed()).toEqual(['3.1:1', '3.2:0,2,3']);
});

test('a map from a term older than the highest seen is ignored, even with a higher epoch', async () => {
  const key = new FakeMapKey();
  await key.write(map(3, 1, ['a', 'b', 'c']), 0);
  const { f, followed } = start(key);
  await flush();
  f.send({ type: 'TERM_SEEN', term: 5 }); // a new leader won the lease; its map is not written yet
  await flush();
  await key.write(map(3, 9, ['b']), 1); // the deposed leader, waking up
  await flush();
  expect(followed()).toEqual(['3.1:1']);
  await key.write(map(5, 10, ['b', 'c']), 2);
  await flush();
  expect(followed()).toEqual(['3.1:1', '5.10:0,2,3']);
});

test('a map the watch missed is found by the periodic re-read; an unreachable store keeps the current map', async () => {
  const key = new FakeMapKey();
  await key.write(map(1, 1, ['a', 'b']), 0);
  const { clock, followed } = start(key);
  await flush();
  key.writeUnseen(map(1, 2, ['b']));
  await run(clock, 1100, 100);
  expect(followed()).toEqual(['1.1:1', '1.2:0,1,2,3']);
  key.readError = new Error('NATS unreachable');
  const reads = key.reads;
  await run(clock, 3000, 100);
  expect(key.reads - reads).toBeGreaterThanOrEqual(3); // it keeps trying
  expect(followed()).toEqual(['1.1:1', '1.2:0,1,2,3']);
});

test('REREAD (after a pause): reads at once, follows a newer map first, then answers MAP_REREAD with the epoch it follows', async () => {
  const key = new FakeMapKey();
  await key.write(map(1, 1, ['a', 'b']), 0);
  const { f, followed } = start(key);
  await flush();
  key.writeUnseen(map(2, 5, ['a']));
  f.send({ type: 'REREAD' });
  await flush();
  expect(followed()).toEqual(['1.1:1', '2.5:']);
  const types = f.events.map((e) => e.type);
  expect(types.slice(-2)).toEqual(['ASSIGNED', 'MAP_REREAD']);
  expect(f.events.at(-1)).toMatchObject({ type: 'MAP_REREAD', ok: true, epoch: 5 });
  // Nothing newer: still an answer, with the same epoch.
  f.send({ type: 'REREAD' });
  await flush();
  expect(f.events.at(-1)).toMatchObject({ type: 'MAP_REREAD', ok: true, epoch: 5 });
  // The store unreachable: the answer says so (with a code), and the map is kept.
  key.readError = new Error('NATS unreachable');
  f.send({ type: 'REREAD' });
  await flush();
  expect(f.events.at(-1)).toMatchObject({ type: 'MAP_REREAD', ok: false, epoch: 5, code: 'storage_unavailable' });
  expect(followed()).toEqual(['1.1:1', '2.5:']);
});
