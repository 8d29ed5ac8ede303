// Spec bucket keys: `<shard>.<id>`, legacy bare ids, and keys no node would watch.
import { shardOf } from '../../protocol/hash';
import { listOrderBefore, parseSpecKey, shardKeyFilter, specKey } from '../../protocol/spec-key';

const N = 256;
const sh = (id: string) => shardOf(id, N);

test.each([
  { key: specKey('web-1', N), want: { type: 'sharded', shard: sh('web-1'), id: 'web-1' } },
  { key: 'web-1', want: { type: 'legacy', id: 'web-1' } },
  { key: `${(sh('web-1') + 1) % N}.web-1`, want: { type: 'invalid' } },
  { key: `${sh('web-1') + N}.web-1`, want: { type: 'invalid' } },
  { key: `0${sh('web-1')}.web-1`, want: { type: 'invalid' } },
  { key: `${sh('web-1')}.`, want: { type: 'invalid' } },
  { key: `${sh('web-1')}.web.1`, want: { type: 'invalid' } },
  { key: 'x.web-1', want: { type: 'invalid' } },
  { key: '', want: { type: 'invalid' } },
])('parseSpecKey($key)', ({ key, want }) => {
  expect(parseSpecKey(key, N)).toEqual(want);
});

test('specKey carries the shard of the id, and its shard filter matches it', () => {
  for (const id of ['a', 'b', 'check-42', 'Z_9']) {
    expect(specKey(id, N)).toBe(`${sh(id)}.${id}`);
    expect(shardKeyFilter(sh(id))).toBe(`${sh(id)}.*`);
  }
});

test.each([
  { a: 'a', b: 'a', want: false },
  { a: 'x1', b: 'x2', want: sh('x1') !== sh('x2') ? sh('x1') < sh('x2') : true },
  { a: 'x2', b: 'x1', want: sh('x1') !== sh('x2') ? sh('x2') < sh('x1') : false },
])('listOrderBefore($a, $b) = $want', ({ a, b, want }) => {
  expect(listOrderBefore(a, b, N)).toBe(want);
});

test('one shard: the list order is byte order', () => {
  expect(listOrderBefore('a', 'b', 1)).toBe(true);
  expect(listOrderBefore('b', 'a', 1)).toBe(false);
});
