// Per-check metrics (runtime/check-gauges.ts): a row per check while its runner schedules it,
// filled from the results and verdict changes the runner publishes, rendered as a Prometheus text
// exposition that promtool (the Prometheus project's linter) accepts.
import { spawnSync } from 'node:child_process';
import type { ResultMessage } from '../../protocol/records';
import { CheckGauges } from '../../runtime/check-gauges';

const result = (checkId: string, ok: boolean, status: 'up' | 'down', extra: Partial<ResultMessage> = {}) => ({ checkId, ok, status, latencyMs: 12.5, reason: ok ? null : 'status', ...extra }) as ResultMessage;

function promtool(text: string): { status: number | null; out: string } {
  const p = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (p.error) throw new Error(`promtool is needed for this test (Debian package "prometheus"): ${p.error.message}`);
  return { status: p.status, out: `${p.stdout}${p.stderr}`.trim() };
}

const series = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

test('a scheduled check gets a row; results and changes fill it; promtool accepts the exposition', () => {
  const g = new CheckGauges();
  g.scheduled(1, 'b-api', 0);
  g.scheduled(1, 'a-db', 1);
  g.result(1, result('b-api', false, 'down'));
  g.status(1, { checkId: 'b-api', to: 'down', at: '2027-01-15T08:00:00.000Z' });
  g.result(1, result('a-db', true, 'up', { latencyMs: 3, intervalMs: 2000 }));
  const text = g.render();
  expect(series(text)).toEqual([
    'lookout_check_up{check="a-db",vantage="1"} 1',
    'lookout_check_up{check="b-api",vantage="0"} 0',
    'lookout_check_degraded{check="a-db",vantage="1"} 0',
    'lookout_check_degraded{check="b-api",vantage="0"} 0',
    'lookout_check_flapping{check="a-db",vantage="1"} 0',
    'lookout_check_flapping{check="b-api",vantage="0"} 0',
    'lookout_check_probe_success{check="a-db",vantage="1"} 1',
    'lookout_check_probe_success{check="b-api",vantage="0"} 0',
    'lookout_check_probe_duration_seconds{check="a-db",vantage="1"} 0.003',
    'lookout_check_probe_duration_seconds{check="b-api",vantage="0"} 0.0125',
    'lookout_check_interval_seconds{check="a-db",vantage="1"} 2',
    `lookout_check_last_transition_timestamp_seconds{check="b-api",vantage="0"} ${Date.parse('2027-01-15T08:00:00.000Z') / 1000}`,
  ]);
  expect(promtool(text)).toEqual({ status: 0, out: '' });
});

test('an inconclusive result keeps the last conclusive probe; a verdict not known yet has no up series', () => {
  const g = new CheckGauges();
  g.scheduled(1, 'c', 0);
  expect(series(g.render())).toEqual([]);
  g.result(1, result('c', true, 'up'));
  g.result(1, result('c', false, 'up', { reason: 'inconclusive', latencyMs: 900 }));
  expect(series(g.render())).toEqual([
    'lookout_check_up{check="c",vantage="0"} 1',
    'lookout_check_degraded{check="c",vantage="0"} 0',
    'lookout_check_flapping{check="c",vantage="0"} 0',
    'lookout_check_probe_success{check="c",vantage="0"} 1',
    'lookout_check_probe_duration_seconds{check="c",vantage="0"} 0.0125',
  ]);
});

test('degraded and flapping: from the results\' flags and the published changes; a degraded check is up', () => {
  const g = new CheckGauges();
  g.scheduled(1, 'd', 0);
  const line = (name: string) => series(g.render()).find((l) => l.startsWith(`${name}{`));
  g.result(1, result('d', true, 'up', { degraded: true }));
  g.status(1, { checkId: 'd', to: 'degraded', at: '2027-01-15T08:00:00.000Z' });
  expect([line('lookout_check_up'), line('lookout_check_degraded'), line('lookout_check_flapping')]).toEqual([
    'lookout_check_up{check="d",vantage="0"} 1', 'lookout_check_degraded{check="d",vantage="0"} 1', 'lookout_check_flapping{check="d",vantage="0"} 0',
  ]);
  g.status(1, { checkId: 'd', to: 'flapping', at: '2027-01-15T08:01:00.000Z' });
  expect([line('lookout_check_up'), line('lookout_check_degraded'), line('lookout_check_flapping')]).toEqual([
    'lookout_check_up{check="d",vantage="0"} 1', 'lookout_check_degraded{check="d",vantage="0"} 0', 'lookout_check_flapping{check="d",vantage="0"} 1',
  ]);
  g.result(1, result('d', false, 'down', { flapping: true }));
  expect([line('lookout_check_up'), line('lookout_check_flapping')]).toEqual(['lookout_check_up{check="d",vantage="0"} 0', 'lookout_check_flapping{check="d",vantage="0"} 1']);
  expect(promtool(g.render())).toEqual({ status: 0, out: '' });
});

test('unscheduled (moved away, deleted, runner stopped): the row goes, and a probe finishing late does not bring it back', () => {
  const g = new CheckGauges();
  g.scheduled(1, 'c', 0);
  g.result(1, result('c', true, 'up'));
  g.unscheduled(1, 'c');
  g.result(1, result('c', true, 'up'));
  expect(g.size).toBe(0);
  // A later runner of the check on this node owns its row; the old runner cannot remove it.
  g.scheduled(2, 'c', 0);
  g.unscheduled(1, 'c');
  g.result(2, result('c', false, 'down'));
  expect(series(g.render())[0]).toBe('lookout_check_up{check="c",vantage="0"} 0');
});
