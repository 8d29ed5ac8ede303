// How many verdict changes one route pull asks for (app/node-notify.ts routeBatch): one per second
// of the ack wait, so the last of a pull is routed long before its ack wait runs out; at least 1,
// at most 32.
import { routeBatch } from '../../app/node-notify';

test.each([
  [1_000, 1],
  [1_999, 1],
  [5_000, 5],
  [30_000, 30], // the default ack wait
  [32_000, 32],
  [600_000, 32],
])('an ack wait of %i ms: %i per pull', (ackWaitMs, batch) => {
  expect(routeBatch(ackWaitMs)).toBe(batch);
});
