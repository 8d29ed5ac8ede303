import { InterimFilter } from '../../checks/http-interim';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';
const CHUNKED = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n';

/** What undici reads of `text` through the filter, fed in pieces of `piece` bytes. */
function through(text: string, piece: number): string {
  const filter = new InterimFilter();
  let out = '';
  for (let i = 0; i < text.length; i += piece) out += filter.push(Buffer.from(text.slice(i, i + piece), 'latin1'))?.toString('latin1') ?? '';
  return out;
}

/** [name, what the server sends, what undici must read] */
const CASES: [string, string, string][] = [
  ['a plain answer', OK, OK],
  ['100 then 200', CONTINUE + OK, OK],
  ['two 100s', CONTINUE + CONTINUE + OK, OK],
  ['103 with headers, then 100, then 200', 'HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\n' + CONTINUE + OK, OK],
  ['CR LF before the status line', '\r\n' + OK, OK],
  ['chunked', CONTINUE + CHUNKED, CHUNKED],
  // A kept-alive connection: the filter follows each body to the next response.
  ['two responses, each after a 100', CONTINUE + OK + CONTINUE + CHUNKED, OK + CHUNKED],
  ['204 then 100 then 200', 'HTTP/1.1 204 No\r\ncontent-length: 9\r\n\r\n' + CONTINUE + OK, 'HTTP/1.1 204 No\r\ncontent-length: 9\r\n\r\n' + OK],
  // What the filter cannot read goes through untouched, from then on, for undici to judge.
  ['a body until the close', CONTINUE + 'HTTP/1.1 200 OK\r\n\r\n' + CONTINUE, 'HTTP/1.1 200 OK\r\n\r\n' + CONTINUE],
  ['a malformed head', 'HTTP/1.1 2000 OK\r\n\r\n' + CONTINUE, 'HTTP/1.1 2000 OK\r\n\r\n' + CONTINUE],
  ['101', 'HTTP/1.1 101 Switching\r\n\r\nraw', 'HTTP/1.1 101 Switching\r\n\r\nraw'],
  ['malformed chunks', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n' + CONTINUE, 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n' + CONTINUE],
];

describe('InterimFilter', () => {
  test.each(CASES)('%s, fed in pieces of every size', (_name, sent, read) => {
    for (const piece of [1, 2, 3, 5, 7, 13, sent.length]) expect(through(sent, piece)).toBe(read);
  });

  test('a head not complete yet is held: nothing is read until it is', () => {
    const filter = new InterimFilter();
    expect(filter.push(Buffer.from(CONTINUE + 'HTTP/1.1 200 OK\r\n'))).toBeNull();
    expect(filter.push(Buffer.from('content-length: 2\r\n\r\nok'))?.toString()).toBe(OK);
  });

  test('a head over the header-size limit goes through at once, for undici to refuse', () => {
    const head = Buffer.from(`HTTP/1.1 200 OK\r\nx: ${'v'.repeat(20_000)}`);
    expect(new InterimFilter().push(head)?.length).toBe(head.length);
  });

  test('a status line that never ends is held up to twice that limit, then let through', () => {
    const filter = new InterimFilter();
    const start = Buffer.from(`HTTP/1.1 200 ${'r'.repeat(20_000)}`);
    expect(filter.push(start)).toBeNull();
    expect(filter.push(Buffer.from('r'.repeat(20_000)))?.length).toBe(start.length + 20_000);
  });
});
