// protocol/quorum.ts and protocol/quorum-table.ts: the combined verdict of a check with replicas > 1.

import { normalizeSpec } from '../../checks/spec';
import { combine, isNewer, parseVantageResult, quorumNeed, type VantageResult, type VantageStatus } from '../../protocol/quorum';
import { decodeQuorumRecord, parseQuorumRecord } from '../../protocol/quorum-record';
import { QuorumTable } from '../../protocol/quorum-table';
import { parseRelease } from '../../protocol/handover-wire';

const I = 1000; // interval
const v = (vantage: number, status: 'up' | 'down' | 'degraded', receivedAt = 0, seq = 1, epoch = 1): VantageResult => ({
  vantage, node: `n${vantage}`, status: status === 'degraded' ? 'up' : status, degraded: status === 'degraded', seq, epoch, reason: status === 'down' ? 'status' : null, message: null, receivedAt,
});

describe('quorumNeed', () => {
  test.each([
    [1, undefined, 1], [2, undefined, 2], [3, undefined, 2], [4, undefined, 3], [5, undefined, 3],
    [3, { type: 'atLeast', up: 1 }, 1], [3, { type: 'atLeast', up: 3 }, 3], [3, { type: 'atLeast', up: 5 }, 3],
    [3, { type: 'fraction', up: 0.5 }, 2], [4, { type: 'fraction', up: 0.5 }, 2], [5, { type: 'fraction', up: 0.6 }, 3],
    [5, { type: 'fraction', up: 0.01 }, 1], [5, { type: 'fraction', up: 1 }, 5],
  ] as const)('replicas %i, %j → %i', (replicas, q, need) => expect(quorumNeed(replicas, q as never)).toBe(need));
});

