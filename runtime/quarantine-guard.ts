// Self-quarantine's I/O on the node (protocol/quarantine.ts has the rule, quarantine-bound.ts the
// leader's bound). The runners tell it what each probe showed (a pass; a failure another node saw
// healthy or failing too; for a check with replicas > 1, what its other vantages last saw:
// protocol/vantage-evidence.ts); every LOOKOUT_CANARY_INTERVAL_MS it probes the canaries — and, while
// quarantined, the checks that disagreed last (they have no owner here any more) — confirming each
// failure with another node. On entering and leaving it logs `quarantine_entered` /
// `quarantine_left`, sets lookout_quarantined and publishes `<prefix>.cluster.member.quarantined`
// {node, quarantined, reason, score}. The heartbeat carries `quarantined` (actors/membership.ts);
// while quarantined the node announces no verdict change (unless the leader refused the
// quarantine: then it keeps its shards and its verdicts count) and answers no confirmation.

import type { FailureReason } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { Confirmation } from '../protocol/confirm';
import { QuarantineWatch, type EvidenceKind, type QuarantineChange, type QuarantineConfig } from '../protocol/quarantine';
import { lastPassed, VANTAGE_LOOKUPS_IN_FLIGHT, vantageEvidence } from '../protocol/vantage-evidence';
import type { ProbeOutcome } from '../checks/outcome';
import type { Bus } from './bus';
import { isCanaryId } from './canaries';
import type { Clock, TimerHandle } from './clock';
import type { Config } from './config';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Subjects } from './subjects';
import type { StopSignal } from '../checks/probe-stop';
import type { ProbeFn } from '../checks/probe';

/** Checks that disagreed last, probed again each canary interval while quarantined. */
export const QUARANTINE_WITNESSES = 3;

/** What the check runners see of the guard (actors/runner-ports.ts). */
export interface QuarantinePort {
  /** This node says it is quarantined (its heartbeat). */
  quarantined(): boolean;
  /** Verdict changes are held: quarantined, and the leader did not refuse it. */
  holdsVerdicts(): boolean;
  /**
   * What one probe of check `id` showed (a failure counts only once confirmed). `vantage`: the
   * check has replicas > 1 and this is its vantage `rank`: a failure is compared with the other
   * vantages' last results.
   */
  observe(id: string, ok: boolean, reason: FailureReason | null, confirmation?: Confirmation, vantage?: VantageOf): void;
}

/** Which vantage of a check with replicas > 1 a probe was. */
export interface VantageOf {
  rank: number;
  replicas: number;
  /** The longest interval the check's vantages may run at (protocol/state-interval.ts longestInterval): how long a record stays fresh. */
  intervalMs: number;
}

export interface QuarantineGuardOptions {
  bus: Bus;
  subjects: Subjects;
  clock: Clock;
  cfg: QuarantineConfig;
  canaries: readonly NormalizedSpec[];
  canaryIntervalMs: number;
  probe: ProbeFn;
  confirm(spec: NormalizedSpec, signal: StopSignal): Promise<Confirmation>;
  /** The spec of a check this node holds (a node holds only its shards' specs: app/node-specs.ts). */
  specOf(id: string): NormalizedSpec | undefined;
  /** A vantage's last resume record with the server's time of storing it (runtime/resume-store.ts lastSeen). Absent: vantages give no evidence. */
  vantageRecord?(id: string, rank: number): Promise<{ state: { history: string }; storedAt: number } | null>;
  /** The followed map lists this node as refused (past the bound): it keeps its shards and verdicts. */
  refused(): boolean;
  nodeId: string;
  metrics: Metrics;
  log: Logger;
}

export interface QuarantineGuard extends QuarantinePort {
  stop(): void;
}

/** The rule's settings from the node's config (LOOKOUT_QUARANTINE_*). */
export function quarantineSettings(cfg: Config): QuarantineConfig {
  return {
    rate: cfg.quarantinePercent / 100,
    window: cfg.quarantineWindow,
    minDisagreements: cfg.quarantineMinDisagreements,
    minSubjects: cfg.quarantineMinSubjects,
    holdMs: cfg.quarantineHoldMs,
    minHealthy: cfg.quarantineMinHealthy,
  };
}

/** The evidence a confirmation (or a pass) is, or null when it says nothing about this node. */
export function evidenceOf(ok: boolean, reason: FailureReason | null, confirmation?: Confirmation): EvidenceKind | null {
  if (ok) return 'healthy';
  if (reason === 'inconclusive' || !confirmation) return null;
  return confirmation.outcome === 'disagreed' ? 'disagreed' : confirmation.outcome === 'agreed' ? 'agreed' : null;
}

