// Substring search in linear time, for `http.bodyContains` (strings) and a TCP check's `expect`
// (bytes, as they arrive). V8's String.prototype.includes and Buffer.indexOf use Boyer-Moore(-
// Horspool), which is O(body × needle) in the worst case: a 4 KiB needle of "a"s with one "b"
// against 1 MiB of "a" took 1.26 s with includes and 1.10 s with Buffer.indexOf (BENCHMARKS.md §6).
// Here: Knuth-Morris-Pratt, which reads each body character at most twice, with a skip to the next
// occurrence of the needle's first character (itself a linear scan, memchr-like) while nothing is
// matched — so a typical miss stays near memchr speed. Pure.

/** KMP failure table: for each prefix of the needle, the length of its longest proper border. */
function borders(length: number, at: (i: number) => number): Int32Array {
  const table = new Int32Array(length);
  for (let i = 1, k = 0; i < length; i++) {
    const c = at(i);
    while (k > 0 && c !== at(k)) k = table[k - 1]!;
    if (c === at(k)) k++;
    table[i] = k;
  }
  return table;
}

/** The index of the first occurrence of `needle` in `text`, or -1: the same answer as `text.indexOf(needle)`, in O(text + needle). */
export function indexOfLinear(text: string, needle: string): number {
  const m = needle.length;
  if (m === 0) return 0;
  if (m > text.length) return -1;
  const table = borders(m, (i) => needle.charCodeAt(i));
  const first = needle[0]!;
  let k = 0; // needle characters matched so far
  for (let i = 0; i < text.length; i++) {
    if (k === 0) {
      i = text.indexOf(first, i); // a single character: no pathological case
      if (i < 0) return -1;
      k = 1;
    } else {
      const c = text.charCodeAt(i);
      while (k > 0 && c !== needle.charCodeAt(k)) k = table[k - 1]!;
      if (c === needle.charCodeAt(k)) k++;
    }
    if (k === m) return i - m + 1;
  }
  return -1;
}

/**
 * A byte needle searched for in a stream of chunks, in O(total bytes + needle): the match state
 * carries over from one chunk to the next, so a needle split across chunks is found and no byte is
 * read twice (nothing is kept but the state). `push` answers whether the needle has ended inside
 * the chunk: the number of the chunk's bytes up to and including its last byte, or -1.
 */
export class ByteSearch {
  private readonly needle: Uint8Array;
  private readonly table: Int32Array;
  /** Needle bytes matched at the end of what was pushed so far. */
  private k = 0;
  /** Bytes compared so far (each compare reads one byte); for the linearity test. */
  compares = 0;

  constructor(needle: Uint8Array) {
    this.needle = needle;
    this.table = borders(needle.length, (i) => needle[i]!);
  }

  /** Bytes of `chunk` up to the end of the first match, or -1 if the needle has not ended in it. */
  push(chunk: Uint8Array): number {
    const needle = this.needle;
    const m = needle.length;
    if (m === 0) return 0; // like indexOf: the empty needle is found at once
    const first = needle[0]!;
    let k = this.k;
    for (let i = 0; i < chunk.length; i++) {
      if (k === 0) {
        // A single byte: memchr, no pathological case. Counted as the bytes it passed over.
        const next = chunk.indexOf(first, i);
        this.compares += (next < 0 ? chunk.length : next + 1) - i;
        if (next < 0) break;
        i = next;
        k = 1;
      } else {
        const c = chunk[i]!;
        this.compares++;
        while (k > 0 && c !== needle[k]) {
          k = this.table[k - 1]!;
          this.compares++;
        }
        if (c === needle[k]) k++;
      }
      if (k === m) {
        this.k = 0;
        return i + 1;
      }
    }
    this.k = k;
    return -1;
  }
}
