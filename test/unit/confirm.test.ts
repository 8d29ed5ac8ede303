// Confirm from elsewhere (protocol/confirm.ts): when a failure is confirmed, what an answer means,
// whom to ask, the responder's reuse, the wire forms; and through the check runner (fake ports):
// a failure another node saw healthy keeps the verdict and says so on the result; one it saw fail
// goes down with the confirmation on the status message; a check that is down is not confirmed again.
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import { outcomeMessages, type PublishedState } from '../../protocol/check-messages';
import { confirmationOf, ConfirmReuse, keepsVerdict, parseConfirmReply, parseConfirmRequest, pickPeer, wantsConfirmation, type Confirmation } from '../../protocol/confirm';
import { failWith, fakePorts, probeRounds, startRunner, type FakePorts } from '../helpers/fake-ports';

const spec = (extra: Partial<CheckSpec> = {}) => normalizeSpec('api', { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, policy: { type: 'consecutive', rise: 1, fall: 2 }, ...extra });

describe('wantsConfirmation: only a counted failure that would announce down', () => {
  const policy = spec().policy;
  test.each([
    ['up, first failure of fall 2: no change yet', true, { verdict: { status: 'up', history: '11' }, published: 'up' }, false, 'timeout', false],
    ['up, second failure: would go down', true, { verdict: { status: 'up', history: '10' }, published: 'up' }, false, 'timeout', true],
    ['confirm off', false, { verdict: { status: 'up', history: '10' }, published: 'up' }, false, 'timeout', false],
    ['a pass', true, { verdict: { status: 'up', history: '10' }, published: 'up' }, true, null, false],
    ['inconclusive: never counted anyway', true, { verdict: { status: 'up', history: '10' }, published: 'up' }, false, 'inconclusive', false],
    ['already down (announced): not again', true, { verdict: { status: 'down', history: '00' }, published: 'down' }, false, 'refused', false],
    ['a fresh check whose first verdict would be down', true, { verdict: { status: 'up', history: '1' }, published: 'unknown' }, false, 'status', false],
  ] as const)('%s', (_name, confirm, state, ok, reason, want) => {
    expect(wantsConfirmation(confirm, policy, state as never, ok, reason)).toBe(want);
  });
  test('window policy: the failure that takes passes below the threshold', () => {
    const w = spec({ policy: { type: 'window', window: 3, threshold: 2 } }).policy;
    expect(wantsConfirmation(true, w, { verdict: { status: 'up', history: '111' }, published: 'up' }, false, 'status')).toBe(false);
    expect(wantsConfirmation(true, w, { verdict: { status: 'up', history: '101' }, published: 'up' }, false, 'status')).toBe(true);
    // A new check starts down under the default window policy: its first failure announces down.
    expect(wantsConfirmation(true, w, { verdict: { status: 'down', history: '001' }, published: 'unknown' }, false, 'status')).toBe(true);
  });
  test('flap damping: a failure that announces flapping (or keeps it) is not a down to confirm', () => {
    const flap = { low: 20, high: 30 };
    // Up with one failure behind it (fall 2): the next failure turns the policy down, and the
    // history it makes changed 11 times in its last 21 results (≥ 30 %).
    const storm = '1'.repeat(10) + '01010101010';
    expect(wantsConfirmation(true, policy, { verdict: { status: 'up', history: storm }, published: 'up' }, false, 'status')).toBe(true); // no flap: a down
    expect(wantsConfirmation(true, policy, { verdict: { status: 'up', history: storm }, published: 'up' }, false, 'status', flap)).toBe(false); // → flapping
    expect(wantsConfirmation(true, policy, { verdict: { status: 'up', history: storm }, published: 'flapping', flapping: true }, false, 'status', flap)).toBe(false); // stays flapping
    // Flapping that ends with this failure on a down: that is a change to down, confirmed.
    expect(wantsConfirmation(true, policy, { verdict: { status: 'up', history: '10' }, published: 'flapping', flapping: true }, false, 'status', flap)).toBe(true);
    // Steady until now: flapping does not start, the down is confirmed as before.
    expect(wantsConfirmation(true, policy, { verdict: { status: 'up', history: '1'.repeat(20) + '0' }, published: 'up' }, false, 'status', flap)).toBe(true);
  });
});

