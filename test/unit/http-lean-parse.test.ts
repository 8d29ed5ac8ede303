import { bodyFraming, finalHeadVersion, HEAD_START, parseResponseHead, type Framing, type Head, type HeadParse } from '../../checks/http-lean-parse';

const MAX = 100;
const parse = (text: string, max = MAX): HeadParse => parseResponseHead(Buffer.from(text, 'latin1'), HEAD_START, max);
const partial = (at: number, status = 0, size = 0, length = -1, start = 0): HeadParse => ({
  kind: 'partial',
  progress: { at, status, size, contentLength: length >= 0, transferEncoding: false, length, chunked: false, start },
});
const CLOSE: Framing = { kind: 'close' };
/** A final head; its body ends at the close unless `framing` says otherwise. */
const final = (status: number, end: number, start = 0, framing: Framing = CLOSE): Head => ({ kind: 'head', status, start, end, framing });
const head = (text: string): number => Buffer.byteLength(text, 'latin1');

describe('parseResponseHead', () => {
  const cases: [string, string, HeadParse][] = [
    ['a 200 with headers', 'HTTP/1.1 200 OK\r\nx: y\r\n\r\n', final(200, head('HTTP/1.1 200 OK\r\nx: y\r\n\r\n'))],
    ['HTTP/1.0, no reason', 'HTTP/1.0 404\r\n\r\n', final(404, 16)],
    ['an empty reason', 'HTTP/1.1 503 \r\n\r\n', final(503, 17)],
    ['the body is not read', 'HTTP/1.1 200 OK\r\n\r\nanything at all', final(200, 19)],
    ['value whitespace and obs-text', 'HTTP/1.1 200 OK\r\nx:\t a\xff b \t\r\n\r\n', final(200, 31)],
    ['1xx skipped', 'HTTP/1.1 103 Early\r\nlink: x\r\n\r\nHTTP/1.1 204 No\r\n\r\n', final(204, 50, head('HTTP/1.1 103 Early\r\nlink: x\r\n\r\n'))],
    ['1xx then nothing yet', 'HTTP/1.1 102 P\r\n\r\n', partial(18)],
    ['100 skipped, as any 1xx (RFC 9110 §15.2)', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n', final(200, head('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'), head('HTTP/1.1 100 Continue\r\n\r\n'))],
    ['two 100s then nothing yet', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n', partial(head('HTTP/1.1 100 Continue\r\n\r\n') * 2, 0, 0, -1, head('HTTP/1.1 100 Continue\r\n\r\n'))],
    ['101 is refused (no upgrade was asked for)', 'HTTP/1.1 101 Switching\r\n\r\n', { kind: 'upgrade' }],
    ['a content-length frames the body', 'HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n', final(200, head('HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\n'), 0, { kind: 'length', length: 12 })],
    ['content-length 0: no body', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n', final(200, head('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'), 0, { kind: 'none' })],
    ['chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n', final(200, head('HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n'), 0, { kind: 'chunked' })],
    ['chunked last after another coding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip,chunked\r\n\r\n', final(200, head('HTTP/1.1 200 OK\r\ntransfer-encoding: gzip,chunked\r\n\r\n'), 0, { kind: 'chunked' })],
    ['chunked not last: until the close', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n', final(200, head('HTTP/1.1 200 OK\r\ntransfer-encoding: chunked, gzip\r\n\r\n'))],
    ['empty', '', partial(0)],
    ['mid status line', 'HTTP/1.1 20', partial(0)],
    ['mid headers', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx: y\r', partial(36, 200, 15, 0)],
    ['before the empty line', 'HTTP/1.1 200 OK\r\nx: y\r\n', partial(23, 200, 2)],
    ['bad prefix', 'HTTX/1.1 200 OK\r\n\r\n', { kind: 'invalid', message: 'Expected HTTP/' }],
    ['version 1.2', 'HTTP/1.2 200 OK\r\n\r\n', { kind: 'invalid', message: 'Invalid HTTP version' }],
    ['version 2.0 and 0.9 pass, as in llhttp', 'HTTP/2.0 200 OK\r\n\r\nHTTP/0.9 200 OK\r\n\r\n', final(200, 19)],
    ['version 3.0', 'HTTP/3.0 200 OK\r\n\r\n', { kind: 'invalid', message: 'Invalid HTTP version' }],
    ['CR and LF before the status line are skipped', '\r\n\nHTTP/1.1 200 OK\r\n\r\n', final(200, 22, 3)],
    ['only CR and LF so far', '\r\n\r', partial(3)],
    ['content-length with transfer-encoding', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\ncontent-length: 2\r\n\r\n', { kind: 'invalid', message: "Content-Length can't be present with Transfer-Encoding" }],
    ['transfer-encoding twice', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n', final(200, 72, 0, { kind: 'chunked' })],
    ['content-length past 64 bits', 'HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551616\r\n\r\n', { kind: 'invalid', message: 'Content-Length overflow' }],
    ['content-length of 64 bits', 'HTTP/1.1 200 OK\r\ncontent-length: 18446744073709551615\r\n\r\n', final(200, 57, 0, { kind: 'length', length: Number('18446744073709551615') })],
    ['four digits', 'HTTP/1.1 2000 OK\r\n\r\n', { kind: 'invalid', message: 'Invalid status code' }],
    ['two digits', 'HTTP/1.1 20 OK\r\n\r\n', { kind: 'invalid', message: 'Invalid status code' }],
    ['status under 100', 'HTTP/1.1 099 OK\r\n\r\n', { kind: 'invalid', message: 'Invalid status code' }],
    ['no space after the version', 'HTTP/1.1200 OK\r\n\r\n', { kind: 'invalid', message: 'Expected space after version' }],
    ['bare LF after the status line', 'HTTP/1.1 200 OK\nx: y\r\n\r\n', { kind: 'invalid', message: 'Missing expected CR after response line' }],
    ['bare LF after a header', 'HTTP/1.1 200 OK\r\nx: y\n\r\n', { kind: 'invalid', message: 'Missing expected CR after header value' }],
    ['CR without LF after a header', 'HTTP/1.1 200 OK\r\nx: y\rz\r\n\r\n', { kind: 'invalid', message: 'Missing expected LF after header value' }],
    ['space in a name', 'HTTP/1.1 200 OK\r\nx y: z\r\n\r\n', { kind: 'invalid', message: 'Invalid header token' }],
    ['empty name', 'HTTP/1.1 200 OK\r\n: z\r\n\r\n', { kind: 'invalid', message: 'Invalid header token' }],
    ['control byte in a value', 'HTTP/1.1 200 OK\r\nx: a\x00\r\n\r\n', { kind: 'invalid', message: 'Invalid header value char' }],
    ['obs-fold', 'HTTP/1.1 200 OK\r\nx: a\r\n b\r\n\r\n', { kind: 'invalid', message: 'Unexpected whitespace after header value' }],
    ['content-length not a number', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n', { kind: 'invalid', message: 'Invalid character in Content-Length' }],
    ['two content-lengths', 'HTTP/1.1 200 OK\r\ncontent-length: 1\r\nCONTENT-LENGTH: 1\r\n\r\n', { kind: 'invalid', message: 'Duplicate Content-Length' }],
    ['names and values at the limit', `HTTP/1.1 200 OK\r\nx: ${'v'.repeat(MAX - 1)}\r\n\r\n`, { kind: 'overflow' }],
    ['names and values just under it', `HTTP/1.1 200 OK\r\nx: ${'v'.repeat(MAX - 2)}\r\n\r\n`, final(200, head(`HTTP/1.1 200 OK\r\nx: ${'v'.repeat(MAX - 2)}\r\n\r\n`))],
    ['a header past the limit, unfinished', `HTTP/1.1 200 OK\r\nx: ${'v'.repeat(MAX)}`, { kind: 'overflow' }],
    ['the limit per head: a 1xx does not count', `HTTP/1.1 103 E\r\na: ${'v'.repeat(60)}\r\n\r\nHTTP/1.1 200 OK\r\nb: ${'v'.repeat(60)}\r\n\r\n`, final(200, 167, head(`HTTP/1.1 103 E\r\na: ${'v'.repeat(60)}\r\n\r\n`))],
  ];

  test.each(cases)('%s', (_name, text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  test('the same answer from `start`, after bytes already consumed', () => {
    const buf = Buffer.from('junkHTTP/1.1 200 OK\r\n\r\n', 'latin1');
    expect(parseResponseHead(buf, { ...HEAD_START, at: 4 }, MAX)).toEqual(final(200, buf.length, 4));
  });

  // How the lean probe reads: from the last progress, on the incomplete line plus what arrived.
  test.each(cases)('"%s" fed in pieces of every size, resuming, gives the same answer', (_name, text, expected) => {
    for (let piece = 1; piece <= 7; piece++) {
      let pending = Buffer.alloc(0);
      let progress = HEAD_START;
      let got: HeadParse = partial(0);
      let offset = 0; // bytes dropped before `pending`, to compare `end`
      for (let i = 0; i < text.length && got.kind === 'partial'; i += piece) {
        const bytes = Buffer.concat([pending.subarray(progress.at), Buffer.from(text.slice(i, i + piece), 'latin1')]);
        offset += progress.at;
        got = parseResponseHead(bytes, { ...progress, at: 0 }, MAX);
        if (got.kind === 'partial') ({ progress } = got);
        pending = bytes;
      }
      // Rebased reads drop the status line: `start` means nothing there (the lean probe reads no start).
      if (got.kind === 'head') got = { ...got, end: got.end + offset, start: expected.kind === 'head' ? expected.start : 0 };
      if (got.kind === 'partial') expect(got.progress.status).toBe(expected.kind === 'partial' ? expected.progress.status : got.progress.status);
      else expect(got).toEqual(expected);
    }
  });

  // The lean probe re-parses what it has each time bytes arrive: every prefix of a head must be
  // partial (or already the final answer), never a different verdict.
  test.each(cases.filter(([, , r]) => r.kind !== 'partial'))('every prefix of "%s" is partial or the same answer', (_name, text, expected) => {
    for (let cut = 0; cut < text.length; cut++) {
      const got = parse(text.slice(0, cut));
      if (got.kind !== 'partial') expect(got).toEqual(expected);
    }
  });
});

describe('bodyFraming', () => {
  const of = (text: string): Head => parse(text) as Head;
  test.each([
    ['GET', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', { kind: 'length', length: 5 }],
    ['HEAD', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n', { kind: 'none' }],
    ['GET', 'HTTP/1.0 200 OK\r\n\r\n', { kind: 'close' }],
  ] as const)('%s %j', (method, text, framing) => {
    expect(bodyFraming(of(text), method)).toEqual(framing);
  });
});

describe('finalHeadVersion', () => {
  const version = (text: string) => finalHeadVersion(Buffer.from(text, 'latin1'), parse(text));
  test.each([
    ['a whole 1.1 head', 'HTTP/1.1 200 OK\r\n\r\n', '1.1'],
    ['a whole 1.0 head', 'HTTP/1.0 204 No\r\n\r\n', '1.0'],
    ['a final status line, headers to come', 'HTTP/1.0 200 OK\r\nx: y', '1.0'],
    ['the final head after an interim one of another version', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\n', '1.0'],
    ['only an interim head so far: no final version yet', 'HTTP/1.1 100 Continue\r\n\r\n', undefined],
    ['the status line not complete', 'HTTP/1.0 20', undefined],
    ['not a head', 'HTTP/9.9 200 OK\r\n\r\n', undefined],
  ])('%s', (_, text, expected) => expect(version(text)).toBe(expected));
});
