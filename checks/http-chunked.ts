// A chunked response body (RFC 9112 §7.1), read incrementally and pure: where it ends and how many
// data bytes it carried, never the data itself. For the lean probe (checks/http-lean.ts), which
// must tell a body cut short from a whole one, and for the interim-response filter in front of
// undici (checks/http-interim.ts), which must know where the next response starts.
//
// As strict as llhttp (undici's parser) where the corpus of test/integration/http-lean-diff.test.ts
// reaches: a chunk size is 1..16 hex digits, then CRLF or `;` extensions up to CRLF; no spaces; the
// data is followed by CRLF; after the last (zero) chunk, trailer lines up to an empty line. What
// it does not check that llhttp does: the syntax of extensions and of trailer lines (any bytes but
// CR and LF) — a difference only a malformed trailer can show, and only in the failure's wording.
//
//   the body ended                 → done (the offset after it, the data bytes in this buffer)
//   more bytes needed              → more (the state to resume with, the data bytes in this buffer)
//   a byte llhttp would refuse     → invalid (its message, in llhttp's words)

type Phase = 'size' | 'ext' | 'size_lf' | 'data' | 'data_cr' | 'data_lf' | 'trailer' | 'trailer_line' | 'trailer_lf' | 'end_lf';

/** How far a chunked body has been read. */
export interface ChunkedState {
  readonly phase: Phase;
  /** `size`: the hex digits read; `data`: the data bytes left in the chunk. */
  readonly count: number;
  /** `size`: the chunk size so far. */
  readonly size: number;
}

/** Before the first chunk-size line. */
export const CHUNKED_START: ChunkedState = { phase: 'size', count: 0, size: 0 };

export type ChunkedStep =
  | { kind: 'done'; end: number; data: number }
  | { kind: 'more'; state: ChunkedState; data: number }
  | { kind: 'invalid'; message: string };

const CR = 13;
const LF = 10;
/** llhttp refuses a chunk size past 64 bits. */
const MAX_SIZE_DIGITS = 16;

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  const lower = b | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

const invalid = (message: string): ChunkedStep => ({ kind: 'invalid', message });

/** Read `buf` from offset `from` on, resuming at `state`. */
export function readChunked(buf: Buffer, from: number, state: ChunkedState): ChunkedStep {
  let { phase, count, size } = state;
  let data = 0;
  let at = from;
  while (at < buf.length) {
    const b = buf[at]!;
    switch (phase) {
      case 'size': {
        const digit = hexValue(b);
        if (digit >= 0) {
          if (++count > MAX_SIZE_DIGITS) return invalid('Chunk size overflow');
          size = size * 16 + digit;
        } else if (count > 0 && (b === CR || b === 0x3b)) {
          phase = b === CR ? 'size_lf' : 'ext';
        } else {
          return invalid('Invalid character in chunk size');
        }
        at++;
        break;
      }
      case 'ext':
        if (b === LF) return invalid('Invalid character in chunk extensions');
        if (b === CR) phase = 'size_lf';
        at++;
        break;
      case 'size_lf':
        if (b !== LF) return invalid('Expected LF after chunk size');
        at++;
        if (size === 0) phase = 'trailer';
        else ({ phase, count } = { phase: 'data', count: size });
        break;
      case 'data': {
        const take = Math.min(count, buf.length - at);
        data += take;
        count -= take;
        at += take;
        if (count === 0) phase = 'data_cr';
        break;
      }
      case 'data_cr':
        if (b !== CR) return invalid('Expected LF after chunk data');
        phase = 'data_lf';
        at++;
        break;
      case 'data_lf':
        if (b !== LF) return invalid('Expected LF after chunk data');
        ({ phase, count, size } = CHUNKED_START);
        at++;
        break;
      case 'trailer':
        if (b === LF) return invalid('Invalid character in trailer');
        phase = b === CR ? 'end_lf' : 'trailer_line';
        at++;
        break;
      case 'trailer_line':
        if (b === LF) return invalid('Invalid character in trailer');
        if (b === CR) phase = 'trailer_lf';
        at++;
        break;
      case 'trailer_lf':
      case 'end_lf':
        if (b !== LF) return invalid('Expected LF after trailer');
        at++;
        if (phase === 'end_lf') return { kind: 'done', end: at, data };
        phase = 'trailer';
        break;
    }
  }
  return { kind: 'more', state: { phase, count, size }, data };
}
