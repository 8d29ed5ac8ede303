import { CHUNKED_START, readChunked, type ChunkedStep } from '../../checks/http-chunked';

const bytes = (text: string): Buffer => Buffer.from(text, 'latin1');
const read = (text: string): ChunkedStep => readChunked(bytes(text), 0, CHUNKED_START);

/** Feed `text` in pieces of `piece` bytes; the last step and the data bytes counted over all of them. */
function fed(text: string, piece: number): { last: ChunkedStep; data: number } {
  let state = CHUNKED_START;
  let data = 0;
  let last: ChunkedStep = { kind: 'more', state, data: 0 };
  for (let i = 0; i < text.length; i += piece) {
    last = readChunked(bytes(text.slice(i, i + piece)), 0, state);
    if (last.kind === 'invalid') return { last, data };
    data += last.data;
    if (last.kind === 'done') return { last: { ...last, end: i + last.end }, data };
    state = last.state;
  }
  return { last, data };
}

describe('readChunked', () => {
  const whole: [string, string, number][] = [
    ['one chunk', '2\r\nok\r\n0\r\n\r\n', 2],
    ['several chunks, hex sizes in either case', 'a\r\n0123456789\r\nF\r\n0123456789abcde\r\n0\r\n\r\n', 25],
    ['extensions', '2;name=value\r\nok\r\n0;last\r\n\r\n', 2],
    ['trailers', '2\r\nok\r\n0\r\nx-trailer: 1\r\nx-other: 2\r\n\r\n', 2],
    ['leading zeros', '0002\r\nok\r\n0\r\n\r\n', 2],
    ['only the last chunk', '0\r\n\r\n', 0],
  ];

  test.each(whole)('%s: done at its end, its data counted', (_name, text, data) => {
    expect(read(text)).toEqual({ kind: 'done', end: text.length, data });
    expect(read(`${text}HTTP/1.1 200 OK\r\n`)).toEqual({ kind: 'done', end: text.length, data });
  });

  test.each(whole)('%s: the same fed in pieces of every size', (_name, text, data) => {
    for (let piece = 1; piece <= 9; piece++) expect(fed(text, piece)).toMatchObject({ last: { kind: 'done', end: text.length }, data });
  });

  test.each([
    ['cut in the size line', '2'],
    ['cut in the data', '5\r\nab'],
    ['cut after a chunk', '2\r\nok\r\n'],
    ['cut before the final empty line', '2\r\nok\r\n0\r\n'],
    ['cut in a trailer', '0\r\nx-t: 1'],
  ])('%s: more', (_name, text) => {
    expect(read(text).kind).toBe('more');
  });

  test.each([
    ['a space after the size', '2 \r\nok\r\n0\r\n\r\n', 'Invalid character in chunk size'],
    ['no size', '\r\nok\r\n', 'Invalid character in chunk size'],
    ['not hex', 'zz\r\nok\r\n', 'Invalid character in chunk size'],
    ['a size past 64 bits', '10000000000000000\r\n', 'Chunk size overflow'],
    ['bare LF after the size', '2\nok\r\n', 'Invalid character in chunk size'],
    ['CR without LF after the size', '2\rok\r\n', 'Expected LF after chunk size'],
    ['data longer than its size', '2\r\nokX\r\n0\r\n\r\n', 'Expected LF after chunk data'],
    ['bare LF after the data', '2\r\nok\n0\r\n\r\n', 'Expected LF after chunk data'],
    ['bare LF ending the trailers', '0\r\n\n', 'Invalid character in trailer'],
  ])('%s: invalid', (_name, text, message) => {
    expect(read(text)).toEqual({ kind: 'invalid', message });
  });
});
