// The link watch (runtime/link-watch.ts) behind a fake link: one PING out at a time, judged after
// the node's I/O, a stale link reported once and made again, nothing judged while the link is down.
import { ManualClock } from '../../runtime/clock';
import { LinkWatch, type LinkPort } from '../../runtime/link-watch';

class FakeLink implements LinkPort {
  up = true;
  msgs = 0;
  pings: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  reconnects = 0;
  connected = () => this.up;
  inMsgs = () => this.msgs;
  ping(): Promise<unknown> {
    return new Promise<void>((resolve, reject) => this.pings.push({ resolve, reject }));
  }
  reconnect(): void {
    this.reconnects++;
    this.up = false;
    for (const p of this.pings.splice(0)) p.reject(new Error('disconnected'));
  }
}

const PING_MS = 1000;

function setup() {
  const clock = new ManualClock();
  const link = new FakeLink();
  const io: Array<() => void> = [];
  const stale: Array<{ silentMs: number; silentTicks: number }> = [];
  const watch = new LinkWatch(clock, link, { pingMs: PING_MS, maxSilentTicks: 2, onStale: (e) => stale.push(e), afterIo: (fn) => io.push(fn) });
  /** One period: the tick, then `duringIo` (what the socket delivers), then the judgement. */
  const period = async (duringIo: () => void = () => {}) => {
    clock.advance(PING_MS);
    duringIo();
    await new Promise((r) => setImmediate(r)); // settle the PING promises
    for (const fn of io.splice(0)) fn();
  };
  watch.start();
  return { clock, link, watch, stale, period };
}

describe('LinkWatch', () => {
  test('a dead link: one PING out, stale at the third silent judgement, reported once and made again', async () => {
    const { link, stale, period } = setup();
    await period();
    await period();
    expect(stale).toEqual([]);
    await period();
    expect(stale).toEqual([{ silentMs: 2 * PING_MS, silentTicks: 3 }]);
    expect(link.reconnects).toBe(1);
    // A PING was sent once and never again while it was out.
    expect(link.pings).toEqual([]);
  });

  test('the PONG read in the I/O after the tick counts: judged after the socket, not before', async () => {
    const { link, stale, period } = setup();
    for (let i = 0; i < 10; i++) await period(() => link.pings.shift()?.resolve());
    expect(stale).toEqual([]);
  });

  test('messages arriving while no PONG comes keep the link alive; when they stop it goes stale', async () => {
    const { link, stale, period } = setup();
    for (let i = 0; i < 10; i++) await period(() => (link.msgs += 100));
    expect(stale).toEqual([]);
    expect(link.pings).toHaveLength(1); // one PING out all along, none piled up
    await period();
    await period();
    await period();
    expect(stale).toEqual([{ silentMs: 3 * PING_MS, silentTicks: 3 }]);
  });

  test('nothing is judged or sent while the link is down; a new link counts afresh', async () => {
    const { link, stale, period } = setup();
    await period();
    await period(); // two silent judgements
    link.up = false;
    for (const p of link.pings.splice(0)) p.reject(new Error('disconnected'));
    for (let i = 0; i < 5; i++) await period();
    expect(stale).toEqual([]);
    expect(link.pings).toEqual([]);
    link.up = true;
    await period(); // fresh: this tick starts the count (a first silent judgement) and sends a new PING
    expect(link.pings).toHaveLength(1);
    await period();
    expect(stale).toEqual([]); // the two silent judgements before the drop do not count
    await period();
    expect(stale).toEqual([{ silentMs: 2 * PING_MS, silentTicks: 3 }]);
  });

  test('stop: no more ticks, and a judgement already queued is dropped', async () => {
    const { clock, link, watch, stale } = setup();
    clock.advance(PING_MS);
    watch.stop();
    for (let i = 0; i < 5; i++) clock.advance(PING_MS);
    expect(link.pings).toHaveLength(1);
    expect(stale).toEqual([]);
  });
});
