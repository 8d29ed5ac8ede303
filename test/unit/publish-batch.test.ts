// Batched result publishes (protocol/publish-batch.ts, runtime/publish-batcher.ts): the same
// messages on the same subjects in the order produced, one write per batch; the publish gate asked
// when a message is produced and again when its batch is written (a batch pending when the gate
// closes is dropped and counted); ungated messages write the pending batch ahead of themselves;
// stop() writes what is pending.
import { ManualClock } from '../../runtime/clock';
import { PublishBatcher } from '../../runtime/publish-batcher';
import { MAX_BATCH_MESSAGES, noDrops, publishKind, publishStep, settleBatch, type DropCounts, type Pending, type PublishKind } from '../../protocol/publish-batch';

const prefixes = { result: 'lookout.result.', status: 'lookout.status.', resume: 'lookout._resume.' };

test.each([
  ['lookout.result.api', 'result'],
  ['lookout.status.api', 'status'],
  ['lookout._resume.api.1', 'resume'],
  ['lookout._node.shard.3.1.release', null],
  ['lookout.cluster.leader', null],
  ['other.result.api', null],
])('publishKind(%s) = %s', (subject, kind) => {
  expect(publishKind(subject, prefixes)).toBe(kind);
});

test.each([
  // kind, gate open, batching, pending → step
  [null, true, true, 0, 'flush_then_send'],
  [null, false, true, 5, 'flush_then_send'], // ungated: never dropped
  ['result', false, true, 0, 'drop'],
  ['status', false, false, 0, 'drop'],
  ['resume', false, true, 3, 'drop'],
  ['result', true, true, 0, 'add'],
  ['result', true, true, MAX_BATCH_MESSAGES - 2, 'add'],
  ['result', true, true, MAX_BATCH_MESSAGES - 1, 'add_then_flush'], // full
  ['status', true, false, 0, 'add_then_flush'], // batching off (or stopped)
] as const)('publishStep(%s, gate %s, batching %s, %i pending) = %s', (kind, gate, batching, pending, step) => {
  expect(publishStep(kind, gate, batching, pending)).toBe(step);
});

const msg = (subject: string, kind: PublishKind): Pending => ({ subject, data: new Uint8Array([1]), kind });

test.each([
  ['open: everything, in order', [msg('a', 'result'), msg('b', 'status'), msg('a', 'resume')], true, ['a', 'b', 'a'], noDrops()],
  ['closed: nothing, counted by kind', [msg('a', 'result'), msg('b', 'result'), msg('b', 'status'), msg('a', 'resume')], false, [], { result: 2, status: 1, resume: 1, down: 0 }],
  ['empty', [], false, [], noDrops()],
] as const)('settleBatch %s', (_name, pending, gate, subjects, dropped) => {
  const r = settleBatch(pending, gate);
  expect(r.send.map((m) => m.subject)).toEqual(subjects);
  expect(r.dropped).toEqual(dropped);
});

function harness(windowMs = 0) {
  const clock = new ManualClock(0);
  const sent: { subject: string; json: unknown; write: number }[] = [];
  const dropped: DropCounts = noDrops();
  const deferred: (() => void)[] = [];
  let gate = true;
  let write = 0;
  const b = new PublishBatcher({
    windowMs,
    gateOpen: () => gate,
    onDropped: (d) => {
      for (const k of Object.keys(d) as PublishKind[]) dropped[k] += d[k];
    },
    clock,
    defer: (fn) => void deferred.push(fn),
    send: (subject, data) => sent.push({ subject, json: JSON.parse(Buffer.from(data).toString('utf8')), write }),
  });
  /** The end of the event-loop turn: the deferred writes run (each batch is one write). */
  const endTurn = () => {
    for (const fn of deferred.splice(0)) {
      write++;
      fn();
    }
  };
  return { b, clock, sent, dropped, endTurn, setGate: (open: boolean) => (gate = open), deferred };
}

test('results of one turn go out together at its end, on their own subjects, in the order produced, as they were when produced', () => {
  const h = harness();
  const r1 = { checkId: 'a', seq: 1 };
  h.b.publish('lookout.result.a', r1, 'result');
  h.b.publish('lookout.result.b', { checkId: 'b', seq: 7 }, 'result');
  h.b.publish('lookout.status.a', { checkId: 'a', to: 'down' }, 'status');
  h.b.publish('lookout._resume.a.1', { seq: 1 }, 'resume');
  r1.seq = 99; // changed after it was produced: subscribers still see seq 1
  expect(h.sent).toEqual([]);
  expect(h.deferred).toHaveLength(1); // one write armed for the turn, not one per message
  h.endTurn();
  expect(h.sent.map((m) => [m.subject, m.json, m.write])).toEqual([
    ['lookout.result.a', { checkId: 'a', seq: 1 }, 1],
    ['lookout.result.b', { checkId: 'b', seq: 7 }, 1],
    ['lookout.status.a', { checkId: 'a', to: 'down' }, 1],
    ['lookout._resume.a.1', { seq: 1 }, 1],
  ]);
  expect(h.b.batches).toBe(1);
  h.b.publish('lookout.result.a', { checkId: 'a', seq: 2 }, 'result');
  h.endTurn();
  expect(h.sent.map((m) => m.write)).toEqual([1, 1, 1, 1, 2]);
  expect(h.dropped).toEqual(noDrops());
});

