// A check's probes period by period (pure): the rollup records of a window grouped by the start of
// their period — records of several nodes for one period (a check that moved, or several vantages)
// add up exactly, as in `summarize` — one point each, oldest first. What the state API's history
// answers as `series` and the status page draws as a latency sparkline.

import { summarize, type RollupRecord } from './rollup';

/** One period of a check's probes. */
export interface SeriesPoint {
  /** Start of the period (ISO-8601, the publishing node's clock). */
  period: string;
  probes: number;
  failures: number;
  inconclusive: number;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  maxMs: number | null;
}

/** Most points one series holds (the newest are kept): 7 days of hours. */
export const SERIES_MAX_POINTS = 168;

/** The periods starting in [fromMs, toMs), oldest first, at most `maxPoints` (the newest). */
export function rollupSeries(records: readonly RollupRecord[], fromMs: number, toMs: number, maxPoints = SERIES_MAX_POINTS): SeriesPoint[] {
  const byPeriod = new Map<number, RollupRecord[]>();
  for (const r of records) {
    if (r.period < fromMs || r.period >= toMs) continue;
    let list = byPeriod.get(r.period);
    if (!list) byPeriod.set(r.period, (list = []));
    list.push(r);
  }
  const periods = [...byPeriod.keys()].sort((a, b) => a - b).slice(-maxPoints);
  return periods.map((period) => {
    const s = summarize(byPeriod.get(period)!, period, period + 1);
    return { period: new Date(period).toISOString(), probes: s.probes, failures: s.failures, inconclusive: s.inconclusive, meanMs: s.meanMs, p50Ms: s.p50Ms, p90Ms: s.p90Ms, maxMs: s.maxMs };
  });
}
