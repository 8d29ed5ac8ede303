import { evaluateJsonAssertions, JsonPathError, jsonEqual, lookupJsonPath, parseJsonPath, type PathSegment } from '../../checks/json-path';

describe('parseJsonPath', () => {
  test.each<[string, PathSegment[]]>([
    ['$', []],
    ['$.status', ['status']],
    ['$.a.b', ['a', 'b']],
    ['$.checks[0].ok', ['checks', 0, 'ok']],
    ['$.list[12]', ['list', 12]],
    ['$[0][1]', [0, 1]],
    ['$.a-b_c9', ['a-b_c9']],
    ['$["dotted.key"]', ['dotted.key']],
    ['$["with \\"quote\\""]', ['with "quote"']],
    ['$["back\\\\slash"]', ['back\\slash']],
    ['$["\\u00e9t\\u00e9"]', ['été']],
    ['$[""]', ['']],
    ['$["a"].b[3]', ['a', 'b', 3]],
  ])('%s', (path, segments) => {
    expect(parseJsonPath(path)).toEqual(segments);
  });

  test.each<[string, number]>([
    ['', 0],
    ['status', 0],
    ['.a', 0],
    ['$.', 2],
    ['$..a', 2],
    ['$.a.', 4],
    ['$a', 1],
    ['$.a b', 3],
    ['$[01]', 1],
    ['$[-1]', 1],
    ['$[x]', 1],
    ['$[', 1],
    ['$["open', 1],
    ['$["a"', 1],
    ['$["bad \\x escape"]', 2],
    ['$.*', 2],
  ])('%s is rejected at offset %i', (path, offset) => {
    let error: unknown;
    try {
      parseJsonPath(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JsonPathError);
    expect((error as JsonPathError).offset).toBe(offset);
  });
});

describe('lookupJsonPath', () => {
  const doc = { status: 'up', checks: [{ ok: true }, { ok: false, name: null }], 'dotted.key': 1, nested: { list: [[1, 2]] } };

  test.each<[string, unknown]>([
    ['$', doc],
    ['$.status', 'up'],
    ['$.checks[0].ok', true],
    ['$.checks[1].ok', false],
    ['$.checks[1].name', null],
    ['$["dotted.key"]', 1],
    ['$.nested.list[0][1]', 2],
    ['$.missing', undefined],
    ['$.checks[2]', undefined],
    ['$.checks.ok', undefined],
    ['$.status[0]', undefined],
    ['$.status.length', undefined],
    ['$.checks.length', undefined],
    ['$.toString', undefined],
    ['$.checks[1].name.x', undefined],
  ])('%s', (path, value) => {
    expect(lookupJsonPath(doc, parseJsonPath(path))).toEqual(value);
  });

  test('own "__proto__" member parsed from JSON is reachable', () => {
    const parsed: unknown = JSON.parse('{"__proto__": {"x": 1}}');
    expect(lookupJsonPath(parsed, parseJsonPath('$["__proto__"].x'))).toBe(1);
  });
});

describe('jsonEqual', () => {
  test.each<[unknown, unknown, boolean]>([
    [1, 1, true],
    [1, 2, false],
    [1, '1', false],
    ['a', 'a', true],
    [true, true, true],
    [true, 1, false],
    [null, null, true],
    [null, {}, false],
    [{}, null, false],
    [0, -0, true],
    [[], [], true],
    [[1, 2], [1, 2], true],
    [[1, 2], [2, 1], false],
    [[1], [1, 2], false],
    [[], {}, false],
    [{}, [], false],
    [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [{ a: 1, b: 2 }, { a: 1 }, false],
    [{ a: 1 }, { b: 1 }, false],
    [{ a: [{ b: null }] }, { a: [{ b: null }] }, true],
    [{ a: [{ b: null }] }, { a: [{ b: 0 }] }, false],
    [undefined, undefined, true],
    [undefined, null, false],
  ])('%j vs %j → %s', (a, b, equal) => {
    expect(jsonEqual(a, b)).toBe(equal);
    expect(jsonEqual(b, a)).toBe(equal);
  });
});

describe('evaluateJsonAssertions (what the body worker runs for a check\'s json assertions)', () => {
  const body = JSON.stringify({ status: 'up', checks: [{ name: 'db', ok: false }], token: 'SECRET' });
  test.each<[string, { path: string; equals?: unknown; notEquals?: unknown }[], unknown]>([
    ['all pass', [{ path: '$.status', equals: 'up' }, { path: '$.checks[0].name', equals: 'db' }], { status: 'pass' }],
    ['no assertions', [], { status: 'pass' }],
    ['the first failure, by index', [{ path: '$.status', equals: 'up' }, { path: '$.checks[0].ok', equals: true }, { path: '$.nope', equals: 1 }], { status: 'fail', index: 1, found: { kind: 'a boolean', preview: 'false' } }],
    ['missing: no summary', [{ path: '$.nope', equals: 1 }], { status: 'fail', index: 0 }],
    ['a string, previewed', [{ path: '$.token', equals: 'x' }], { status: 'fail', index: 0, found: { kind: 'a string', preview: '"SECRET"' } }],
    ['an object', [{ path: '$.checks[0]', equals: {} }], { status: 'fail', index: 0, found: { kind: 'an object', preview: '{"name":"db","ok":false}' } }],
    ['notEquals: another value passes', [{ path: '$.status', notEquals: 'down' }], { status: 'pass' }],
    ['notEquals: nothing at the path passes', [{ path: '$.nope', notEquals: null }], { status: 'pass' }],
    ['notEquals: the forbidden value fails', [{ path: '$.status', notEquals: 'up' }], { status: 'fail', index: 0, found: { kind: 'a string', preview: '"up"' } }],
    ['notEquals: deep equality', [{ path: '$.checks[0]', notEquals: { ok: false, name: 'db' } }], { status: 'fail', index: 0, found: { kind: 'an object', preview: '{"name":"db","ok":false}' } }],
  ])('%s', (_, assertions, result) => {
    expect(evaluateJsonAssertions(body, assertions)).toEqual(result);
  });

  test('a body that is not JSON is `invalid`', () => {
    expect(evaluateJsonAssertions('{"a":', [{ path: '$', equals: 1 }])).toEqual({ status: 'invalid' });
    expect(evaluateJsonAssertions('', [])).toEqual({ status: 'invalid' });
  });

  test('a found value nested 100,000 deep is summarised (cut preview), not a stack overflow', () => {
    const deep = `{"v":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const result = evaluateJsonAssertions(deep, [{ path: '$.v', equals: 1 }]);
    expect(result).toEqual({ status: 'fail', index: 0, found: { kind: 'an array', preview: `${'['.repeat(77)}...` } });
  });
});