test('the gate closing while a batch is pending drops the whole batch and counts it; it is never written later', () => {
  const h = harness();
  h.b.publish('lookout.result.a', { seq: 1 }, 'result');
  h.b.publish('lookout.status.a', { seq: 1 }, 'status');
  h.b.publish('lookout._resume.a.1', { seq: 1 }, 'resume');
  h.setGate(false);
  h.endTurn();
  expect(h.sent).toEqual([]);
  expect(h.dropped).toEqual({ result: 1, status: 1, resume: 1, down: 0 });
  h.setGate(true);
  h.endTurn();
  expect(h.sent).toEqual([]);
  expect(h.b.pendingCount).toBe(0);
});

test('a message produced while the gate is closed is dropped at once, and takes the pending batch with it', () => {
  const h = harness();
  h.b.publish('lookout.result.a', { seq: 1 }, 'result');
  h.setGate(false);
  h.b.publish('lookout.result.b', { seq: 1 }, 'result');
  expect(h.dropped).toEqual({ result: 2, status: 0, resume: 0, down: 0 });
  h.setGate(true); // reopened within the same turn: the dropped stay dropped
  h.b.publish('lookout.result.c', { seq: 1 }, 'result');
  h.endTurn();
  expect(h.sent.map((m) => m.subject)).toEqual(['lookout.result.c']);
});

test('each dropped message tells its producer — a pending batch newest first — and a written one never does', () => {
  const h = harness();
  const told: string[] = [];
  const tell = (what: string) => () => void told.push(what);
  h.b.publish('lookout.status.a', { seq: 1 }, 'status', tell('a1'));
  h.endTurn();
  expect(told).toEqual([]); // written
  h.b.publish('lookout.status.a', { seq: 2 }, 'status', tell('a2'));
  h.b.publish('lookout.status.b', { seq: 1 }, 'status', tell('b1'));
  h.b.publish('lookout.status.a', { seq: 3 }, 'status', tell('a3'));
  h.setGate(false);
  h.endTurn();
  // Newest first: a check's published verdict steps back one change at a time (check-table.ts unannounced).
  expect(told).toEqual(['a3', 'b1', 'a2']);
  h.b.publish('lookout.status.c', { seq: 1 }, 'status', tell('c1')); // the gate closed when produced
  expect(told).toEqual(['a3', 'b1', 'a2', 'c1']);
  expect(h.sent.map((m) => m.json)).toEqual([{ seq: 1 }]);
});

test('an ungated message writes the pending batch first, then itself, at once — also while the gate is closed', () => {
  const h = harness();
  h.b.publish('lookout.result.a', { seq: 1 }, 'result');
  h.b.publish('lookout._node.shard.3.1.release', { shard: 3 }, null);
  expect(h.sent.map((m) => m.subject)).toEqual(['lookout.result.a', 'lookout._node.shard.3.1.release']);
  h.b.publish('lookout.result.a', { seq: 2 }, 'result');
  h.setGate(false);
  h.b.publish('lookout._node.shard.3.1.release', { shard: 3 }, null);
  expect(h.sent.map((m) => m.subject)).toEqual(['lookout.result.a', 'lookout._node.shard.3.1.release', 'lookout._node.shard.3.1.release']);
  expect(h.dropped.result).toBe(1);
});

test('stop() writes what is pending; after it every message goes out at once', () => {
  const h = harness();
  h.b.publish('lookout.result.a', { seq: 1 }, 'result');
  h.b.stop();
  expect(h.sent.map((m) => m.subject)).toEqual(['lookout.result.a']);
  h.b.publish('lookout.result.a', { seq: 2 }, 'result');
  expect(h.sent).toHaveLength(2);
  h.endTurn(); // the deferred write armed before stop finds nothing
  expect(h.sent).toHaveLength(2);
});

test('a full batch is written at once', () => {
  const h = harness();
  for (let i = 0; i < MAX_BATCH_MESSAGES; i++) h.b.publish(`lookout.result.c${i}`, { seq: i }, 'result');
  expect(h.sent).toHaveLength(MAX_BATCH_MESSAGES);
  expect(h.b.pendingCount).toBe(0);
});

test('a window > 0 writes on the clock, at most windowMs after the first message of a batch', () => {
  const h = harness(5);
  h.b.publish('lookout.result.a', { seq: 1 }, 'result');
  h.clock.advance(3);
  h.b.publish('lookout.result.b', { seq: 1 }, 'result');
  h.clock.advance(1);
  expect(h.sent).toEqual([]);
  h.clock.advance(1);
  expect(h.sent.map((m) => m.subject)).toEqual(['lookout.result.a', 'lookout.result.b']);
  expect(h.deferred).toEqual([]);
});

test('a negative window turns batching off: each message is written when produced', () => {
  const h = harness(-1);
  h.b.publish('lookout.result.a', { seq: 1 }, 'result');
  h.b.publish('lookout.result.b', { seq: 1 }, 'result');
  expect(h.sent.map((m) => m.subject)).toEqual(['lookout.result.a', 'lookout.result.b']);
  expect(h.b.batches).toBe(2);
});
