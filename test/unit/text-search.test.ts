// Substring search in linear time: indexOfLinear (bodyContains) gives the same answers as
// String.prototype.indexOf; ByteSearch (a TCP check's expect, fed chunk by chunk) the same as
// Buffer.indexOf on the concatenated chunks.
import { ByteSearch, indexOfLinear } from '../../checks/text-search';

test.each([
  ['', '', 0],
  ['abc', '', 0],
  ['', 'a', -1],
  ['abc', 'abcd', -1],
  ['abc', 'a', 0],
  ['abc', 'c', 2],
  ['abc', 'bc', 1],
  ['aaab', 'aab', 1],
  ['abababc', 'ababc', 2],
  ['{"status":"ok"}', '"status":"ok"', 1],
  ['naïve café ☕ done', 'café ☕', 6],
  ['\u{1F600}x', 'x', 2],
])('indexOfLinear(%j, %j) = %d', (text, needle, at) => {
  expect(indexOfLinear(text, needle)).toBe(at);
  expect(text.indexOf(needle)).toBe(at);
});

test('agrees with indexOf on 20,000 random small cases', () => {
  let a = 11;
  const rnd = (n: number): number => {
    a = (a * 1103515245 + 12345) & 0x7fffffff;
    return a % n;
  };
  const word = (max: number): string => Array.from({ length: rnd(max) }, () => 'aab'[rnd(3)]).join('');
  for (let i = 0; i < 20_000; i++) {
    const text = word(40);
    const needle = word(6);
    if (indexOfLinear(text, needle) !== text.indexOf(needle)) throw new Error(`indexOfLinear(${JSON.stringify(text)}, ${JSON.stringify(needle)})`);
  }
});

test('the input that makes includes() quadratic costs it far more than indexOfLinear (same run, side by side)', () => {
  // A 4 KiB needle (the bodyContains limit) of "a"s with one "b" near the front, against 256 KiB
  // of "a": Boyer-Moore-Horspool re-compares almost the whole needle at every position.
  const text = 'a'.repeat(256 * 1024);
  const needle = `ab${'a'.repeat(4094)}`;
  const time = (f: () => number): [number, number] => {
    const start = process.hrtime.bigint();
    const r = f();
    return [r, Number(process.hrtime.bigint() - start)];
  };
  const [linear, linearNs] = time(() => indexOfLinear(text, needle));
  const [native, nativeNs] = time(() => text.indexOf(needle));
  expect(linear).toBe(-1);
  expect(native).toBe(-1);
  // At 1 MiB: ~8 ms vs ~1,300 ms (BENCHMARKS.md §6); 10x leaves room for a noisy machine.
  expect(nativeNs).toBeGreaterThan(10 * linearNs);
});

describe('ByteSearch (a stream of chunks)', () => {
  /** Where the needle ends in the stream (bytes up to and including its last byte), or -1. */
  const endIn = (chunks: Buffer[], needle: Buffer): number => {
    const search = new ByteSearch(needle);
    let before = 0;
    for (const chunk of chunks) {
      const n = search.push(chunk);
      if (n !== -1) return before + n;
      before += chunk.length;
    }
    return -1;
  };
  const reference = (chunks: Buffer[], needle: Buffer): number => {
    const at = Buffer.concat(chunks).indexOf(needle);
    return at === -1 ? -1 : at + needle.length;
  };

  test.each([
    [['hello world'], 'world', 11],
    [['hel', 'lo wo', 'rld'], 'lo wor', 9],
    [['a', 'a', 'b'], 'aab', 3],
    [['aaa', 'ab'], 'aab', 5],
    [['abab', 'abc'], 'ababc', 7],
    [['x'], 'xy', -1],
    [['', 'y'], 'y', 1],
    [['SSH-2.0-OpenSSH_9.6\r\n'], 'SSH-2.0', 7],
    [['caf\xc3', '\xa9'], 'café', 5], // a UTF-8 character split across chunks
  ])('%j: %j ends at %d', (chunks, needle, end) => {
    const bufs = chunks.map((c) => (c.includes('\xc3') || c.includes('\xa9') ? Buffer.from(c, 'latin1') : Buffer.from(c)));
    expect(endIn(bufs, Buffer.from(needle))).toBe(end);
    expect(reference(bufs, Buffer.from(needle))).toBe(end);
  });

  test('agrees with Buffer.indexOf on 20,000 random cases split into random chunks', () => {
    let a = 5;
    const rnd = (n: number): number => {
      a = (a * 1103515245 + 12345) & 0x7fffffff;
      return a % n;
    };
    const bytes = (max: number): Buffer => Buffer.from(Array.from({ length: rnd(max) }, () => 'aab'.charCodeAt(rnd(3))));
    for (let i = 0; i < 20_000; i++) {
      const text = bytes(40);
      const needle = bytes(6);
      const chunks: Buffer[] = [];
      for (let at = 0; at < text.length; ) {
        const size = 1 + rnd(8);
        chunks.push(text.subarray(at, at + size));
        at += size;
      }
      if (needle.length > 0 && endIn(chunks, needle) !== reference(chunks, needle)) {
        throw new Error(`ByteSearch(${needle}) over ${JSON.stringify(chunks.map(String))}`);
      }
    }
  });

  test('the input that makes Buffer.indexOf quadratic: at most two compares per byte', () => {
    // A 4 KiB needle (the expect limit) of "a"s with one "b" near the front, against 1 MiB of "a"
    // in 64 KiB chunks (as a socket delivers them). KMP never re-reads more than it advanced.
    const needle = Buffer.from(`ab${'a'.repeat(4094)}`);
    const search = new ByteSearch(needle);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    for (let i = 0; i < 16; i++) expect(search.push(chunk)).toBe(-1);
    expect(search.compares).toBeLessThanOrEqual(2 * 16 * chunk.length);
  });

  test('side by side on that input: Buffer.indexOf costs far more than ByteSearch (same run)', () => {
    const text = Buffer.alloc(256 * 1024, 'a');
    const needle = Buffer.from(`ab${'a'.repeat(4094)}`);
    const time = (f: () => number): [number, number] => {
      const start = process.hrtime.bigint();
      const r = f();
      return [r, Number(process.hrtime.bigint() - start)];
    };
    const [linear, linearNs] = time(() => new ByteSearch(needle).push(text));
    const [native, nativeNs] = time(() => text.indexOf(needle));
    expect(linear).toBe(-1);
    expect(native).toBe(-1);
    // At 1 MiB: ~1,100 ms for Buffer.indexOf (BENCHMARKS.md §6); 10x leaves room for a noisy machine.
    expect(nativeNs).toBeGreaterThan(10 * linearNs);
  });
});
