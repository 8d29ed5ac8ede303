// How much of a target's answer a result message quotes (LOOKOUT_RESULT_DETAIL): redacted says
// only what kind of value was found and the headline of peer-derived error text; full quotes at
// most FULL_DETAIL_MAX_CHARS characters (of a preview built without recursion). Pure.
import { describeFound, FULL_DETAIL_MAX_CHARS, peerErrorText, preview, quoteTarget, summarizeFound } from '../../checks/result-detail';

const SECRET = 'NCJZ7SERVERIDSECRET';

describe('describeFound (the found side of a failed JSON assertion)', () => {
  test.each([
    [SECRET, 'x', 'another string'],
    [42, 'x', 'a number'],
    [42, 7, 'another number'],
    [true, 'x', 'a boolean'],
    [null, 'x', 'null'],
    [{ id: SECRET }, 'x', 'an object'],
    [[SECRET], [], 'another array'],
    [undefined, 'x', 'missing'],
  ])('redacted: %j (expected %j) → %s', (actual, expected, text) => {
    const found = actual === undefined ? undefined : summarizeFound(actual);
    expect(describeFound(found, expected, 'redacted')).toBe(text);
    expect(describeFound(found, expected, 'redacted')).not.toContain(SECRET);
  });

  test('full quotes the value as JSON, cut to the limit', () => {
    expect(describeFound(summarizeFound(SECRET), 'x', 'full')).toBe(JSON.stringify(SECRET));
    expect(describeFound(undefined, 'x', 'full')).toBe('missing');
    const long = describeFound(summarizeFound('y'.repeat(500)), 'x', 'full');
    expect(long).toHaveLength(FULL_DETAIL_MAX_CHARS);
    expect(long.endsWith('...')).toBe(true);
  });
});

test('quoteTarget: withheld when redacted, quoted and cut when full', () => {
  expect(quoteTarget(`ftp://${SECRET}/`, 'redacted')).not.toContain(SECRET);
  expect(quoteTarget(`ftp://${SECRET}/`, 'full')).toBe(JSON.stringify(`ftp://${SECRET}/`));
  expect(quoteTarget('z'.repeat(1000), 'full')).toHaveLength(FULL_DETAIL_MAX_CHARS);
});

test("peerErrorText: a certificate's names are dropped when redacted", () => {
  const text = `Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:${SECRET}.internal`;
  expect(peerErrorText(text, 'redacted')).toBe("Hostname/IP does not match certificate's altnames");
  expect(peerErrorText('self-signed certificate', 'redacted')).toBe('self-signed certificate');
  expect(peerErrorText(text, 'full').length).toBeLessThanOrEqual(FULL_DETAIL_MAX_CHARS);
});

describe('preview (a found value as JSON text, cut to the limit)', () => {
  /** What preview promises: JSON.stringify's text, cut to `max` with "...". */
  const reference = (v: unknown, max = FULL_DETAIL_MAX_CHARS): string => {
    const text = JSON.stringify(v) ?? String(v);
    return text.length > max ? `${text.slice(0, max - 3)}...` : text;
  };

  test('a value nested 100,000 deep: the cut text, not "Maximum call stack size exceeded"', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = i % 2 ? [deep] : { k: deep };
    expect(() => JSON.stringify(deep)).toThrow(RangeError); // why preview cannot be JSON.stringify
    const text = preview(deep);
    expect(text).toHaveLength(FULL_DETAIL_MAX_CHARS);
    expect(text).toBe(`${'[{"k":'.repeat(13).slice(0, FULL_DETAIL_MAX_CHARS - 3)}...`);
    expect(summarizeFound(deep)).toEqual({ kind: 'an array', preview: text });
  });

  test.each<[string, unknown]>([
    ['null', null],
    ['numbers', [0, -0, 1.5, -2e-7, 1e21, 123456789012345680000]],
    ['booleans', [true, false]],
    ['empty containers', { a: [], b: {}, c: [[]], d: [{}] }],
    ['escapes', 'quote " backslash \\ newline \n tab \t nul \u0000 del \u007f'],
    ['unicode and a surrogate pair at the cut', `${'é'.repeat(74)}\u{1F600}\u{1F600}tail`],
    ['a lone surrogate', 'a\ud800b'],
    ['a long key', { ['k'.repeat(200)]: 1 }],
    ['keys in insertion order, __proto__ as data', JSON.parse('{"b":1,"a":2,"__proto__":{"x":3},"1":4}')],
    ['undefined members and functions are left out / null', { a: undefined, b: [undefined, () => 1], c: 1 }],
    ['a Date (toJSON)', { at: new Date(0) }],
    ['exactly the limit', 'x'.repeat(FULL_DETAIL_MAX_CHARS - 2)],
    ['one past the limit', 'x'.repeat(FULL_DETAIL_MAX_CHARS - 1)],
    ['a long array', Array.from({ length: 500 }, (_, i) => ({ id: i }))],
    ['top-level undefined', undefined],
  ])('%s: the same text as JSON.stringify, cut', (_, value) => {
    expect(preview(value)).toBe(reference(value));
    expect(preview(value, 10)).toBe(reference(value, 10));
    expect(preview(value, 1000)).toBe(reference(value, 1000));
  });

  test('agrees with JSON.stringify on 2,000 random JSON values', () => {
    let a = 3;
    const rnd = (n: number): number => {
      a = (a * 1103515245 + 12345) & 0x7fffffff;
      return a % n;
    };
    const text = (): string => Array.from({ length: rnd(12) }, () => '"\\a\n\u00e9\ud83d\ude00x'[rnd(8)]).join('');
    const value = (depth: number): unknown => {
      switch (depth > 4 ? rnd(4) : rnd(6)) {
        case 0: return null;
        case 1: return rnd(1000) / 7 - 50;
        case 2: return text();
        case 3: return rnd(2) === 0;
        case 4: return Array.from({ length: rnd(5) }, () => value(depth + 1));
        default: return Object.fromEntries(Array.from({ length: rnd(5) }, () => [text(), value(depth + 1)]));
      }
    };
    for (let i = 0; i < 2000; i++) {
      const v = value(0);
      for (const max of [5, 20, FULL_DETAIL_MAX_CHARS]) {
        if (preview(v, max) !== reference(v, max)) throw new Error(`preview(${JSON.stringify(v)}, ${max}) = ${JSON.stringify(preview(v, max))}`);
      }
    }
  });

  test('reads only about what it shows of a 1,000,000-element array', () => {
    let reads = 0;
    const big = new Proxy(Array.from({ length: 1_000_000 }, (_, i) => i), {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^[0-9]+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    expect(preview(big, 20)).toBe('[0,1,2,3,4,5,6,7,...');
    expect(reads).toBeLessThanOrEqual(20);
  });
});