describe('combine (replicas 3, majority: need 2)', () => {
  const at = (latest: (VantageResult | undefined)[], previous: VantageStatus = 'unknown', now = 0) =>
    combine({ replicas: 3, quorum: undefined, intervalMs: I, latest, now, previous });
  test.each([
    ['all up', [v(0, 'up'), v(1, 'up'), v(2, 'up')], 'unknown', 'up', true, [3, 0, 0]],
    ['one down', [v(0, 'up'), v(1, 'down'), v(2, 'up')], 'unknown', 'up', true, [2, 1, 0]],
    ['two down', [v(0, 'up'), v(1, 'down'), v(2, 'down')], 'up', 'down', true, [1, 2, 0]],
    ['one missing, two up', [v(0, 'up'), undefined, v(2, 'up')], 'unknown', 'up', true, [2, 0, 1]],
    ['one missing, one up, one down: held up', [v(0, 'up'), undefined, v(2, 'down')], 'up', 'up', false, [1, 1, 1]],
    ['one missing, one up, one down: held down', [v(0, 'up'), undefined, v(2, 'down')], 'down', 'down', false, [1, 1, 1]],
    ['one missing, two down', [v(0, 'down'), undefined, v(2, 'down')], 'up', 'down', true, [0, 2, 1]],
    ['all missing', [], 'up', 'up', false, [0, 0, 3]],
    ['nothing yet', [], 'unknown', 'unknown', false, [0, 0, 3]],
  ] as const)('%s', (_name, latest, previous, verdict, formed, [up, down, unknown]) => {
    const c = at([...latest], previous);
    expect(c.verdict).toBe(verdict);
    expect(c.counts).toMatchObject({ need: 2, replicas: 3, up, down, unknown, formed, type: 'majority' });
  });

  test.each([
    // name, vantages → combined verdict, up (degraded included), degraded
    ['one degraded, two up: the quorum holds without it', [v(0, 'degraded'), v(1, 'up'), v(2, 'up')], 'up', 3, 1],
    ['two degraded, one up: the quorum holds only with degraded vantages', [v(0, 'degraded'), v(1, 'up'), v(2, 'degraded')], 'degraded', 3, 2],
    ['one degraded, one up, one down: up needs the degraded one', [v(0, 'degraded'), v(1, 'up'), v(2, 'down')], 'degraded', 2, 1],
    ['one degraded, two down: down', [v(0, 'degraded'), v(1, 'down'), v(2, 'down')], 'down', 1, 1],
  ] as const)('degraded vantages count toward up: %s', (_name, latest, verdict, up, degraded) => {
    const c = at([...latest], 'up');
    expect([c.verdict, c.counts.up, c.counts.degraded]).toEqual([verdict, up, degraded]);
    expect(c.vantages.map((x) => x.status)).toEqual(latest.map((x) => (x.degraded ? 'degraded' : x.status)));
  });

  test('a heard result is degraded only with `degraded: true` and status up; an older node\'s result (no flag) is up', () => {
    const base = { checkId: 'api', vantage: 1, node: 'n1', seq: 3, epoch: 1, reason: null, message: null };
    expect(parseVantageResult({ ...base, status: 'up', degraded: true }, 'api', 0)?.degraded).toBe(true);
    expect(parseVantageResult({ ...base, status: 'up' }, 'api', 0)?.degraded).toBe(false);
    expect(parseVantageResult({ ...base, status: 'down', degraded: true }, 'api', 0)?.degraded).toBe(false);
    expect(parseQuorumRecord({ status: 'degraded', seq: 4, formed: true })).toEqual({ status: 'degraded', seq: 4, formed: true });
    expect(parseQuorumRecord({ status: 'flapping', seq: 4, formed: true })).toBeNull();
  });

  test('a result older than two intervals (by the receive clock) is unknown, never down', () => {
    const latest = [v(0, 'up', 5000), v(1, 'down', 5000 - 2 * I - 1), v(2, 'down', 5000 - 2 * I)];
    const c = at(latest, 'up', 5000);
    expect(c.vantages.map((s) => s.status)).toEqual(['up', 'unknown', 'down']);
    expect(c.verdict).toBe('up'); // held: 1 up, 1 down, 1 unknown
    expect(c.counts.formed).toBe(false);
    expect(c.vantages[1]).toEqual({ vantage: 1, node: 'n1', status: 'unknown', seq: 1, epoch: 1 });
  });

  test('ranks at or past replicas are ignored; the cause of a change to down is the down vantage heard last', () => {
    const c = at([v(0, 'down', 10), v(1, 'down', 20), v(2, 'up'), v(3, 'up')], 'up', 20);
    expect(c.verdict).toBe('down');
    expect(c.vantages).toHaveLength(3);
    expect(c.cause?.vantage).toBe(1);
  });

  test('atLeast 1: one up vantage is enough; all three down goes down', () => {
    const one = { type: 'atLeast', up: 1 } as const;
    expect(combine({ replicas: 3, quorum: one, intervalMs: I, latest: [v(0, 'down'), v(1, 'down'), v(2, 'up')], now: 0, previous: 'up' }).verdict).toBe('up');
    expect(combine({ replicas: 3, quorum: one, intervalMs: I, latest: [v(0, 'down'), v(1, 'down'), undefined], now: 0, previous: 'up' }).counts.formed).toBe(false);
    expect(combine({ replicas: 3, quorum: one, intervalMs: I, latest: [v(0, 'down'), v(1, 'down'), v(2, 'down')], now: 0, previous: 'up' }).verdict).toBe('down');
  });
});

test('isNewer orders by (epoch, seq)', () => {
  expect(isNewer({ epoch: 2, seq: 1 }, { epoch: 1, seq: 9 })).toBe(true);
  expect(isNewer({ epoch: 1, seq: 9 }, { epoch: 2, seq: 1 })).toBe(false);
  expect(isNewer({ epoch: 1, seq: 2 }, { epoch: 1, seq: 2 })).toBe(false);
  expect(isNewer({ epoch: 1, seq: 2 }, undefined)).toBe(true);
});

