// Pure arithmetic of the open-loop benchmarks (bench/throughput.ts, bench/http-layers.ts): how many
// requests are due at a fixed rate, the interleaved order of repetitions, medians of the windows
// that were not spoiled by foreign load, and the efficiency figures. No I/O, no clock: table-tested
// in test/unit/bench-rate-math.test.ts.

import { median } from './stats';

/**
 * Open loop: requests to start now so that `issued` keeps up with `ratePerSec` since the start,
 * `elapsedMs` ago. Never negative; a driver that fell behind catches up in one burst, as the
 * arrivals of independent checks would (they do not wait for each other's answers).
 */
export function dueCount(ratePerSec: number, elapsedMs: number, issued: number): number {
  if (!(ratePerSec > 0) || !(elapsedMs > 0)) return 0;
  return Math.max(0, Math.floor((ratePerSec * elapsedMs) / 1000) - issued);
}

/** "1500,3000" → [1500, 3000]; rejects anything that is not a positive number. */
export function parseRates(raw: string): number[] {
  const out = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (out.length === 0 || out.some((x) => !(x > 0) || !Number.isFinite(x))) throw new Error(`expected a list of positive rates like "1500,3000", got ${JSON.stringify(raw)}`);
  return out;
}

/**
 * Interleaved repetitions: for each rep, every item in turn (a, b, a, b, …), so that a slow drift
 * of the machine touches every item alike. Returns [rep, item] pairs in run order.
 */
export function interleave<T>(reps: number, items: readonly T[]): [number, T][] {
  const out: [number, T][] = [];
  for (let r = 0; r < reps; r++) for (const it of items) out.push([r, it]);
  return out;
}

/** One measured window. */
export interface Window {
  /** Requests or probes completed in the window. */
  count: number;
  /** CPU (utime + stime) of the measured process tree over the window, ms. */
  cpuMs: number;
  wallMs: number;
  /** CPU of processes not ours over the window, % of one core. */
  foreignPct: number;
}

export interface Efficiency {
  /** Achieved rate. */
  perSec: number;
  /** Probes per CPU-second of the measured processes. */
  perCpuSec: number;
  /** CPU per probe, µs. */
  usPer: number;
  /** CPU of the measured processes, % of one core. */
  cpuPct: number;
}

export function efficiency(w: Window): Efficiency {
  return {
    perSec: Math.round((w.count * 1000) / w.wallMs),
    perCpuSec: w.cpuMs > 0 ? Math.round((w.count * 1000) / w.cpuMs) : NaN,
    usPer: w.count > 0 ? Math.round((w.cpuMs * 1000) / w.count) : NaN,
    cpuPct: Math.round((100 * w.cpuMs) / w.wallMs),
  };
}

/** A window counts only if foreign CPU stayed at or under `maxForeignPct` (% of one core). */
export function spoiled(w: Window, maxForeignPct: number): boolean {
  return w.foreignPct > maxForeignPct;
}

export interface Summary extends Efficiency {
  /** Windows kept / measured. */
  kept: number;
  runs: number;
  /** perCpuSec of every window, in run order; spoiled ones included (marked in `spoiledRuns`). */
  perCpuSecRuns: number[];
  spoiledRuns: number[];
  /** True when every window was spoiled and the medians are over all of them. */
  allSpoiled: boolean;
}

/** Medians over the windows not spoiled by foreign load (over all of them, flagged, if none is clean). */
export function summarize(ws: readonly Window[], maxForeignPct: number): Summary {
  const effs = ws.map(efficiency);
  const clean = ws.map((w, i) => (spoiled(w, maxForeignPct) ? -1 : i)).filter((i) => i >= 0);
  const use = clean.length > 0 ? clean : ws.map((_, i) => i);
  const med = (k: keyof Efficiency) => median(use.map((i) => effs[i]![k]));
  return {
    perSec: med('perSec'),
    perCpuSec: med('perCpuSec'),
    usPer: med('usPer'),
    cpuPct: med('cpuPct'),
    kept: clean.length,
    runs: ws.length,
    perCpuSecRuns: effs.map((e) => e.perCpuSec),
    spoiledRuns: ws.map((w, i) => (spoiled(w, maxForeignPct) ? i : -1)).filter((i) => i >= 0),
    allSpoiled: ws.length > 0 && clean.length === 0,
  };
}

/** a ÷ b to two decimals; NaN when either is missing. */
export function ratio(a: number, b: number): number {
  if (!(a > 0) || !(b > 0)) return NaN;
  return Math.round((a / b) * 100) / 100;
}

/**
 * Measure a window; while foreign CPU spoiled it, measure again, at most `retries` more times and
 * not once `budgetLeft()` says no time is left. Every window is returned (spoiled ones too: the
 * medians leave them out, the report lists them).
 */
export async function measureUntilClean<W extends Window>(measure: () => Promise<W>, maxForeignPct: number, retries: number, budgetLeft: () => boolean, onSpoiled?: (w: W) => void): Promise<W[]> {
  const out: W[] = [];
  for (;;) {
    const w = await measure();
    out.push(w);
    if (!spoiled(w, maxForeignPct) || out.length > retries || !budgetLeft()) return out;
    onSpoiled?.(w);
  }
}
