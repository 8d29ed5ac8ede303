// protocol/token-bucket.ts: refill at the rate up to twice the rate, one token per take.
import { fullBucket, takeToken } from '../../protocol/token-bucket';

test.each([
  // perSecond, takes at these monotonic ms → which were allowed
  ['a full bucket allows its burst (2 × rate) at once, then refuses', 5, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [true, true, true, true, true, true, true, true, true, true, false]],
  ['emptied, it allows one more after 1 / rate seconds', 5, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200], [true, true, true, true, true, true, true, true, true, true, false, true]],
  ['a long quiet time refills only up to the burst', 1, [0, 0, 60_000, 60_000, 60_000], [true, true, true, true, false]],
  ['a clock that steps back refills nothing', 1, [1000, 1000, 500], [true, true, false]],
])('%s', (_name, perSecond, times, want) => {
  const b = fullBucket(perSecond, times[0]!);
  expect(times.map((t) => takeToken(b, perSecond, t))).toEqual(want);
});
