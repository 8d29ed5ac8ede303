// `lookout watch` rows of status messages: a combined verdict (replicas > 1) shows its quorum counts where a vantage would be.
import { WatchTable } from '../../cli/format';

const base = { checkId: 'api', from: 'up', to: 'down', at: '2026-11-27T14:58:01.002Z', node: 'n1', epoch: 7, seq: 3, reason: 'status', message: 'm' } as const;

test('a per-vantage status shows its vantage; a combined one its quorum counts, and "held" when not formed', () => {
  const t = new WatchTable();
  expect(t.row({ kind: 'status', msg: { ...base, vantage: 2 } })).toContain(' 2 ');
  const quorum = { type: 'majority', replicas: 3, need: 2, up: 1, degraded: 0, down: 2, unknown: 0, formed: true } as const;
  expect(t.row({ kind: 'status', msg: { ...base, quorum, vantages: [] } })).toContain('q 1/3 up');
  expect(t.row({ kind: 'status', msg: { ...base, to: 'up', quorum: { ...quorum, formed: false }, vantages: [] } })).toContain('q 1/3 up held');
});

test('a result shows the published verdict: its status with the degraded / flapping flags', () => {
  const t = new WatchTable();
  const r = { checkId: 'api', ok: true, status: 'up', latencyMs: 612, reason: null, message: null, node: 'n1', at: '2026-11-27T14:58:01.002Z', epoch: 7, seq: 3, vantage: 0 } as never;
  expect(t.row({ kind: 'result', msg: r })).toContain('ok up');
  expect(t.row({ kind: 'result', msg: { ...(r as object), degraded: true } as never })).toContain('ok degraded');
  expect(t.row({ kind: 'result', msg: { ...(r as object), ok: false, status: 'down', flapping: true } as never })).toContain('FAIL flapping');
  expect(t.row({ kind: 'status', msg: { ...base, from: 'up', to: 'degraded', vantage: 0 } })).toContain('up→degraded');
});
