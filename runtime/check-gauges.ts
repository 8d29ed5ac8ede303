// Per-check metrics, opt-in (LOOKOUT_CHECK_METRICS=on), on their own path (/metrics/checks) so the
// default /metrics stays small at 100k checks — what blackbox_exporter users scrape as
// probe_success, for the checks this node runs:
//   lookout_check_up{check,vantage}                            1 up (degraded too), 0 down (absent while unknown): the policy's verdict
//   lookout_check_degraded{check,vantage}                      1 while degraded (protocol/published-verdict.ts), else 0
//   lookout_check_flapping{check,vantage}                      1 while flapping (protocol/flapping.ts), else 0
//   lookout_check_probe_success{check,vantage}                 the last conclusive probe: 1 passed, 0 failed
//   lookout_check_probe_duration_seconds{check,vantage}        that probe's latency
//   lookout_check_interval_seconds{check,vantage}              the interval the last probe ran at (intervalMs,
//                                                              or a state-dependent one: protocol/state-interval.ts)
//   lookout_check_last_transition_timestamp_seconds{check,vantage}  the `at` of the last verdict change this
//                                                              node published (absent until it publishes one)
// A row lives while its runner schedules the check (from the `schedule` directive to `unschedule`):
// a check that moved to another node leaves this node's exposition, and a probe that finishes
// after its check was unscheduled changes nothing. Written by the runner directives
// (actors/runner-directives.ts), only when enabled: off, the runners never touch it.

import type { ResultMessage, StatusMessage } from '../protocol/records';

interface Row {
  /** The runner generation that schedules the check here (a later runner of it replaces the row). */
  gen: number;
  vantage: number;
  up: 0 | 1 | null;
  degraded: 0 | 1 | null;
  flapping: 0 | 1 | null;
  ok: 0 | 1 | null;
  latencyMs: number | null;
  /** The interval the last probe ran at (the result's intervalMs). */
  intervalMs: number | null;
  changedAtMs: number | null;
}

export const CHECK_METRICS_PATH = '/metrics/checks';

export class CheckGauges {
  private readonly rows = new Map<string, Row>();

  get size(): number {
    return this.rows.size;
  }

  scheduled(gen: number, id: string, vantage: number): void {
    const r = this.rows.get(id);
    if (r?.gen === gen) return;
    this.rows.set(id, { gen, vantage, up: null, degraded: null, flapping: null, ok: null, latencyMs: null, intervalMs: null, changedAtMs: null });
  }

  unscheduled(gen: number, id: string): void {
    if (this.rows.get(id)?.gen === gen) this.rows.delete(id);
  }

  result(gen: number, msg: ResultMessage): void {
    const r = this.rows.get(msg.checkId);
    if (r?.gen !== gen) return;
    r.up = msg.status === 'up' ? 1 : msg.status === 'down' ? 0 : null;
    r.intervalMs = msg.intervalMs ?? null;
    r.degraded = msg.degraded ? 1 : 0;
    r.flapping = msg.flapping ? 1 : 0;
    if (msg.reason === 'inconclusive') return; // the node's stall, not the target's answer
    r.ok = msg.ok ? 1 : 0;
    r.latencyMs = msg.latencyMs;
  }

  status(gen: number, msg: Pick<StatusMessage, 'checkId' | 'to' | 'at'>): void {
    const r = this.rows.get(msg.checkId);
    if (r?.gen !== gen) return;
    if (msg.to !== 'flapping') r.up = msg.to === 'down' ? 0 : 1;
    r.degraded = msg.to === 'degraded' ? 1 : 0;
    r.flapping = msg.to === 'flapping' ? 1 : 0;
    const at = Date.parse(msg.at);
    if (Number.isFinite(at)) r.changedAtMs = at;
  }

  /** The Prometheus text exposition (format 0.0.4) of every row, sorted by check id. */
  render(): string {
    const ids = [...this.rows.keys()].sort();
    const family = (name: string, help: string, value: (r: Row) => number | null): string => {
      const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`];
      for (const id of ids) {
        const r = this.rows.get(id)!;
        const v = value(r);
        // Check ids match ^[A-Za-z0-9_-]+$: nothing to escape in a label value.
        if (v !== null) lines.push(`${name}{check="${id}",vantage="${r.vantage}"} ${v}`);
      }
      return lines.join('\n');
    };
    return (
      [
        family('lookout_check_up', "The check's verdict as this node holds it: 1 up, 0 down (absent while unknown).", (r) => r.up),
        family('lookout_check_degraded', 'The check is degraded (up, but a passing probe breached degradedAfterMs or tls.degradedDaysLeft): 1, else 0.', (r) => r.degraded),
        family('lookout_check_flapping', 'The check is flapping (its results keep changing; spec flap): 1, else 0.', (r) => r.flapping),
        family('lookout_check_probe_success', 'The last conclusive probe of the check from this node: 1 passed, 0 failed.', (r) => r.ok),
        family('lookout_check_probe_duration_seconds', "The last conclusive probe's latency, seconds.", (r) => (r.latencyMs === null ? null : r.latencyMs / 1000)),
        family('lookout_check_interval_seconds', 'The interval the last probe of the check ran at, seconds: intervalMs, or intervalWhileTransitioningMs / intervalWhileDownMs while the verdict state calls for it; a push check: push.checkEveryMs.', (r) => (r.intervalMs === null ? null : r.intervalMs / 1000)),
        family('lookout_check_last_transition_timestamp_seconds', 'When this node last published a verdict change of the check (its at), seconds since the Unix epoch.', (r) => (r.changedAtMs === null ? null : r.changedAtMs / 1000)),
      ].join('\n') + '\n'
    );
  }
}