export function startQuarantineGuard(o: QuarantineGuardOptions): QuarantineGuard {
  const watch = new QuarantineWatch(o.cfg);
  const off = o.cfg.rate <= 0;
  const inFlight = new Set<string>();
  // The specs of the checks that disagreed last, kept from when they disagreed: once quarantined,
  // this node's shards move away and it no longer holds them (at most one window's worth).
  const witnessSpecs = new Map<string, NormalizedSpec>();
  const keepWitness = (id: string) => {
    const spec = o.specOf(id);
    if (!spec) return;
    witnessSpecs.delete(id);
    witnessSpecs.set(id, spec);
    if (witnessSpecs.size > o.cfg.window) witnessSpecs.delete(witnessSpecs.keys().next().value!);
  };
  const announce = (c: QuarantineChange) => {
    const entered = c.type === 'entered';
    const score = { ...c.score, rate: Math.round(c.score.rate * 1000) / 1000 };
    o.metrics.quarantined.set(entered ? 1 : 0);
    if (entered) {
      o.metrics.quarantines.inc();
      o.log.warn({ event: 'quarantine_entered', reason: c.reason, score }, 'quarantined: this node\'s probes disagree with the other nodes\'; it announces no verdict change and asks the leader to move its shards away');
    } else {
      o.log.info({ event: 'quarantine_left', reason: c.reason, score, quarantinedMs: c.quarantinedMs }, 'quarantine left: this node\'s probes agree with the others again');
    }
    o.bus.publish(o.subjects.memberQuarantined(), {
      node: o.nodeId,
      quarantined: entered,
      reason: c.reason,
      score,
      ...(c.type === 'left' ? { quarantinedMs: c.quarantinedMs } : {}),
      at: new Date(o.clock.now()).toISOString(),
    });
  };
  const note = (kind: EvidenceKind, subject: string, source: 'check' | 'canary' | 'witness' | 'vantage') => {
    o.metrics.quarantineEvidence.inc({ kind, source });
    const c = watch.observe(kind, subject, o.clock.monotonic());
    o.metrics.quarantineRate.set(watch.score().rate);
    if (c) announce(c);
  };
  /** Probe `spec` once; a failure is confirmed by another node before it counts. */
  const probeOnce = async (spec: NormalizedSpec, source: 'canary' | 'witness') => {
    if (inFlight.has(spec.id)) return;
    inFlight.add(spec.id);
    try {
      const signal = new AbortController().signal;
      const outcome = await o.probe(spec, signal).catch((err: unknown): ProbeOutcome => ({ ok: false, reason: 'error', message: String(err), latencyMs: 0, timings: { total: 0 } }));
      if (source === 'canary') o.metrics.canaryProbes.inc({ canary: spec.target, result: outcome.ok ? 'ok' : 'fail' });
      const confirmation = outcome.ok || outcome.reason === 'inconclusive' ? undefined : await o.confirm(spec, signal);
      const kind = evidenceOf(outcome.ok, outcome.reason, confirmation);
      if (kind) note(kind, spec.id, source);
    } finally {
      inFlight.delete(spec.id);
    }
  };
  /** A failed probe of a replicas > 1 check against its other vantages' last results (bounded lookups in flight; none free: no evidence). */
  let lookups = 0;
  const compareVantages = async (id: string, v: VantageOf) => {
    const read = o.vantageRecord;
    if (!read || lookups >= VANTAGE_LOOKUPS_IN_FLIGHT) return;
    lookups++;
    try {
      const ranks = Array.from({ length: v.replicas }, (_, r) => r);
      const seen = await Promise.all(ranks.map((r) => read(id, r).catch(() => null)));
      const others = seen.filter((_, r) => r !== v.rank).map((x) => (x ? { ok: lastPassed(x.state.history), storedAt: x.storedAt } : null));
      const kind = vantageEvidence(seen[v.rank]?.storedAt ?? null, others, v.intervalMs);
      if (kind === 'disagreed') keepWitness(id);
      if (kind) note(kind, id, 'vantage');
    } finally {
      lookups--;
    }
  };
  let timer: TimerHandle | null = null;
  const tick = () => {
    for (const spec of o.canaries) void probeOnce(spec, 'canary');
    let witnesses = 0;
    if (watch.quarantined) {
      for (const id of watch.witnesses(QUARANTINE_WITNESSES)) {
        const spec = isCanaryId(id) ? undefined : (o.specOf(id) ?? witnessSpecs.get(id));
        if (!spec) watch.forget(id);
        else {
          witnesses++;
          void probeOnce(spec, 'witness');
        }
      }
    }
    const c = watch.tick(o.clock.monotonic(), witnesses + o.canaries.length > 0);
    if (c) announce(c);
    timer = o.clock.setTimeout(tick, o.canaryIntervalMs);
  };
  if (!off) timer = o.clock.setTimeout(tick, o.canaryIntervalMs);
  o.metrics.quarantined.set(0);
  return {
    quarantined: () => watch.quarantined,
    holdsVerdicts: () => watch.quarantined && !o.refused(),
    observe: (id, ok, reason, confirmation, vantage) => {
      if (off) return;
      if (!ok && reason !== 'inconclusive' && !confirmation && vantage && vantage.replicas > 1) return void compareVantages(id, vantage);
      const kind = evidenceOf(ok, reason, confirmation);
      if (kind === 'disagreed') keepWitness(id);
      if (kind) note(kind, id, 'check');
    },
    stop: () => {
      if (timer !== null) o.clock.clearTimeout(timer);
    },
  };
}
