// The node actor's cluster settings from the node's config (runtime/config.ts): timings of the
// membership, the lease and the assigner, how many vantage points, and the thresholds of churn
// damping, overload relief and the quarantine bound — one mapping, read once at start.

import type { ClusterSettings } from '../actors/node-inputs';
import { reliefConfig } from '../protocol/overload-relief';
import type { Config } from '../runtime/config';
import { VERSION } from '../runtime/version';

export function clusterSettings(cfg: Config): ClusterSettings {
  return {
    version: VERSION,
    heartbeatMs: cfg.heartbeatMs,
    suspectAfterMs: cfg.suspectAfterMs,
    deadAfterMs: cfg.deadAfterMs,
    overloadGraceMs: cfg.overloadGraceMs,
    sharedSilenceGraceMs: cfg.sharedSilenceGraceMs,
    lease: { leaseMs: cfg.leaseMs, renewMs: cfg.renewMs, pollMs: cfg.leasePollMs, takeoverMarginMs: cfg.takeoverMarginMs },
    rebalanceQuietMs: cfg.rebalanceQuietMs,
    rebalanceMaxDelayMs: cfg.rebalanceMaxDelayMs,
    leaveTimeoutMs: cfg.leaveTimeoutMs,
    vantagePoints: cfg.vantagePoints,
    clockSkewWarnMs: cfg.clockSkewWarnMs,
    churn: { windowMs: cfg.churnWindowMs, threshold: cfg.churnThreshold, holdMs: cfg.churnHoldMs, maxHoldMs: cfg.churnMaxHoldMs },
    overloadRelief: reliefConfig(cfg.overloadReliefMs),
    quarantineMaxFraction: cfg.quarantineMaxPercent / 100,
  };
}
