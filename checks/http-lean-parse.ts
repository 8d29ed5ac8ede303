// The head of an HTTP/1.1 response, pure: the status line and header lines up to the empty line,
// as strictly as undici's parser (llhttp, no lenient flags) reads them, for the lean probe path
// (checks/http-lean.ts) and the interim-response filter in front of undici (checks/http-interim.ts).
// Its verdicts match what undici makes of the same bytes (test/integration/http-lean-diff.test.ts):
//
//   complete head, status ≥ 200        → head (status, where it starts and ends, how its body is framed)
//   1xx other than 101, 100 included   → skipped, the next head is read (RFC 9110 §15.2: a client
//                                        must parse 1xx it did not expect; Go's client skips them)
//   CR / LF bytes before a status line → skipped, as llhttp does
//   101 (an upgrade not asked for)     → upgrade (undici: SocketError 'bad upgrade')
//   a byte llhttp would refuse         → invalid (undici: HTTPParserError)
//   header names + values ≥ maxHeaderSize bytes in one head → overflow (undici: HeadersOverflowError)
//   otherwise                          → partial (read more; resume from its progress)

/** How far the bytes received so far have been read: parsing resumes at `at`, a line start. */
export interface HeadProgress {
  /** The first byte of the first line not yet complete. */
  readonly at: number;
  /** The status of the head being read; 0 while its status line is not complete. */
  readonly status: number;
  /** Bytes of header names and values of the head being read (what maxHeaderSize bounds). */
  readonly size: number;
  /** Whether the head being read has had a Content-Length. */
  readonly contentLength: boolean;
  /** Whether the head being read has had a Transfer-Encoding. */
  readonly transferEncoding: boolean;
  /** The head's Content-Length (-1: none yet). */
  readonly length: number;
  /** Whether the head's (last) Transfer-Encoding ends in `chunked`. */
  readonly chunked: boolean;
  /** Where the status line of the head being read starts (while the buffer still holds it). */
  readonly start: number;
}

/** Nothing read yet. */
export const HEAD_START: HeadProgress = { at: 0, status: 0, size: 0, contentLength: false, transferEncoding: false, length: -1, chunked: false, start: 0 };

/**
 * How the body after a final head ends, as llhttp frames a response (RFC 9112 §6.3): `chunked` when
 * the last transfer coding is chunked, else `close` (read until the connection closes) when there
 * is any Transfer-Encoding or no Content-Length, else `length` bytes. A HEAD request's answer,
 * 204 and 304 have no body whatever the head says: that is the caller's to apply (bodyFraming).
 */
export type Framing = { kind: 'chunked' } | { kind: 'length'; length: number } | { kind: 'close' } | { kind: 'none' };

/** A complete final head: its status, where its status line starts and where the head ends. */
export interface Head {
  kind: 'head';
  status: number;
  start: number;
  end: number;
  framing: Framing;
}

/**
 * The HTTP version (`1.0`, `1.1`, …) of the final head in `parsed`, read from its status line in
 * `buf` — undefined while no final status line is known. Call it on the parse that first gives
 * one: only that parse's `buf` is sure to hold the status line (a caller may drop complete lines).
 */
export function finalHeadVersion(buf: Buffer, parsed: HeadParse): string | undefined {
  const start = parsed.kind === 'head' ? parsed.start : parsed.kind === 'partial' && parsed.progress.status >= 200 ? parsed.progress.start : -1;
  return start < 0 ? undefined : buf.toString('latin1', start + 5, start + 8);
}

/** What the bytes received so far say about the response head. */
export type HeadParse =
  | { kind: 'partial'; progress: HeadProgress }
  | Head
  | { kind: 'upgrade' }
  | { kind: 'invalid'; message: string }
  | { kind: 'overflow' };

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const PARTIAL = { kind: 'partial' } as const;
/** The largest Content-Length llhttp reads (a 64-bit unsigned integer). */
const MAX_CONTENT_LENGTH = 2n ** 64n - 1n;
const OVERFLOW = { kind: 'overflow' } as const;
const UPGRADE = { kind: 'upgrade' } as const;

