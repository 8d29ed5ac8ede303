// Rollups of a check's probes per period (LOOKOUT_ROLLUP_PERIOD_MS, an hour by default): how many
// probes, how many failed, how many were inconclusive (the node's stall, not the target), and the
// latency of the conclusive ones as a histogram over fixed bounds — so that periods from different
// nodes (a check that moved mid-hour) and windows of many periods merge exactly by adding, and
// percentiles come from the merged histogram. Pure: the accumulator, the record a node publishes
// at each period's end (runtime/rollup-recorder.ts), reading a stored record back (hostile input),
// and summing records over a window.

/** Upper bounds of the latency buckets, ms; the last bucket is everything above the last bound. */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 30_000] as const;
const BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** One node's rollup of one check (at one vantage) over one period, as published. */
export interface RollupRecord {
  checkId: string;
  node: string;
  vantage: number;
  /** Start of the period on the publishing node's clock (ms since the Unix epoch): a label. */
  period: number;
  periodMs: number;
  probes: number;
  failures: number;
  inconclusive: number;
  /** Conclusive probes per latency bucket (LATENCY_BOUNDS_MS, then one above). */
  buckets: number[];
  sumMs: number;
  maxMs: number;
}

/** What a window of rollups says: counts, and latency of the conclusive probes. */
export interface RollupSummary {
  probes: number;
  failures: number;
  inconclusive: number;
  /** Passed ÷ conclusive probes, or null with none. */
  successRatio: number | null;
  meanMs: number | null;
  /** Upper bound of the bucket holding the percentile (null past the last bound, or with no probes). */
  p50Ms: number | null;
  p90Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Periods summed (from every node that published one). */
  periods: number;
}

export function bucketOf(latencyMs: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (latencyMs <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/**
 * Per check: the counts of the current period of one grain (runtime/rollup-recorder.ts keeps one
 * accumulator per grain, so a grain that counts few checks holds only those) in flat typed arrays
 * (no object per check, no allocation per probe): probes, failures, inconclusive and the latency
 * buckets as 32-bit counts, the latency sum and maximum as doubles — 88 bytes a check, plus one
 * vantage byte and its map entry (README, State and history).
 */
const COUNTS = 3 + BUCKETS; // probes, failures, inconclusive, buckets…
/** How much the arrays grow when full (RollupAccumulator.grow). */
const GROWTH = 1.25;
export class RollupAccumulator {
  private slots = new Map<string, number>();
  private counts = new Uint32Array(64 * COUNTS);
  private sums = new Float64Array(64);
  private maxes = new Float64Array(64);
  private vantages = new Uint8Array(64);

  get size(): number {
    return this.slots.size;
  }

  observe(id: string, vantage: number, ok: boolean, inconclusive: boolean, latencyMs: number): void {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.slots.size;
      if (slot >= this.sums.length) this.grow();
      this.slots.set(id, slot);
      this.vantages[slot] = vantage;
    }
    const base = slot * COUNTS;
    this.counts[base]!++;
    if (inconclusive) {
      this.counts[base + 2]!++;
      return;
    }
    if (!ok) this.counts[base + 1]!++;
    if (latencyMs > this.maxes[slot]!) this.maxes[slot] = latencyMs;
    this.counts[base + 3 + bucketOf(latencyMs)]!++;
    this.sums[slot]! += latencyMs;
  }

  /** The period's records (every check observed in it), and a fresh period. */
  drain(node: string, period: number, periodMs: number): RollupRecord[] {
    const out: RollupRecord[] = [];
    for (const [checkId, slot] of this.slots) {
      const b = slot * COUNTS;
      out.push({
        checkId,
        node,
        vantage: this.vantages[slot]!,
        period,
        periodMs,
        probes: this.counts[b]!,
        failures: this.counts[b + 1]!,
        inconclusive: this.counts[b + 2]!,
        buckets: Array.from(this.counts.subarray(b + 3, b + COUNTS)),
        sumMs: Math.round(this.sums[slot]! * 1000) / 1000,
        maxMs: Math.round(this.maxes[slot]! * 1000) / 1000,
      });
    }
    this.slots = new Map();
    this.counts.fill(0);
    this.sums.fill(0);
    this.maxes.fill(0);
    return out;
  }

  /**
   * Room for a quarter more checks. Doubling left up to half the rows unused (at 100k checks the
   * arrays were sized for 131,072: 2.8 MB of 11.5 unused); a quarter at a time costs a few more
   * copies while the checks come (each copy linear, ~4 rows copied per row in all).
   */
  private grow(): void {
    const n = Math.ceil(this.sums.length * GROWTH);
    const counts = new Uint32Array(n * COUNTS);
    counts.set(this.counts);
    this.counts = counts;
    for (const k of ['sums', 'maxes'] as const) {
      const a = new Float64Array(n);
      a.set(this[k]);
      this[k] = a;
    }
    const vantages = new Uint8Array(n);
    vantages.set(this.vantages);
    this.vantages = vantages;
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isMs = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** A stored record, or null when it is not one (another version, or hostile). */
export function parseRollup(raw: unknown): RollupRecord | null {
  if (raw === null || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.checkId !== 'string' || typeof r.node !== 'string' || !isCount(r.vantage) || !isCount(r.period) || !isCount(r.periodMs)) return null;
  if (!isCount(r.probes) || !isCount(r.failures) || !isCount(r.inconclusive) || !isMs(r.sumMs) || !isMs(r.maxMs)) return null;
  if (!Array.isArray(r.buckets) || r.buckets.length !== BUCKETS || !r.buckets.every(isCount)) return null;
  if (r.failures + r.inconclusive > r.probes) return null;
  return { checkId: r.checkId, node: r.node, vantage: r.vantage, period: r.period, periodMs: r.periodMs, probes: r.probes, failures: r.failures, inconclusive: r.inconclusive, buckets: r.buckets as number[], sumMs: r.sumMs, maxMs: r.maxMs };
}

/** The percentile `q` (0..1) of a histogram: the upper bound of its bucket (null: above the last bound, or empty). */
export function percentileOf(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : null;
  }
  return null;
}

/** Sum the records whose period starts in [fromMs, toMs). */
export function summarize(records: readonly RollupRecord[], fromMs: number, toMs: number): RollupSummary {
  const buckets = new Array<number>(BUCKETS).fill(0);
  let probes = 0;
  let failures = 0;
  let inconclusive = 0;
  let sumMs = 0;
  let maxMs = 0;
  let periods = 0;
  for (const r of records) {
    if (r.period < fromMs || r.period >= toMs) continue;
    periods++;
    probes += r.probes;
    failures += r.failures;
    inconclusive += r.inconclusive;
    sumMs += r.sumMs;
    if (r.maxMs > maxMs) maxMs = r.maxMs;
    for (let i = 0; i < BUCKETS; i++) buckets[i]! += r.buckets[i]!;
  }
  const conclusive = probes - inconclusive;
  return {
    probes,
    failures,
    inconclusive,
    successRatio: conclusive > 0 ? (conclusive - failures) / conclusive : null,
    meanMs: conclusive > 0 ? Math.round((sumMs / conclusive) * 1000) / 1000 : null,
    p50Ms: percentileOf(buckets, 0.5),
    p90Ms: percentileOf(buckets, 0.9),
    p99Ms: percentileOf(buckets, 0.99),
    maxMs: conclusive > 0 ? maxMs : null,
    periods,
  };
}

/** Start of the period holding `t` (periods are aligned to the Unix epoch on the node's own clock). */
export function periodStart(t: number, periodMs: number): number {
  return t - (((t % periodMs) + periodMs) % periodMs);
}