test.each([
  ['no answer in time', null, { by: 'n2', outcome: 'unconfirmed', why: 'no_answer' }],
  ['refused: busy', { type: 'refused', node: 'n2', why: 'busy' }, { by: 'n2', outcome: 'unconfirmed', why: 'busy' }],
  ['healthy there', { type: 'probed', node: 'n2', ok: true, reason: null, latencyMs: 3 }, { by: 'n2', outcome: 'disagreed', latencyMs: 3 }],
  ['failed there too', { type: 'probed', node: 'n2', ok: false, reason: 'refused', latencyMs: 1 }, { by: 'n2', outcome: 'agreed', latencyMs: 1, reason: 'refused' }],
] as const)('confirmationOf: %s', (_name, reply, want) => {
  const c = confirmationOf('n2', reply as never);
  expect(c).toEqual(want);
  expect(keepsVerdict(c)).toBe(want.outcome === 'disagreed');
});

describe('pickPeer', () => {
  const members = [
    { node: 'n1', state: 'alive' },
    { node: 'n2', state: 'alive' },
    { node: 'n3', state: 'suspect' },
    { node: 'n4', state: 'alive', overloaded: true },
    { node: 'n5', state: 'alive' },
  ];
  test('an alive, not overloaded member other than us; the same one for a check', () => {
    const picked = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const p = pickPeer(`c${i}`, members, 'n1');
      expect(['n2', 'n5']).toContain(p);
      expect(pickPeer(`c${i}`, [...members].reverse(), 'n1')).toBe(p);
      picked.add(p!);
    }
    expect([...picked].sort()).toEqual(['n2', 'n5']); // spread over both
  });
  test('nobody to ask', () => {
    expect(pickPeer('c', [{ node: 'n1', state: 'alive' }], 'n1')).toBeNull();
    expect(pickPeer('c', [{ node: 'n1', state: 'alive' }, { node: 'n2', state: 'dead' }], 'n1')).toBeNull();
  });
});

test('ConfirmReuse: an answer serves asks within half the interval, and the oldest is forgotten past the bound', () => {
  const r = new ConfirmReuse(2);
  const reply = { type: 'probed', node: 'n2', ok: true, reason: null, latencyMs: 1 } as const;
  r.put('a', 1000, reply);
  expect(r.get('a', 1000 + 4999, 10_000)).toBe(reply);
  expect(r.get('a', 1000 + 5000, 10_000)).toBeNull();
  r.put('b', 2000, reply);
  r.put('c', 2000, reply);
  expect(r.size).toBe(2);
  expect(r.get('a', 2000, 10_000)).toBeNull();
  expect(r.get('c', 2000, 10_000)).toBe(reply);
});

test.each([
  ['a request', { checkId: 'api', from: 'n1' }, { checkId: 'api', from: 'n1' }],
  ['no id', { from: 'n1' }, null],
  ['id too long', { checkId: 'x'.repeat(300), from: 'n1' }, null],
  ['not an object', 'api', null],
])('parseConfirmRequest: %s', (_n, raw, want) => expect(parseConfirmRequest(raw)).toEqual(want));

test.each([
  ['probed ok', { type: 'probed', node: 'n2', ok: true, latencyMs: 4 }, { type: 'probed', node: 'n2', ok: true, reason: null, latencyMs: 4 }],
  ['probed, failed, known reason', { type: 'probed', node: 'n2', ok: false, reason: 'reset', latencyMs: 4 }, { type: 'probed', node: 'n2', ok: false, reason: 'reset', latencyMs: 4 }],
  ['unknown reason and bad latency dropped', { type: 'probed', node: 'n2', ok: false, reason: 'toString', latencyMs: -1 }, { type: 'probed', node: 'n2', ok: false, reason: null, latencyMs: 0 }],
  ['from another node than asked', { type: 'probed', node: 'n3', ok: true }, null],
  ['refused for a known why', { type: 'refused', node: 'n2', why: 'busy' }, { type: 'refused', node: 'n2', why: 'busy' }],
  ['refused for an unknown why', { type: 'refused', node: 'n2', why: 'tired' }, null],
  ['ok not boolean', { type: 'probed', node: 'n2', ok: 'yes' }, null],
])('parseConfirmReply: %s', (_n, raw, want) => expect(parseConfirmReply(raw, 'n2')).toEqual(want));