describe('hostile input', () => {
  const ok = { checkId: 'a', vantage: 1, node: 'n2', status: 'down', seq: 4, epoch: 3, reason: 'refused', message: 'x'.repeat(5000) };
  test('a result parses bounded', () => {
    const r = parseVantageResult(ok, 'a', 7)!;
    expect(r).toMatchObject({ vantage: 1, node: 'n2', status: 'down', seq: 4, epoch: 3, reason: 'refused', receivedAt: 7 });
    expect(r.message).toHaveLength(1024);
  });
  test.each([
    ['another check', { ...ok, checkId: 'b' }], ['no vantage', { ...ok, vantage: undefined }], ['huge vantage', { ...ok, vantage: 1e6 }],
    ['bad status', { ...ok, status: 'unknown' }], ['negative seq', { ...ok, seq: -1 }], ['fraction epoch', { ...ok, epoch: 1.5 }],
    ['long node', { ...ok, node: 'n'.repeat(200) }], ['odd reason', { ...ok, reason: 'DROP TABLE' }], ['array', [ok]], ['null', null],
  ])('refused: %s', (_n, raw) => expect(parseVantageResult(raw, 'a', 0)).toBeNull());

  test('a quorum record parses, bounded, in a release and from the stream', () => {
    expect(parseQuorumRecord({ status: 'up', seq: 3, formed: true })).toEqual({ status: 'up', seq: 3, formed: true });
    for (const bad of [{ status: 'unknown', seq: 3, formed: true }, { status: 'up', seq: -1, formed: true }, { status: 'up', seq: 1 }, 'up']) expect(parseQuorumRecord(bad)).toBeNull();
    expect(decodeQuorumRecord(new TextEncoder().encode('{"status":"down","seq":2,"formed":false}'))).toEqual({ status: 'down', seq: 2, formed: false });
    expect(decodeQuorumRecord(new Uint8Array(2000))).toBeNull();
    expect(decodeQuorumRecord(new Uint8Array([0xff, 0xfe]))).toBeNull();
    const rc = { id: 'a', seq: 1, status: 'up', history: '1', slot: 0, dueInMs: 5 };
    const rel = (quorum: unknown) => parseRelease({ shard: 1, rank: 0, node: 'n1', instance: 'i', gen: 1, epoch: 2, checks: [{ ...rc, quorum }] }, { shard: 1, rank: 0 });
    expect(rel({ status: 'up', seq: 4, formed: true })).toMatchObject({ checks: [{ quorum: { status: 'up', seq: 4, formed: true } }] });
    expect(rel(undefined)).toMatchObject({ checks: [{ id: 'a' }] });
    expect(rel({ status: 'maybe' })).toBe('a check is malformed');
  });
});

