// The peer's bytes as a tcp expectRegex sees them: lines end at LF or CR LF, as blackbox_exporter
// reads them (bufio.ScanLines drops the CR), so `$` matches at the end of a CR LF line and a
// capture never ends in a CR. The CR of each CR LF is left out of the text the regex runs on, and
// an offset in that text maps back to one in the bytes received. Pure; used in the body worker's
// thread (checks/body-worker-thread.ts), linear in the bytes.

const CR = 0x0d;
const LF = 0x0a;

export interface LineText {
  /** The bytes without the CR of each CR LF. */
  bytes: Uint8Array;
  /** Ascending: where in `bytes` stands each LF whose CR was left out. */
  lfAt: number[];
}

/** `bytes` with the CR of every CR LF left out (the same array when there is none). */
export function withoutCrBeforeLf(bytes: Uint8Array): LineText {
  const lfAt: number[] = [];
  let out: Uint8Array | null = null;
  let w = 0;
  for (let r = 0; r < bytes.length; r++) {
    if (bytes[r] === CR && bytes[r + 1] === LF) {
      if (!out) {
        out = new Uint8Array(bytes.length);
        out.set(bytes.subarray(0, r));
      }
      lfAt.push(w);
      continue;
    }
    if (out) out[w] = bytes[r]!;
    w++;
  }
  return out ? { bytes: out.subarray(0, w), lfAt } : { bytes, lfAt };
}

/** The offset in the bytes received of offset `at` in the text: each CR left out before it counts. */
export function receivedOffset(text: LineText, at: number): number {
  let lo = 0;
  let hi = text.lfAt.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (text.lfAt[mid]! < at) lo = mid + 1;
    else hi = mid;
  }
  return at + lo;
}
