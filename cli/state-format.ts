// What `lookout status` and `lookout history` print (pure): the state table, one check's state,
// and a check's uptime and verdict changes. The replies' shapes are runtime/state-api.ts's.

import type { CheckState } from '../protocol/check-state';

export interface HistoryReply {
  checkId: string;
  verdict: string;
  since: string | null;
  uptime: Record<string, { ratio: number | null; changes: number; retainedFully: boolean }>;
  probes?: Record<string, { probes: number; failures: number; inconclusive: number; p50Ms: number | null; p90Ms: number | null; p99Ms: number | null; meanMs: number | null }>;
  from: string;
  to: string;
  range: { ratio: number | null; changes: number };
  changes: { from: string; to: string; at: string; node: string | null; reason: string | null; message: string | null }[];
  /** The grain of `series` (absent from nodes older than the fine grain: coarse). */
  grain?: string;
  series?: { period: string; periodMs?: number; probes: number; failures: number; inconclusive: number; meanMs: number | null; p50Ms: number | null; p90Ms: number | null; maxMs: number | null }[];
}

const VERDICT_TEXT: Record<string, string> = { up: 'UP', degraded: 'DEGRADED', down: 'DOWN', flapping: 'FLAPPING', unknown: '?' };

/** `2026-11-30T12:00:01.234Z` → `2026-11-30 12:00:01` (UTC). */
export function shortTime(iso: string | null | undefined): string {
  if (!iso) return '-';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

const oneLine = (s: string | null | undefined, max = 60) => {
  if (!s) return '';
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

const failureText = (st: CheckState) => (st.lastFailure ? `${shortTime(st.lastFailure.at)} ${st.lastFailure.reason ?? 'failed'}${st.lastFailure.message ? `: ${oneLine(st.lastFailure.message, 50)}` : ''}` : '-');

const lastText = (st: CheckState) => {
  const r = st.lastResult;
  if (!r) return '-';
  return `${shortTime(r.at)} ${r.ok ? 'ok' : r.reason === 'inconclusive' ? '??' : 'FAIL'} ${Math.round(r.latencyMs)}ms ${r.node}`;
};

/** Columns padded to their widest cell; the last column is not padded. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

/** The state table: one row per check. */
export function formatStates(states: readonly CheckState[]): string {
  const rows = [['CHECK', 'VERDICT', 'SINCE', 'LAST RESULT', 'LAST FAILURE']];
  for (const st of states) rows.push([st.checkId, VERDICT_TEXT[st.verdict] ?? st.verdict, shortTime(st.since), lastText(st), failureText(st)]);
  return table(rows);
}

/** One check's state, a field per line. */
export function formatState(st: CheckState): string {
  const lines = [
    `check:         ${st.checkId}`,
    `verdict:       ${st.verdict}${st.since ? ` since ${shortTime(st.since)} UTC` : ''}`,
    `last result:   ${lastText(st)}${st.lastResult && !st.lastResult.ok && st.lastResult.message ? ` (${oneLine(st.lastResult.message, 80)})` : ''}`,
    `last failure:  ${failureText(st)}`,
  ];
  return `${lines.join('\n')}\n`;
}

const pct = (r: number | null) => (r === null ? '-' : `${(Math.floor(r * 100_000) / 1000).toFixed(3)}%`);

const ms = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `≤${v}ms`);

/** `60000` → `1m`, `3600000` → `1h`, `1500` → `1500ms`. */
export function spanText(periodMs: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) if (periodMs % size === 0) return `${periodMs / size}${unit}`;
  return `${periodMs}ms`;
}

/** The series, one row per period, oldest first. */
export function formatSeries(h: HistoryReply): string {
  const series = h.series ?? [];
  const grain = h.grain ?? 'coarse';
  const span = series[0]?.periodMs ? ` of ${spanText(series[0].periodMs)}` : '';
  const head = `${grain} periods${span} from ${shortTime(h.from)} to ${shortTime(h.to)} UTC: ${series.length}`;
  if (series.length === 0) return head;
  const rows = [['PERIOD', 'PROBES', 'FAILED', '??', 'MEAN', 'P50', 'P90', 'MAX']];
  const mean = (v: number | null) => (v === null ? '-' : `${Math.round(v * 10) / 10}ms`);
  for (const p of series) rows.push([shortTime(p.period), String(p.probes), String(p.failures), String(p.inconclusive), mean(p.meanMs), ms(p.p50Ms), ms(p.p90Ms), mean(p.maxMs)]);
  return `${head}\n${table(rows).trimEnd()}`;
}

/** Uptime per window, then the verdict changes in the asked range (and with `withSeries` the series). */
export function formatHistory(h: HistoryReply, withSeries = false): string {
  const out = [`check ${h.checkId}: ${h.verdict}${h.since ? ` since ${shortTime(h.since)} UTC` : ''}`, ''];
  const up = [['WINDOW', 'UPTIME', 'CHANGES', 'PROBES', 'FAILED', 'P50', 'P90', 'P99']];
  for (const [name, u] of Object.entries(h.uptime)) {
    const p = h.probes?.[name];
    up.push([name, `${pct(u.ratio)}${u.retainedFully ? '' : ' (partial)'}`, String(u.changes), p ? String(p.probes) : '-', p ? String(p.failures) : '-', ms(p?.p50Ms), ms(p?.p90Ms), ms(p?.p99Ms)]);
  }
  out.push(table(up).trimEnd(), '');
  out.push(`changes from ${shortTime(h.from)} to ${shortTime(h.to)} UTC: ${h.changes.length} (uptime ${pct(h.range.ratio)})`);
  if (h.changes.length > 0) {
    const rows = [['AT', 'CHANGE', 'NODE', 'REASON']];
    for (const c of h.changes) rows.push([shortTime(c.at), `${c.from}→${c.to}`, c.node ?? '-', `${c.reason ?? ''}${c.message ? `: ${oneLine(c.message)}` : ''}`]);
    out.push(table(rows).trimEnd());
  }
  if (withSeries) out.push('', formatSeries(h));
  return `${out.join('\n')}\n`;
}
