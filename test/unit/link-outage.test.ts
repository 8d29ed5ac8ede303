// The NATS outage total a push check's owner leaves out of its jobs' lateness (runtime/link-outage.ts).
import { ManualClock } from '../../runtime/clock';
import { LinkOutage } from '../../runtime/link-outage';

type Change = [at: number, up: boolean];
const rows: [string, Change[], number][] = [
  // connection changes at ms (true: up) → total at the end (ms 10 000)
  ['never down', [], 0],
  ['up only', [[1_000, true]], 0],
  ['down 2 s', [[1_000, false], [3_000, true]], 2_000],
  ['repeats ignored', [[1_000, false], [2_000, false], [3_000, true], [4_000, true]], 2_000],
  ['two outages', [[1_000, false], [3_000, true], [5_000, false], [6_000, true]], 3_000],
  ['the current outage counts as it runs', [[1_000, false], [3_000, true], [9_000, false]], 3_000],
];

test.each(rows)('%s: %j → %d ms', (_name, changes, want) => {
  const clock = new ManualClock();
  const o = new LinkOutage(clock);
  for (const [at, up] of changes) {
    clock.advance(at - clock.monotonic());
    o.note(up);
  }
  clock.advance(10_000 - clock.monotonic());
  expect(o.totalMs()).toBe(want);
});
