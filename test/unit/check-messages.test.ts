// What one probe outcome publishes (protocol/check-messages.ts): the result message with seq + 1,
// the rounds skipped before the probe (carried by its run), optional HTTP fields only when measured; a status
// message only when the verdict changes, naming the failure only on a change to down.
import { normalizeSpec } from '../../checks/spec';
import { outcomeMessages, verdictChangeLevel, type PublishedState } from '../../protocol/check-messages';
import { failWith, pass } from '../helpers/fake-ports';

const spec = normalizeSpec('api', { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, policy: { type: 'consecutive', rise: 1, fall: 2 } });
const by = { nodeId: 'n1', epoch: 7, rank: 1 };
const run = { slot: 1_700_000_000_000, startedAt: 1_700_000_000_042, skipped: 0, intervalMs: 10_000 };
const at = '2023-11-14T22:13:20.042Z';
const up = (seq: number): PublishedState => ({ verdict: { status: 'up', history: '11' }, seq, published: 'up' });

test('a result for every outcome: seq + 1, the verdict after it, who probed when, the interval it ran at, the skipped rounds', () => {
  const { next, result, status } = outcomeMessages('api', spec, { ...run, skipped: 2 }, pass(), up(41), by);
  expect(result).toEqual({
    checkId: 'api', ok: true, status: 'up', latencyMs: 5, reason: null, message: null, node: 'n1', at, epoch: 7, seq: 42, vantage: 1,
    kind: 'http', target: 'http://127.0.0.1:1/', slot: run.slot, intervalMs: 10_000, timings: { total: 5 }, history: '111', skipped: 2,
  });
  expect(status).toBeNull(); // still up
  expect(next).toEqual({ verdict: { status: 'up', history: '111' }, seq: 42, published: 'up', degraded: false, flapping: false });
});

test('optional HTTP fields appear only when the probe measured them', () => {
  const { result } = outcomeMessages('api', spec, run, { ...pass(), httpStatus: 204, bodyBytes: 0, truncated: false, redirects: 1 }, up(1), by);
  expect(result).toMatchObject({ httpStatus: 204, bodyBytes: 0, truncated: false, redirects: 1 });
  const bare = outcomeMessages('api', spec, run, pass(), up(1), by).result;
  expect(Object.keys(bare).filter((k) => ['httpStatus', 'bodyBytes', 'truncated', 'redirects'].includes(k))).toEqual([]);
});

test.each([
  // name, state before, outcome → status message (from, to, reason) or none
  ['first verdict of a fresh check', { verdict: { status: 'down', history: '' }, seq: 0, published: 'unknown' }, pass(), ['unknown', 'up', null]],
  ['one failure under fall 2: no change', up(5), failWith('timeout'), null],
  ['the second failure: down, with the probe’s reason', { ...up(5), verdict: { status: 'up', history: '110' } }, failWith('timeout'), ['up', 'down', 'timeout']],
  ['back up: the change names no failure', { verdict: { status: 'down', history: '00' }, seq: 9, published: 'down' }, pass(), ['down', 'up', null]],
] as const)('%s', (_name, before, outcome, want) => {
  const { next, status } = outcomeMessages('api', spec, run, outcome, before as PublishedState, by);
  expect(next.published).toBe(next.verdict.status);
  if (want === null) {
    expect(status).toBeNull();
    return;
  }
  const [from, to, reason] = want;
  expect(status).toEqual({
    checkId: 'api', from, to, at, node: 'n1', epoch: 7, seq: before.seq + 1, vantage: 1,
    reason, message: reason === null ? null : `failed: ${reason}`,
  });
});

test.each([
  // name, state before
  ['an up check', { verdict: { status: 'up', history: '110' }, seq: 5, published: 'up' }],
  ['a down check', { verdict: { status: 'down', history: '00' }, seq: 9, published: 'down' }],
  ['a fresh check before its first verdict', { verdict: { status: 'down', history: '' }, seq: 0, published: 'unknown' }],
] as const)('an inconclusive outcome (the node stalled, protocol/overload.ts) is published with seq + 1 and leaves the verdict as it was: %s', (_name, before) => {
  const o = { ...failWith('inconclusive'), stallMs: 880 };
  const { next, result, status } = outcomeMessages('api', spec, run, o, before as PublishedState, by);
  expect(status).toBeNull();
  expect(result).toMatchObject({ ok: false, reason: 'inconclusive', status: before.verdict.status, history: before.verdict.history, seq: before.seq + 1, stallMs: 880, skipped: 0 });
  expect(next).toEqual({ ...before, seq: before.seq + 1 });
  // The next conclusive outcome continues from the state before it, as if it had not happened.
  const after = outcomeMessages('api', spec, run, failWith('timeout'), next, by);
  expect(after.result.history).toBe(`${before.verdict.history}0`);
});

test.each([
  ['unknown', 'up', 'debug'],
  ['unknown', 'down', 'info'],
  ['unknown', 'degraded', 'info'],
  ['unknown', 'flapping', 'info'],
  ['up', 'down', 'info'],
  ['down', 'up', 'info'],
  ['degraded', 'up', 'info'],
  ['flapping', 'up', 'info'],
] as const)('a verdict change %s → %s is logged at %s', (from, to, level) => {
  expect(verdictChangeLevel(from, to)).toBe(level);
});
