import type { StatusMatcher } from '../../checks/spec';
import { describeStatusSet, STATUS_CLASS_PATTERN, statusMatches } from '../../checks/status-match';

describe('statusMatches', () => {
  test.each<[number, StatusMatcher[], boolean]>([
    [200, ['2xx'], true],
    [204, ['2xx'], true],
    [299, ['2xx'], true],
    [199, ['2xx'], false],
    [300, ['2xx'], false],
    [503, ['2xx'], false],
    [503, ['5xx'], true],
    [100, ['1xx'], true],
    [301, [301], true],
    [302, [301], false],
    [200, [200, 204], true],
    [204, [200, 204], true],
    [201, [200, 204], false],
    [404, ['2xx', 404], true],
    [418, ['2xx', 404], false],
    [301, ['2xx', '3xx'], true],
    [200, [], false],
  ])('%i in %j → %s', (status, expected, match) => {
    expect(statusMatches(status, expected)).toBe(match);
  });
});

describe('describeStatusSet', () => {
  test.each<[StatusMatcher[], string]>([
    [['2xx'], '2xx'],
    [[200, 204], '200, 204'],
    [['2xx', 301], '2xx, 301'],
  ])('%j → %s', (expected, text) => {
    expect(describeStatusSet(expected)).toBe(text);
  });
});

describe('STATUS_CLASS_PATTERN', () => {
  test.each<[string, boolean]>([
    ['1xx', true],
    ['5xx', true],
    ['0xx', false],
    ['6xx', false],
    ['2XX', false],
    ['2xx ', false],
    ['200', false],
  ])('%s → %s', (text, match) => {
    expect(STATUS_CLASS_PATTERN.test(text)).toBe(match);
  });
});
