// The quarantine guard's I/O (runtime/quarantine-guard.ts) behind its ports, on a manual clock:
// once quarantined, a node's shards move away and it no longer holds their specs (app/node-specs.ts),
// yet it must keep probing the checks that disagreed last (its witnesses) to find out when its
// network is healthy again. The guard keeps a witness's spec from when it disagreed.
import pino from 'pino';
import { normalizeSpec, type NormalizedSpec } from '../../checks/spec';
import type { ProbeOutcome } from '../../checks/outcome';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { startQuarantineGuard } from '../../runtime/quarantine-guard';
import { subjects } from '../../runtime/subjects';
import { FakeHub } from '../helpers/fake-bus';

const INTERVAL = 1000;
const spec = (id: string): NormalizedSpec => normalizeSpec(id, { kind: 'http', target: `http://127.0.0.1:1/${id}`, intervalMs: 1000, timeoutMs: 500 });
const failed = { ok: false, reason: 'timeout', message: 'x', latencyMs: 500, timings: { total: 500 } } as unknown as ProbeOutcome;
const passed = { ok: true, reason: null, latencyMs: 1, timings: { total: 1 } } as unknown as ProbeOutcome;

type Seen = { state: { history: string }; storedAt: number } | null;

function guard(held: Map<string, NormalizedSpec>, vantageRecord?: (id: string, rank: number) => Promise<Seen>) {
  const clock = new ManualClock();
  const probed: string[] = [];
  let healthy = false;
  const g = startQuarantineGuard({
    bus: new FakeHub().connect('n1'),
    subjects: subjects(),
    clock,
    cfg: { rate: 0.8, window: 10, minDisagreements: 3, minSubjects: 2, holdMs: 5000, minHealthy: 2 },
    canaries: [],
    canaryIntervalMs: INTERVAL,
    probe: async (s) => {
      probed.push(s.id);
      return healthy ? passed : failed;
    },
    confirm: async () => ({ by: 'n2', outcome: 'disagreed' }),
    specOf: (id) => held.get(id),
    ...(vantageRecord ? { vantageRecord } : {}),
    refused: () => false,
    nodeId: 'n1',
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
  });
  return { g, clock, probed, heal: () => (healthy = true) };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

test('a quarantined node keeps probing the checks that disagreed last after their shards moved away, and leaves once they pass', async () => {
  const held = new Map(['a', 'b', 'c'].map((id) => [id, spec(id)]));
  const w = guard(held);
  for (const id of ['a', 'b', 'c', 'a']) w.g.observe(id, false, 'timeout' as any, { by: 'n2', outcome: 'disagreed' });
  expect(w.g.quarantined()).toBe(true);

  held.clear(); // the leader moved this node's shards away: it holds no spec any more
  w.clock.advance(INTERVAL);
  await settle();
  expect(new Set(w.probed)).toEqual(new Set(['a', 'b', 'c']));
  expect(w.g.quarantined()).toBe(true);

  w.heal();
  for (let i = 0; i < 10 && w.g.quarantined(); i++) {
    w.clock.advance(INTERVAL);
    await settle();
  }
  expect(w.g.quarantined()).toBe(false);
  w.g.stop();
});

test('a check that passed or was never held leaves no witness spec behind', async () => {
  const held = new Map([['a', spec('a')]]);
  const w = guard(held);
  w.g.observe('a', true, null);
  for (const id of ['x', 'y', 'z', 'v']) w.g.observe(id, false, 'timeout' as any, { by: 'n2', outcome: 'disagreed' }); // never held here
  expect(w.g.quarantined()).toBe(true);
  w.clock.advance(INTERVAL);
  await settle();
  expect(w.probed).toEqual([]);
  w.g.stop();
});

describe('a check with replicas > 1: a failure is weighed against its other vantages\' last results', () => {
  const T = 1_700_000_000_000;
  // Rank 1 is this node's; ranks 0 and 2 are other nodes'.
  const records = (others: Seen) => async (_id: string, rank: number): Promise<Seen> => (rank === 1 ? { state: { history: '110' }, storedAt: T } : others);
  const vantage = { rank: 1, replicas: 3, intervalMs: 1000 };

  test.each([
    ['the other vantages passed: disagreements, quarantined', { state: { history: '111' }, storedAt: T - 500 }, true],
    ['the other vantages failed too: the targets are down, not quarantined', { state: { history: '110' }, storedAt: T - 500 }, false],
    ['the other vantages passed long ago (stale): no evidence', { state: { history: '111' }, storedAt: T - 5000 }, false],
    ['no record of the other vantages: no evidence', null, false],
  ] as const)('%s', async (_name, others, quarantined) => {
    const w = guard(new Map(), records(others));
    for (const id of ['a', 'b', 'c', 'a']) {
      w.g.observe(id, false, 'timeout' as any, undefined, vantage);
      await settle();
    }
    expect(w.g.quarantined()).toBe(quarantined);
    w.g.stop();
  });

  test('a replicas 1 failure without a confirmation, or an inconclusive one, asks no vantage', async () => {
    const asked: string[] = [];
    const w = guard(new Map(), async (id) => (asked.push(id), null));
    w.g.observe('a', false, 'timeout' as any);
    w.g.observe('b', false, 'inconclusive' as any, undefined, vantage);
    w.g.observe('c', true, null, undefined, vantage);
    await settle();
    expect(asked).toEqual([]);
    w.g.stop();
  });
});