/** HTTP token characters (RFC 9110 tchar), by byte. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[c.charCodeAt(0)] = 1;

/** Header value bytes: HTAB, printable ASCII, obs-text. */
function valueByte(b: number): boolean {
  return b === HTAB || (b >= 0x20 && b !== 0x7f);
}

const invalid = (message: string): { kind: 'invalid'; message: string } => ({ kind: 'invalid', message });

/**
 * Read the response head in `buf` from `from` (HEAD_START, or the progress of the last partial
 * answer on the same bytes plus more). Complete lines are read once: each call costs the new lines
 * plus the one still incomplete. `maxHeaderSize` bounds the bytes of header names and values of
 * one head, as undici's `maxHeaderSize` does.
 */
export function parseResponseHead(buf: Buffer, from: HeadProgress, maxHeaderSize: number): HeadParse {
  let { at, status, size, contentLength, transferEncoding, length, chunked, start } = from;
  const partial = (): HeadParse => ({ kind: 'partial', progress: { at, status, size, contentLength, transferEncoding, length, chunked, start } });
  for (;;) {
    if (status === 0) {
      const line = statusLine(buf, at);
      if (line.kind === 'skip') {
        at = line.end;
        continue;
      }
      if (line.kind === 'partial') return partial();
      if (line.kind === 'invalid') return line;
      start = at;
      ({ status, end: at } = line);
      ({ size, contentLength, transferEncoding, length, chunked } = HEAD_START);
    }
    if (at >= buf.length) return size >= maxHeaderSize ? OVERFLOW : partial();
    if (buf[at] === CR) {
      if (at + 1 >= buf.length) return partial();
      if (buf[at + 1] !== LF) return invalid('Expected LF after headers');
      if (status >= 200) return { kind: 'head', status, start, end: at + 2, framing: framingOf(transferEncoding, chunked, length) };
      if (status === 101) return UPGRADE;
      at += 2; // an informational head (100 Continue included): the answer follows
      status = 0;
      continue;
    }
    const header = headerLine(buf, at);
    if (header.kind === 'partial') return size + header.size >= maxHeaderSize ? OVERFLOW : partial();
    if (header.kind === 'invalid') return header;
    size += header.nameLength + header.value.length;
    if (size >= maxHeaderSize) return OVERFLOW;
    const name = header.nameLength === 14 || header.nameLength === 17 ? buf.toString('latin1', at, at + header.nameLength).toLowerCase() : '';
    if (name === 'content-length') {
      if (!/^[0-9]+$/.test(header.value)) return invalid('Invalid character in Content-Length');
      if (BigInt(header.value) > MAX_CONTENT_LENGTH) return invalid('Content-Length overflow');
      if (contentLength) return invalid('Duplicate Content-Length');
      contentLength = true;
      length = Number(header.value);
    } else if (name === 'transfer-encoding') {
      transferEncoding = true;
      chunked = endsChunked(header.value);
    }
    if (contentLength && transferEncoding) return invalid("Content-Length can't be present with Transfer-Encoding");
    at = header.end;
  }
}

const LAST_CODING_CHUNKED = /(?:^|,)[ \t]*chunked[ \t]*$/i;

/** Whether a Transfer-Encoding value ends in the chunked coding (the body is then chunked: RFC 9112 §6.3). */
export function endsChunked(transferEncoding: string): boolean {
  return LAST_CODING_CHUNKED.test(transferEncoding);
}

function framingOf(transferEncoding: boolean, chunked: boolean, length: number): Framing {
  if (chunked) return { kind: 'chunked' };
  if (transferEncoding || length < 0) return { kind: 'close' };
  return length === 0 ? { kind: 'none' } : { kind: 'length', length };
}

