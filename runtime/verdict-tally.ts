// This node's verdict counts (protocol/verdict-counts.ts): the checks whose status it decides, by
// published verdict. Each check runner at rank 0 adds itself as a source while it lives
// (actors/check-runner.ts) and counts its table on demand (CheckTable.countVerdicts, the quorum
// verdict for checks with replicas > 1) until it stops scheduling (releasing, draining): from then
// on the slot's next owner counts them. A runner still claiming has an empty table.
//
// Read by the heartbeat (twice a second) and by /metrics: the count walks every check the node
// decides, so it is kept for VERDICT_TALLY_MAX_AGE_MS — at 100k checks one walk costs a few ms,
// at most once a second. Exposed on /metrics as
//   lookout_checks_by_verdict{verdict}   checks whose status this node decides, by verdict
//                                        (down, degraded, flapping, up, unknown)

import { Gauge, type Registry } from 'prom-client';
import { COUNTED_VERDICTS, emptyCounts, type VerdictCounts } from '../protocol/verdict-counts';

/** How long one count is reused (ms): a heartbeat carries counts at most this old. */
export const VERDICT_TALLY_MAX_AGE_MS = 1000;

/** A runner's share of the count. */
export interface VerdictSource {
  countVerdicts(into: VerdictCounts): void;
}

export class VerdictTally {
  private readonly sources = new Set<VerdictSource>();
  private cached: VerdictCounts | null = null;
  private cachedAt = 0;

  constructor(
    private readonly clock: { monotonic(): number },
    private readonly maxAgeMs = VERDICT_TALLY_MAX_AGE_MS,
  ) {}

  /** Count `source` from now on; the function returned stops counting it. */
  add(source: VerdictSource): () => void {
    this.sources.add(source);
    this.cached = null;
    return () => {
      this.sources.delete(source);
      this.cached = null;
    };
  }

  get size(): number {
    return this.sources.size;
  }

  /** The counts, at most maxAgeMs old (a fresh object: callers may keep it). */
  counts(): VerdictCounts {
    const now = this.clock.monotonic();
    if (!this.cached || now - this.cachedAt >= this.maxAgeMs) {
      const into = emptyCounts();
      for (const s of this.sources) s.countVerdicts(into);
      this.cached = into;
      this.cachedAt = now;
    }
    return { ...this.cached };
  }

  /** The /metrics gauge, read when scraped. */
  register(registry: Registry): void {
    if (registry.getSingleMetric('lookout_checks_by_verdict')) return; // one per registry
    const tally = this;
    new Gauge({
      name: 'lookout_checks_by_verdict',
      help: 'Checks whose status this node decides (the shards it runs at rank 0; each check is counted by one node), by published verdict: down, degraded, flapping, up, unknown (no verdict yet). Summed over members in cluster.status.',
      labelNames: ['verdict'],
      registers: [registry],
      collect() {
        const c = tally.counts();
        for (const v of COUNTED_VERDICTS) this.set({ verdict: v }, c[v]);
      },
    });
  }
}
