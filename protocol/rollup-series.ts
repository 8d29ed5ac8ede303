// A check's probes period by period (pure): the rollup records of a window grouped by the start of
// their period — records of several nodes for one period (a check that moved, or several vantages)
// add up exactly, as in `summarize` — one point each, oldest first. What the state API's history
// answers as `series` and the status page draws as a latency sparkline; at the rollup period's grain
// (an hour) or the fine one's (a minute, kept a shorter time), as the request asks (`pickSeries`).

import { summarize, type RollupRecord } from './rollup';
import { SeriesGrain } from './state-query';

/** One period of a check's probes. */
export interface SeriesPoint {
  /** Start of the period (ISO-8601, the publishing node's clock). */
  period: string;
  /** Length of the period (the longest of its records'; a node's partial period counts as whole). */
  periodMs: number;
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
/** Most points a fine series holds (the newest are kept): 24 hours of minutes (~200 KB of JSON). */
export const FINE_SERIES_MAX_POINTS = 1440;

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
    const list = byPeriod.get(period)!;
    const s = summarize(list, period, period + 1);
    return { period: new Date(period).toISOString(), periodMs: Math.max(...list.map((r) => r.periodMs)), probes: s.probes, failures: s.failures, inconclusive: s.inconclusive, meanMs: s.meanMs, p50Ms: s.p50Ms, p90Ms: s.p90Ms, maxMs: s.maxMs };
  });
}

export interface SeriesAsk {
  grain: SeriesGrain;
  fromMs: number;
  toMs: number;
  nowMs: number;
  /** How far back the fine records reach (LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS; 0: the fine grain is off). */
  fineMaxAgeMs: number;
}

/**
 * Does a request need the fine records? `fine` always; `auto` when the range starts within their
 * retention (a range reaching further back than they do is answered at the rollup period's grain).
 */
export function wantsFine(a: SeriesAsk): boolean {
  switch (a.grain) {
    case SeriesGrain.coarse:
      return false;
    case SeriesGrain.fine:
      return true;
    case SeriesGrain.auto:
      return a.fineMaxAgeMs > 0 && a.fromMs >= a.nowMs - a.fineMaxAgeMs;
  }
}

/**
 * The series a history answers, and its grain: the fine records' when the request wants them, else
 * the rollup period's. For `auto`, fine only where the fine records cover the range as well as the
 * coarse ones: not when a coarse period of the range ended before the oldest fine record in it (the
 * fine stream's byte cap dropped older minutes, or the fine grain was off on the nodes that probed).
 */
export function pickSeries(a: SeriesAsk, coarse: readonly RollupRecord[], fine: readonly RollupRecord[]): { grain: 'coarse' | 'fine'; series: SeriesPoint[] } {
  const coarseSeries = () => rollupSeries(coarse, a.fromMs, a.toMs);
  if (!wantsFine(a)) return { grain: SeriesGrain.coarse, series: coarseSeries() };
  const series = rollupSeries(fine, a.fromMs, a.toMs, FINE_SERIES_MAX_POINTS);
  if (a.grain === SeriesGrain.fine) return { grain: SeriesGrain.fine, series };
  const c = coarseSeries();
  const oldestFine = series.length > 0 ? Date.parse(series[0]!.period) : Infinity;
  const uncovered = c.length > 0 && Date.parse(c[0]!.period) + c[0]!.periodMs <= oldestFine;
  return uncovered ? { grain: SeriesGrain.coarse, series: c } : { grain: SeriesGrain.fine, series };
}