/** The framing of the body that follows `head` for a request with `method`: none for HEAD, 204 and 304. */
export function bodyFraming(head: Head, method: string): Framing {
  return method === 'HEAD' || head.status === 204 || head.status === 304 ? { kind: 'none' } : head.framing;
}

type Line = { kind: 'head'; status: number; end: number } | { kind: 'partial' } | { kind: 'invalid'; message: string };

/** HTTP versions llhttp accepts in a response (any other x.y is refused). */
const VERSIONS = new Set(['0.9', '1.0', '1.1', '2.0']);

/** `HTTP/x.y NNN[ reason]` CRLF, after any CR and LF bytes (llhttp skips those before a message). */
function statusLine(buf: Buffer, start: number): Line | { kind: 'skip'; end: number } {
  let at = start;
  while (at < buf.length && (buf[at] === CR || buf[at] === LF)) at++;
  if (at > start) return { kind: 'skip', end: at };
  const prefix = 'HTTP/';
  for (let i = 0; i < prefix.length + 3; i++) {
    if (at + i >= buf.length) return PARTIAL;
    if (i < prefix.length && buf[at + i] !== prefix.charCodeAt(i)) return invalid('Expected HTTP/');
  }
  if (!VERSIONS.has(buf.toString('latin1', at + prefix.length, at + prefix.length + 3))) return invalid('Invalid HTTP version');
  at += prefix.length + 3;
  if (at >= buf.length) return PARTIAL;
  if (buf[at++] !== SP) return invalid('Expected space after version');
  let status = 0;
  for (let d = 0; d < 3; d++, at++) {
    if (at >= buf.length) return PARTIAL;
    const b = buf[at]!;
    if (b < 0x30 || b > 0x39) return invalid('Invalid status code');
    status = status * 10 + (b - 0x30);
  }
  if (status < 100) return invalid('Invalid status code');
  if (at >= buf.length) return PARTIAL;
  if (buf[at] === SP) {
    at++;
    while (at < buf.length && buf[at] !== CR && buf[at] !== LF) at++;
  } else if (buf[at] !== CR) {
    return invalid('Invalid status code');
  }
  if (at + 1 >= buf.length) return PARTIAL;
  if (buf[at] !== CR || buf[at + 1] !== LF) return invalid('Missing expected CR after response line');
  return { kind: 'head', status, end: at + 2 };
}

type Header =
  | { kind: 'header'; nameLength: number; value: string; end: number }
  | { kind: 'partial'; size: number }
  | { kind: 'invalid'; message: string };

/**
 * `name: value` CRLF, the value without surrounding spaces and tabs. When the line is not all
 * there yet, `size`: the bytes of name and value received so far (what counts toward the limit).
 */
function headerLine(buf: Buffer, start: number): Header {
  // A line folded onto the one before (obs-fold) is refused, as llhttp does.
  if (buf[start] === SP || buf[start] === HTAB) return invalid('Unexpected whitespace after header value');
  let at = start;
  while (at < buf.length && TCHAR[buf[at]!]) at++;
  if (at >= buf.length) return { kind: 'partial', size: at - start };
  if (buf[at] !== 0x3a || at === start) return invalid('Invalid header token');
  const nameLength = at - start;
  at++;
  while (at < buf.length && (buf[at] === SP || buf[at] === HTAB)) at++;
  const valueStart = at;
  while (at < buf.length && valueByte(buf[at]!)) at++;
  if (at < buf.length && buf[at] !== CR) return invalid(buf[at] === LF ? 'Missing expected CR after header value' : 'Invalid header value char');
  if (at + 1 >= buf.length) return { kind: 'partial', size: nameLength + at - valueStart };
  if (buf[at + 1] !== LF) return invalid('Missing expected LF after header value');
  const next = at + 2;
  let end = at;
  while (end > valueStart && (buf[end - 1] === SP || buf[end - 1] === HTAB)) end--;
  return { kind: 'header', nameLength, value: buf.toString('latin1', valueStart, end), end: next };
}
