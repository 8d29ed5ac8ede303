// The spec feed on an in-memory bucket: the initial load fills the catalog and ends with
// SPECS_LOADED (no per-spec events), later changes become SPEC_SET / SPEC_REMOVED, and a stored
// value that does not validate never reaches the catalog.
import { SpecCatalog } from '../../actors/spec-catalog';
import { followSpecs, specFeed, type FeedEvent } from '../../actors/spec-feed';
import { ManualClock } from '../../runtime/clock';
import { flush, host, silentLog } from '../helpers/actor-host';
import { FakeSpecBucket } from '../helpers/fake-spec-store';

const spec = (n: number) => ({ kind: 'tcp', target: `127.0.0.1:${1000 + n}`, intervalMs: 5000, timeoutMs: 1000 });

async function start(bucket: FakeSpecBucket) {
  const catalog = new SpecCatalog(16);
  const feed = host<FeedEvent>(specFeed, { source: bucket, catalog, log: silentLog }, new ManualClock());
  await flush(10);
  return { catalog, feed, types: () => feed.events.map((e) => (e.type === 'SPEC_SET' ? `set ${e.spec.id}` : e.type === 'SPEC_REMOVED' ? `removed ${e.id}` : `loaded ${e.count}`)) };
}

test('the initial load fills the catalog, then one SPECS_LOADED; later changes are told one by one', async () => {
  const bucket = new FakeSpecBucket();
  for (let i = 0; i < 3; i++) await bucket.put(`c${i}`, spec(i) as never);
  const { catalog, types, feed } = await start(bucket);
  expect(types()).toEqual(['loaded 3']);
  expect(catalog.size).toBe(3);
  await bucket.put('c3', spec(3) as never);
  await bucket.delete('c0');
  await bucket.put('c1', { ...spec(1), intervalMs: 6000 } as never);
  await flush();
  expect(types()).toEqual(['loaded 3', 'set c3', 'removed c0', 'set c1']);
  expect(catalog.get('c1')!.spec.intervalMs).toBe(6000);
  expect(catalog.get('c1')!.revision).toBe(6);
  feed.stop();
});

test('an empty bucket is loaded at once', async () => {
  const { types } = await start(new FakeSpecBucket());
  expect(types()).toEqual(['loaded 0']);
});

test('a stored value that does not validate (written around the API) is skipped, before and after the load', async () => {
  const bucket = new FakeSpecBucket();
  bucket.putRaw('junk', '{not json');
  bucket.putRaw('wrong', JSON.stringify({ ...spec(1), intervalMs: 1 }));
  await bucket.put('ok', spec(2) as never);
  const { catalog, types } = await start(bucket);
  expect(types()).toEqual(['loaded 1']);
  expect(catalog.get('junk')).toBeUndefined();
  bucket.putRaw('later', JSON.stringify({ ...spec(3), kind: 'ftp' }));
  await flush();
  expect(types()).toEqual(['loaded 1']);
  expect(catalog.get('later')).toBeUndefined();
});

test('stopped while its watch is being created: the stop resolves only once the watch exists and is stopped', async () => {
  const bucket = new FakeSpecBucket();
  await bucket.put('c0', spec(0) as never);
  let open: () => void = () => {};
  const gate = new Promise<void>((r) => (open = r));
  let watchStopped = false;
  const source = {
    count: () => bucket.count(),
    async watch() {
      await gate; // the request creating the consumer is in flight
      const w = await bucket.watch();
      return { changes: w.changes, stop: () => ((watchStopped = true), w.stop()) };
    },
  };
  const stop = followSpecs(source, new SpecCatalog(16), silentLog, () => {});
  let settled = false;
  const stopped = stop().then(() => (settled = true));
  await flush(10);
  expect({ settled, watchStopped }).toEqual({ settled: false, watchStopped: false });
  open();
  await stopped;
  expect({ settled, watchStopped }).toEqual({ settled: true, watchStopped: true });
});
