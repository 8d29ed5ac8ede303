// The restart of the spec watches after a reconnect waits for the link to settle: one restart for
// a burst of reconnects, none while the link is down, and never later than the max wait once up.
import { ReconnectSettle } from '../../runtime/reconnect-settle';

const SETTLE = 5_000;
const MAX = 30_000;

function setup() {
  let restarts = 0;
  const s = new ReconnectSettle(() => restarts++, SETTLE, MAX, () => Date.now());
  return { s, restarts: () => restarts };
}

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('a reconnect restarts the watches once the link has stayed up the settle time', () => {
  const { s, restarts } = setup();
  s.disconnected();
  s.reconnected();
  jest.advanceTimersByTime(SETTLE - 1);
  expect(restarts()).toBe(0);
  jest.advanceTimersByTime(1);
  expect(restarts()).toBe(1);
  expect(s.owed).toBe(false);
  jest.advanceTimersByTime(10 * SETTLE);
  expect(restarts()).toBe(1);
});

test('reconnects in a storm (down again before settling) are covered by one restart after the last', () => {
  const { s, restarts } = setup();
  for (let i = 0; i < 4; i++) {
    s.disconnected();
    jest.advanceTimersByTime(500);
    s.reconnected();
    jest.advanceTimersByTime(SETTLE - 1000);
  }
  expect(restarts()).toBe(0);
  jest.advanceTimersByTime(1000);
  expect(restarts()).toBe(1);
});

test('never while the link is down; not put off past the max wait from the first owed reconnect', () => {
  const { s, restarts } = setup();
  s.disconnected();
  s.reconnected(); // t = 0: owed from here
  // Down and up again every 4 s: it never settles.
  for (let t = 0; t < MAX - 4_000; t += 4_000) {
    jest.advanceTimersByTime(3_000);
    s.disconnected();
    jest.advanceTimersByTime(1_000);
    expect(restarts()).toBe(0);
    s.reconnected();
  }
  // Reconnected at t = 28 s: the max wait (30 s) ends before the settle time would.
  jest.advanceTimersByTime(MAX - 28_000);
  expect(restarts()).toBe(1);
  // Down past the max wait: it waits for the link, then runs at once.
  s.disconnected();
  s.reconnected();
  s.disconnected();
  jest.advanceTimersByTime(2 * MAX);
  expect(restarts()).toBe(1);
  s.reconnected();
  jest.advanceTimersByTime(0);
  expect(restarts()).toBe(2);
});

test('stop forgets an owed restart', () => {
  const { s, restarts } = setup();
  s.disconnected();
  s.reconnected();
  s.stop();
  jest.advanceTimersByTime(2 * MAX);
  expect(restarts()).toBe(0);
});