describe('outcomeMessages with a confirmation', () => {
  const by = { nodeId: 'n1', epoch: 3, rank: 0 };
  const run = { slot: 1_700_000_000_000, startedAt: 1_700_000_000_010, skipped: 0, intervalMs: 10_000 };
  const state: PublishedState = { verdict: { status: 'up', history: '10' }, seq: 4, published: 'up' };
  test('disagreed: the failure is published, the verdict and its history stay, no status', () => {
    const c: Confirmation = { by: 'n2', outcome: 'disagreed', latencyMs: 2 };
    const { next, result, status } = outcomeMessages('api', spec(), run, failWith('timeout'), state, by, c);
    expect(result).toMatchObject({ ok: false, reason: 'timeout', status: 'up', history: '10', seq: 5, confirmation: c });
    expect(status).toBeNull();
    expect(next).toEqual({ ...state, seq: 5 });
  });
  test('agreed: down, the confirmation on the result and on the status', () => {
    const c: Confirmation = { by: 'n2', outcome: 'agreed', reason: 'timeout', latencyMs: 1000 };
    const { result, status } = outcomeMessages('api', spec(), run, failWith('timeout'), state, by, c);
    expect(result).toMatchObject({ status: 'down', confirmation: c });
    expect(status).toMatchObject({ from: 'up', to: 'down', reason: 'timeout', confirmation: c });
  });
});

describe('through the check runner', () => {
  function start(f: FakePorts, answer: (id: string) => Confirmation) {
    const asked: string[] = [];
    f.ports.confirm = async (s) => {
      asked.push(s.id);
      return answer(s.id);
    };
    startRunner(f, [spec()]);
    return asked;
  }
  const results = (f: FakePorts) => f.published.filter((p) => p.subject.startsWith('lookout.result.')).map((p) => p.msg);
  const statuses = (f: FakePorts) => f.published.filter((p) => p.subject.startsWith('lookout.status.')).map((p) => p.msg);
  const probes = (f: FakePorts, outcomes: ('ok' | 'fail')[]) => probeRounds(f, 10_000, outcomes, 'timeout');

  test('healthy elsewhere: every failure that would go down is confirmed, none flips the verdict', async () => {
    const f = fakePorts();
    const asked = start(f, () => ({ by: 'n2', outcome: 'disagreed', latencyMs: 1 }));
    await probes(f, ['ok', 'fail', 'fail', 'fail', 'fail']);
    expect(statuses(f).map((s) => s.to)).toEqual(['up']);
    // fall 2: the first failure does not ask; each later one would go down, and asks.
    expect(asked).toEqual(['api', 'api', 'api']);
    expect(results(f).map((r) => [r.seq, r.ok, r.status, r.confirmation?.outcome ?? null])).toEqual([
      [1, true, 'up', null],
      [2, false, 'up', null],
      [3, false, 'up', 'disagreed'],
      [4, false, 'up', 'disagreed'],
      [5, false, 'up', 'disagreed'],
    ]);
    expect(await f.ports.metrics.confirmations.get()).toMatchObject({ values: [{ labels: { peer: 'n2', outcome: 'disagreed' }, value: 3 }] });
  });

  test('a real outage: one confirmation, then down; no more asks while down; asked again after it came back', async () => {
    const f = fakePorts();
    const asked = start(f, () => ({ by: 'n2', outcome: 'agreed', reason: 'timeout', latencyMs: 1000 }));
    await probes(f, ['ok', 'fail', 'fail', 'fail', 'fail', 'ok', 'fail', 'fail']);
    expect(asked).toHaveLength(2);
    expect(statuses(f).map((s) => [s.to, s.confirmation?.outcome ?? null])).toEqual([
      ['up', null],
      ['down', 'agreed'],
      ['up', null],
      ['down', 'agreed'],
    ]);
  });

  test('no confirm port (nobody to ask): the failure counts, said on the result', async () => {
    const f = fakePorts();
    startRunner(f, [spec()]);
    await probes(f, ['ok', 'fail', 'fail']);
    expect(statuses(f).map((s) => s.to)).toEqual(['up', 'down']);
    expect(results(f).at(-1)!.confirmation).toEqual({ by: null, outcome: 'unconfirmed', why: 'no_peer' });
  });

  test('confirm: false never asks', async () => {
    const f = fakePorts();
    const asked: string[] = [];
    f.ports.confirm = async (s) => (asked.push(s.id), { by: 'n2', outcome: 'disagreed' });
    startRunner(f, [spec({ confirm: false })]);
    await probes(f, ['ok', 'fail', 'fail']);
    expect(asked).toEqual([]);
    expect(statuses(f).map((s) => s.to)).toEqual(['up', 'down']);
  });
});
