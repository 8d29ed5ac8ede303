// Self-quarantine, the node's side (issue 13 §3): a node tracks how often its own view of the
// targets disagrees with what other nodes see, and when its disagreement rate says the problem is
// its own network (its routes, its DNS, its firewall), it takes itself out: it stops publishing
// verdicts, says `quarantined` in its heartbeat, and the leader moves its shards away
// (quarantine-bound.ts decides how many members may be out). It rejoins after a stable healthy
// period.
//
// Evidence, one item per observation, kept in a sliding window counted in observations (not time):
//
//   disagreed — a failure of ours another node saw healthy (a `disagreed` confirmation, confirm.ts;
//               a canary, or a check probed again while quarantined, confirmed the same way)
//   agreed    — a failure another node saw too (the target is down, not us)
//   healthy   — a probe of ours that passed (a check or a canary)
//
//   enter when, over the window:  disagreed ≥ minDisagreements
//                                 and disagreed / (disagreed + agreed + healthy) ≥ rate
//                                 and the disagreements name ≥ minSubjects distinct checks/canaries
//   leave when quarantined and:   no disagreement for holdMs (monotonic)
//                                 and ≥ minHealthy healthy observations since the last one
//                                 (or nothing is left to probe: then the hold alone)
//
// Passes count in the denominator, so a node that cannot reach two targets of a thousand is not
// quarantined (the rate stays low) while one whose every probe fails is; minSubjects keeps one
// unreachable target from taking a node out on its own. Pure: times are monotonic ms passed in.

/** One observation of this node's view against the others'. */
export type EvidenceKind = 'disagreed' | 'agreed' | 'healthy';

export interface QuarantineConfig {
  /** rate 0: quarantine off (never entered). */
  rate: number;
  /** Observations kept. */
  window: number;
  minDisagreements: number;
  minSubjects: number;
  holdMs: number;
  minHealthy: number;
}

/** Named defaults (runtime/config.ts documents them as settings). */
export const QUARANTINE_DEFAULTS: QuarantineConfig = { rate: 0.8, window: 50, minDisagreements: 5, minSubjects: 2, holdMs: 60_000, minHealthy: 3 };

/** The window's counts and the fraction that disagreed. */
export interface QuarantineScore {
  disagreed: number;
  agreed: number;
  healthy: number;
  /** Distinct checks/canaries among the disagreements. */
  subjects: number;
  /** disagreed / all observations (0 for none). */
  rate: number;
}

export type QuarantineChange = { type: 'entered'; score: QuarantineScore; reason: 'disagreement' } | { type: 'left'; score: QuarantineScore; reason: 'healthy' | 'no_evidence'; quarantinedMs: number };

interface Item {
  kind: EvidenceKind;
  subject: string;
}

export class QuarantineWatch {
  private items: Item[] = [];
  private readonly counts: Record<EvidenceKind, number> = { disagreed: 0, agreed: 0, healthy: 0 };
  /** Per subject, its disagreements in the window. */
  private readonly disagreeing = new Map<string, number>();
  private quarantinedSince: number | null = null;
  private lastDisagreement = -Infinity;
  private healthySince = 0;
  /** The subjects that disagreed most recently, newest last (probed again while quarantined). */
  private readonly recent: string[] = [];

  constructor(private readonly cfg: QuarantineConfig) {}

  get quarantined(): boolean {
    return this.quarantinedSince !== null;
  }

  /** Up to `n` checks/canaries that disagreed most recently, newest first: worth probing again while quarantined. */
  witnesses(n: number): string[] {
    return this.recent.slice(-n).reverse();
  }

  /** Forget a subject as a witness (its check was deleted). */
  forget(subject: string): void {
    const i = this.recent.indexOf(subject);
    if (i >= 0) this.recent.splice(i, 1);
  }

  score(): QuarantineScore {
    const { disagreed, agreed, healthy } = this.counts;
    const all = disagreed + agreed + healthy;
    return { disagreed, agreed, healthy, subjects: this.disagreeing.size, rate: all === 0 ? 0 : disagreed / all };
  }

  /** Count `it` in (+1) or out (-1) of the window. O(1): every probe of the node comes through here. */
  private count(it: Item, by: 1 | -1): void {
    this.counts[it.kind] += by;
    if (it.kind !== 'disagreed') return;
    const n = (this.disagreeing.get(it.subject) ?? 0) + by;
    if (n > 0) this.disagreeing.set(it.subject, n);
    else this.disagreeing.delete(it.subject);
  }

  /** One observation at monotonic `now`; returns a change when it starts a quarantine. */
  observe(kind: EvidenceKind, subject: string, now: number): QuarantineChange | null {
    if (this.cfg.rate <= 0) return null;
    const item = { kind, subject };
    this.items.push(item);
    this.count(item, 1);
    if (this.items.length > this.cfg.window) this.count(this.items.shift()!, -1);
    if (kind === 'disagreed') {
      this.lastDisagreement = now;
      this.healthySince = 0;
      this.forget(subject);
      this.recent.push(subject);
      if (this.recent.length > this.cfg.window) this.recent.shift();
    } else if (kind === 'healthy') this.healthySince++;
    if (this.quarantined || kind !== 'disagreed') return null;
    const score = this.score();
    if (score.disagreed < this.cfg.minDisagreements || score.rate < this.cfg.rate || score.subjects < this.cfg.minSubjects) return null;
    this.quarantinedSince = now;
    return { type: 'entered', score, reason: 'disagreement' };
  }

  /** Look at a quarantine for its end (`canProbe`: something is left to probe for evidence). */
  tick(now: number, canProbe: boolean): QuarantineChange | null {
    if (this.quarantinedSince === null) return null;
    if (now - Math.max(this.lastDisagreement, this.quarantinedSince) < this.cfg.holdMs) return null;
    const healthy = this.healthySince >= this.cfg.minHealthy;
    if (!healthy && canProbe) return null;
    const score = this.score();
    const quarantinedMs = now - this.quarantinedSince;
    this.quarantinedSince = null;
    // A fresh start: what was seen before or during the quarantine does not count towards the next one.
    this.items = [];
    this.counts.disagreed = this.counts.agreed = this.counts.healthy = 0;
    this.disagreeing.clear();
    return { type: 'left', score, reason: healthy ? 'healthy' : 'no_evidence', quarantinedMs };
  }
}
