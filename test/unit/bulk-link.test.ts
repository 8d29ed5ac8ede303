// The bulk link's life (runtime/bulk-link.ts) with fake connections: opened on first use and shared,
// opened again after it closed or after an open or a build failed (a failed build closes its
// connection), closed once by `close`, after which uses reject; a shard source built on it on first use.
import { BulkLink, type LinkConnection } from '../../runtime/bulk-link';
import { deferredSpecFeedSource, type SpecFeedSource } from '../../runtime/spec-watch';
import { silentLog } from '../helpers/actor-host';

class FakeConn implements LinkConnection {
  closes = 0;
  private end: (v: void) => void = () => {};
  private readonly ended = new Promise<void>((r) => (this.end = r));
  constructor(readonly n: number) {}
  closed(): Promise<void> {
    return this.ended;
  }
  async close(): Promise<void> {
    this.closes++;
    this.end();
  }
}

function link(opts: { openFails?: Set<number>; buildFails?: Set<number> } = {}) {
  const conns: FakeConn[] = [];
  let opens = 0;
  const l = new BulkLink<FakeConn, string>(
    async () => {
      const n = ++opens;
      if (opts.openFails?.has(n)) throw new Error(`open ${n} refused`);
      const c = new FakeConn(n);
      conns.push(c);
      return c;
    },
    async (c) => {
      if (opts.buildFails?.has(c.n)) throw new Error(`build on ${c.n} failed`);
      return `parts@${c.n}`;
    },
    silentLog,
  );
  return { l, conns, opens: () => opens };
}

/** Lets the link's handlers of a close or a failure run. */
const settle = () => new Promise((r) => setImmediate(r));

test('uses at once share one open; later uses get the same parts', async () => {
  const { l, opens } = link();
  expect(await Promise.all([l.parts(), l.parts(), l.parts()])).toEqual(['parts@1', 'parts@1', 'parts@1']);
  expect(await l.parts()).toBe('parts@1');
  expect(opens()).toBe(1);
});

test('a link that closed is opened again by the next use', async () => {
  const { l, conns } = link();
  await l.parts();
  await conns[0]!.close();
  await settle();
  expect(await l.parts()).toBe('parts@2');
  expect(conns).toHaveLength(2);
});

test('an open that failed fails its use only; the next use opens again', async () => {
  const { l } = link({ openFails: new Set([1]) });
  await expect(l.parts()).rejects.toThrow('open 1 refused');
  await settle();
  expect(await l.parts()).toBe('parts@2');
});

test('a build that failed closes its connection; the next use opens a new one', async () => {
  const { l, conns } = link({ buildFails: new Set([1]) });
  await expect(l.parts()).rejects.toThrow('build on 1 failed');
  expect(conns[0]!.closes).toBe(1);
  await settle();
  expect(await l.parts()).toBe('parts@2');
  expect(conns[1]!.closes).toBe(0);
});

test('close closes the open link once; later uses reject and open nothing', async () => {
  const { l, conns, opens } = link();
  await l.parts();
  await l.close();
  expect(conns[0]!.closes).toBe(1);
  await expect(l.parts()).rejects.toThrow('the bulk link is closed');
  expect(opens()).toBe(1);
});

test('close while the link opens closes it once open', async () => {
  const { l, conns } = link();
  const using = l.parts();
  await l.close();
  expect(await using).toBe('parts@1'); // the use already under way gets its parts; its requests then fail on the closed link
  expect(conns[0]!.closes).toBe(1);
});

test('close with no link opened opens none', async () => {
  const { l, opens } = link();
  await l.close();
  expect(opens()).toBe(0);
});

describe('a shard source on the link (deferredSpecFeedSource)', () => {
  const none = (async function* () {})();
  const source = (n: number): SpecFeedSource => ({ count: async () => n, watch: async () => ({ changes: none, stop: () => {} }) });

  test('is built once, on the first of its count and its watch, and both use that one', async () => {
    let builds = 0;
    const s = deferredSpecFeedSource(async () => source(++builds * 10));
    expect(builds).toBe(0);
    expect(await Promise.all([s.count(), s.count()])).toEqual([10, 10]);
    await s.watch();
    expect(builds).toBe(1);
  });

  test('a build that failed fails this attempt (count and watch); the next attempt builds again', async () => {
    let builds = 0;
    const build = async () => {
      if (++builds === 1) throw new Error('no link');
      return source(7);
    };
    const first = deferredSpecFeedSource(build);
    await expect(first.count()).rejects.toThrow('no link');
    await expect(first.watch()).rejects.toThrow('no link');
    expect(await deferredSpecFeedSource(build).count()).toBe(7);
    expect(builds).toBe(2);
  });
});
