// Percentiles and medians over plain arrays (nearest-rank on the sorted sample).

export function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Nearest-rank percentile of an already sorted array; p in [0, 100]. NaN when empty. */
export function pct(sortedXs: readonly number[], p: number): number {
  if (sortedXs.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sortedXs.length);
  return sortedXs[Math.min(sortedXs.length - 1, Math.max(0, rank - 1))]!;
}

export function median(xs: readonly number[]): number {
  const s = sorted(xs);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface Dist {
  n: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  mean: number;
}

export function dist(xs: readonly number[], digits = 3): Dist {
  const s = sorted(xs);
  const f = 10 ** digits;
  const r = (x: number) => Math.round(x * f) / f;
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
  return { n: s.length, p50: r(pct(s, 50)), p99: r(pct(s, 99)), max: r(s[s.length - 1] ?? NaN), min: r(s[0] ?? NaN), mean: r(mean) };
}