describe('QuorumTable', () => {
  const spec = (replicas = 3, extra: object = {}) => normalizeSpec('a', { kind: 'tcp', target: 'h:1', intervalMs: I, timeoutMs: 500, replicas, ...extra } as never);
  const res = (vantage: number, status: 'up' | 'down', seq = 1, epoch = 1) => ({ checkId: 'a', vantage, node: `n${vantage}`, status, seq, epoch, reason: status === 'down' ? 'refused' : null, message: null });
  const at = (now: number, epoch = 5) => ({ now, wall: 1_700_000_000_000 + now, epoch });
  const statuses = (ds: ReturnType<QuorumTable['heard']>) => ds.flatMap((d) => (d.type === 'quorumStatus' ? [d] : []));

  test('a fresh check listens and looks its record up; announces unknown → up once a quorum is formed', () => {
    const t = new QuorumTable('n0');
    expect(t.set(spec(), 0)).toEqual([{ type: 'listen', id: 'a' }, { type: 'lookupQuorum', id: 'a' }]);
    expect(t.heard('a', res(0, 'up'), at(1))).toEqual([{ type: 'quorumIgnored', id: 'a', why: 'restoring' }]);
    expect(t.restored('a', null, at(2))).toEqual([]); // one vantage up, need 2: nothing formed yet
    const [s] = statuses(t.heard('a', res(1, 'up'), at(3)));
    expect(s!.msg).toMatchObject({ checkId: 'a', from: 'unknown', to: 'up', node: 'n0', epoch: 5, seq: 1, reason: null, quorum: { need: 2, up: 2, down: 0, unknown: 1, formed: true } });
    expect(s!.msg.vantages).toEqual([
      { vantage: 0, node: 'n0', status: 'up', seq: 1, epoch: 1 },
      { vantage: 1, node: 'n1', status: 'up', seq: 1, epoch: 1 },
      { vantage: 2, node: null, status: 'unknown', seq: null, epoch: null },
    ]);
    expect(s!.record).toEqual({ status: 'up', seq: 1, formed: true });
    expect(statuses(t.heard('a', res(2, 'up'), at(4)))).toEqual([]);
  });

  test('a target down for one vantage stays up; down for all goes down once, with the reason', () => {
    const t = new QuorumTable('n0');
    t.set(spec(), 0);
    t.restored('a', { status: 'up', seq: 7, formed: true }, at(0));
    expect(statuses(t.heard('a', res(0, 'up'), at(1)))).toEqual([]);
    expect(statuses(t.heard('a', res(1, 'up'), at(1)))).toEqual([]);
    expect(statuses(t.heard('a', res(2, 'down'), at(2)))).toEqual([]);
    expect(statuses(t.heard('a', res(1, 'down', 2), at(3)))[0]!.msg).toMatchObject({ from: 'up', to: 'down', seq: 8, reason: 'refused' });
    expect(statuses(t.heard('a', res(0, 'down', 2), at(4)))).toEqual([]);
  });

  test('with a panic group label, the combined status names the check’s group (panic-groups.ts)', () => {
    const t = new QuorumTable('n0', 'region');
    t.set(spec(3, { labels: { region: 'eu' } }), 0);
    t.restored('a', { status: 'up', seq: 7, formed: true }, at(0));
    t.heard('a', res(0, 'down'), at(1));
    expect(statuses(t.heard('a', res(1, 'down'), at(2)))[0]!.msg).toMatchObject({ to: 'down', group: 'eu' });
    const bare = new QuorumTable('n0', 'region');
    bare.set(spec(), 0);
    bare.restored('a', { status: 'up', seq: 7, formed: true }, at(0));
    bare.heard('a', res(0, 'down'), at(1));
    expect('group' in statuses(bare.heard('a', res(1, 'down'), at(2)))[0]!.msg).toBe(false);
  });

  test('an older or repeated result is ignored (epoch, seq)', () => {
    const t = new QuorumTable('n0');
    t.set(spec(), 0);
    t.heard('a', res(1, 'up', 5, 2), at(0));
    expect(t.heard('a', res(1, 'down', 9, 1), at(1))).toEqual([{ type: 'quorumIgnored', id: 'a', why: 'notNewer' }]);
    expect(t.heard('a', res(1, 'down', 5, 2), at(1))).toEqual([{ type: 'quorumIgnored', id: 'a', why: 'notNewer' }]);
    expect(t.heard('b', res(1, 'down'), at(1))).toEqual([{ type: 'quorumIgnored', id: 'b', why: 'notCombined' }]);
    expect(t.heard('a', { junk: true }, at(1))).toEqual([{ type: 'quorumIgnored', id: 'a', why: 'malformed' }]);
  });

  test('a node moved to another rank counts once; its late result under the old rank is ignored', () => {
    const t = new QuorumTable('n0');
    t.set(spec(), 0);
    t.restored('a', { status: 'up', seq: 1, formed: true }, at(0));
    t.heard('a', res(0, 'up'), at(0));
    t.heard('a', res(1, 'up'), at(0));
    t.heard('a', res(2, 'down', 1, 1), at(0));
    // n1 dies; n2 (down) moves from rank 2 to rank 1 in epoch 2: counted once — 1 up / 1 down / 1 unknown, held, not down.
    // (Counted twice, n2 would make two downs within two intervals: a false `up → down`.)
    expect(statuses(t.heard('a', { ...res(1, 'down', 2, 2), node: 'n2' }, at(I)))).toEqual([]);
    expect(t.heard('a', res(2, 'down', 2, 1), at(I))).toEqual([{ type: 'quorumIgnored', id: 'a', why: 'notNewer' }]);
    // Once the quorum has had time to form, it is called held — still up.
    const [held] = statuses(t.heard('a', res(0, 'up', 2, 2), at(2 * I + 1)));
    expect(held!.msg).toMatchObject({ from: 'up', to: 'up', quorum: { up: 1, down: 1, unknown: 1, formed: false } });
  });

  test('a silent vantage becomes unknown on a due slot: the quorum is held, said once, and formed again', () => {
    const t = new QuorumTable('n0');
    t.set(spec(), 0);
    t.restored('a', null, at(0));
    t.heard('a', res(0, 'up'), at(0));
    t.heard('a', res(1, 'up'), at(0));
    t.heard('a', res(2, 'down'), at(0));
    // Vantage 1 goes silent; 0 keeps reporting up.
    expect(statuses(t.heard('a', res(0, 'up', 2), at(2 * I)))).toEqual([]);
    t.heard('a', res(2, 'down', 2), at(2 * I));
    const [held] = statuses(t.evaluate('a', at(2 * I + 1)));
    expect(held!.msg).toMatchObject({ from: 'up', to: 'up', seq: 2, quorum: { up: 1, down: 1, unknown: 1, formed: false } });
    expect(held!.record).toEqual({ status: 'up', seq: 2, formed: false });
    expect(statuses(t.evaluate('a', at(2 * I + 2)))).toEqual([]);
    const [formed] = statuses(t.heard('a', res(1, 'up', 2), at(2 * I + 3)));
    expect(formed!.msg).toMatchObject({ from: 'up', to: 'up', seq: 3, quorum: { formed: true } });
  });

  test('a new primary with a restored verdict does not call the quorum lost before the vantages could report', () => {
    const t = new QuorumTable('n0');
    expect(t.setReleased(spec(), { status: 'up', seq: 4, formed: true }, 1000)).toEqual([{ type: 'listen', id: 'a' }]);
    expect(statuses(t.evaluate('a', at(1000 + I)))).toEqual([]);
    expect(statuses(t.heard('a', res(0, 'up', 3), at(1000 + I)))).toEqual([]);
    expect(statuses(t.heard('a', res(1, 'up', 3), at(1000 + I)))).toEqual([]); // no second unknown → up
    expect(t.release()).toEqual(new Map([['a', { status: 'up', seq: 4, formed: true }]]));
  });

  test('replicas 1 is not combined; lowering replicas stops listening; clear unlistens all', () => {
    const t = new QuorumTable('n0');
    expect(t.set(spec(1), 0)).toEqual([]);
    expect(t.setReleased(spec(1), undefined, 0)).toEqual([]);
    t.set(spec(3), 0);
    expect(t.set(spec(1), 0)).toEqual([{ type: 'unlisten', id: 'a' }]);
    t.set(spec(2, { quorum: { type: 'atLeast', up: 1 } }), 0);
    expect(t.clear()).toEqual([{ type: 'unlisten', id: 'a' }]);
    expect(t.size).toBe(0);
  });

  test("a provisional taker's combined verdict is adopted when it got further", () => {
    const t = new QuorumTable('n0');
    t.set(spec(), 0);
    t.restored('a', { status: 'up', seq: 3, formed: true }, at(0));
    expect(t.adopt('a', { status: 'up', seq: 2, formed: true })).toBe(false);
    expect(t.adopt('a', { status: 'down', seq: 5, formed: true })).toBe(true);
    expect(t.adopt('b', { status: 'down', seq: 5, formed: true })).toBe(false);
    t.heard('a', res(0, 'up'), at(1));
    expect(statuses(t.heard('a', res(1, 'up'), at(1)))[0]!.msg).toMatchObject({ from: 'down', to: 'up', seq: 6 });
  });

  test('a stored record older than what the table announced is ignored', () => {
    const t = new QuorumTable('n0');
    t.set(spec(2, { quorum: { type: 'atLeast', up: 1 } }), 0);
    t.restored('a', { status: 'down', seq: 9, formed: true }, at(0));
    expect(statuses(t.heard('a', res(0, 'up'), at(1)))[0]!.msg).toMatchObject({ from: 'down', to: 'up', seq: 10 });
    expect(t.restored('a', { status: 'down', seq: 20, formed: true }, at(2))).toEqual([]);
  });
});
