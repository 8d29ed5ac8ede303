// The combined verdicts a shard's primary keeps (issue 13 §1): the pure core of quorum. The
// primary's check runner (rank 0) holds one QuorumTable beside its CheckTable; for every check of
// the shard with replicas > 1 it listens to `<prefix>.result.<id>`, keeps each vantage's newest
// result by (epoch, seq) with its own monotonic receive time, and re-evaluates on each result and
// on each of its own due slots (so a vantage going silent is noticed). Every method returns
// directives for the runner to carry out (actors/runner-quorum.ts); no I/O, no clock.
//
// Lifecycle of one check's combined verdict:
//   set / setReleased ──▶ restoring (a release carried it: restored at once; else the stored
//   record `<prefix>._resume.<id>.quorum` is looked up) ──restored──▶ combining
//   combining: a change of the verdict, or of whether the quorum is formed ──▶ `quorumStatus`
//   (the status message and the record to store); nothing is announced while restoring, so a
//   new primary never announces `unknown → up` for a check whose verdict was already up.

import type { NormalizedSpec } from '../checks/spec';
import { combine, isNewer, STALE_INTERVALS, parseVantageResult, type QuorumCounts, type QuorumVerdict, type VantageResult, type VantageStatus } from './quorum';
import { withGroup } from './panic-groups';
import type { QuorumRecord } from './quorum-record';
import type { QuorumStatusMessage } from './records';
import { longestInterval } from './state-interval';

export type QuorumDirective =
  /** Hear every vantage's results of the check. */
  | { type: 'listen'; id: string }
  | { type: 'unlisten'; id: string }
  /** Read the stored combined verdict (no release carried it). */
  | { type: 'lookupQuorum'; id: string }
  /** Publish the status message, then store the record. */
  | { type: 'quorumStatus'; msg: QuorumStatusMessage; record: QuorumRecord }
  /** A deliberate no-op, named so tests tell them apart. */
  | { type: 'quorumIgnored'; id: string; why: 'notCombined' | 'malformed' | 'notNewer' | 'restoring' };

/** The combining node's instant: monotonic (staleness), wall (the message's `at`, display only) and its epoch. */
export interface QuorumNow {
  now: number;
  wall: number;
  epoch: number;
}

interface QuorumEntry {
  spec: NormalizedSpec;
  /** Newest result per rank. */
  latest: (VantageResult | undefined)[];
  /** The combined verdict last announced (or restored). */
  verdict: VantageStatus;
  formed: boolean;
  seq: number;
  restored: boolean;
  /** When this node began hearing the check (monotonic): a quorum is called lost only once every vantage had time to report. */
  since: number;
}

/** Whether a check's vantages are combined (one vantage: its own verdict is the status, as before). */
export function combinesVantages(spec: Pick<NormalizedSpec, 'replicas'>): boolean {
  return spec.replicas > 1;
}

export class QuorumTable {
  private readonly checks = new Map<string, QuorumEntry>();

  /** `groupLabel`: LOOKOUT_PANIC_GROUP_LABEL — a combined status names the check's group (panic-groups.ts). */
  constructor(
    private readonly nodeId: string,
    private readonly groupLabel = '',
  ) {}

  get size(): number {
    return this.checks.size;
  }

  has(id: string): boolean {
    return this.checks.has(id);
  }

  /** The combined verdict last announced (or restored) of `id`: 'unknown' before one, or for a check not combined here. */
  verdictOf(id: string): VantageStatus {
    return this.checks.get(id)?.verdict ?? 'unknown';
  }

  /** Add a check or change its spec (from the result stream: its stored record is looked up). */
  set(spec: NormalizedSpec, now: number): QuorumDirective[] {
    if (!combinesVantages(spec)) return this.remove(spec.id);
    const e = this.checks.get(spec.id);
    if (e) {
      e.spec = spec;
      return [];
    }
    this.checks.set(spec.id, { spec, latest: [], verdict: 'unknown', formed: true, seq: 0, restored: false, since: now });
    return [{ type: 'listen', id: spec.id }, { type: 'lookupQuorum', id: spec.id }];
  }

  /** Add a check continued from a release: its combined verdict comes with it when the holder was the primary. */
  setReleased(spec: NormalizedSpec, q: QuorumRecord | undefined, now: number): QuorumDirective[] {
    if (!combinesVantages(spec)) return [];
    if (!q) return this.set(spec, now);
    this.checks.set(spec.id, { spec, latest: [], verdict: q.status, formed: q.formed, seq: q.seq, restored: true, since: now });
    return [{ type: 'listen', id: spec.id }];
  }

  remove(id: string): QuorumDirective[] {
    return this.checks.delete(id) ? [{ type: 'unlisten', id }] : [];
  }

  /** Stop combining (the slot is released or the node stops). */
  clear(): QuorumDirective[] {
    const out: QuorumDirective[] = [];
    for (const id of this.checks.keys()) out.push({ type: 'unlisten', id });
    this.checks.clear();
    return out;
  }

  /**
   * A result heard on `<prefix>.result.<id>` (hostile input) or published by this node. `evaluate`
   * false: only keep it (the node cannot publish now; the next evaluation decides).
   */
  heard(id: string, raw: unknown, at: QuorumNow, evaluate = true): QuorumDirective[] {
    const e = this.checks.get(id);
    if (!e) return [{ type: 'quorumIgnored', id, why: 'notCombined' }];
    const r = parseVantageResult(raw, id, at.now);
    if (!r) return [{ type: 'quorumIgnored', id, why: 'malformed' }];
    if (!isNewer(r, e.latest[r.vantage])) return [{ type: 'quorumIgnored', id, why: 'notNewer' }];
    // One node is one vantage: after a map moved it to another rank, its result under the old rank
    // must not count a second time (nor may its late result under the old rank displace the new).
    for (let k = 0; k < e.latest.length; k++) {
      const other = e.latest[k];
      if (k === r.vantage || other?.node !== r.node) continue;
      if (other.epoch > r.epoch) return [{ type: 'quorumIgnored', id, why: 'notNewer' }];
      e.latest[k] = undefined;
    }
    e.latest[r.vantage] = r;
    return evaluate ? this.evaluate(id, at) : [];
  }

  /** The stored record was read (null: none, or unreadable); a record the table already went past is ignored. */
  restored(id: string, record: QuorumRecord | null, at: QuorumNow, evaluate = true): QuorumDirective[] {
    const e = this.checks.get(id);
    if (!e || e.restored) return [];
    e.restored = true;
    if (record && record.seq >= e.seq) ({ status: e.verdict, seq: e.seq, formed: e.formed } = record);
    return evaluate ? this.evaluate(id, at) : [];
  }

  /**
   * Another primary combined this check meanwhile (a provisional taker's release, protocol/overlap.ts):
   * continue past what it announced when it got further, so no combined seq repeats and a change
   * it announced is not announced again. True when taken.
   */
  adopt(id: string, q: QuorumRecord): boolean {
    const e = this.checks.get(id);
    if (!e || q.seq <= e.seq) return false;
    ({ status: e.verdict, seq: e.seq, formed: e.formed } = q);
    e.restored = true;
    return true;
  }

  /** Combine the vantages now (on each result, and on each due slot of the check here). */
  evaluate(id: string, at: QuorumNow): QuorumDirective[] {
    const e = this.checks.get(id);
    if (!e) return [];
    if (!e.restored) return [{ type: 'quorumIgnored', id, why: 'restoring' }];
    // Each vantage runs at the interval of its own verdict state (state-interval.ts): its results are
    // fresh for STALE_INTERVALS of the longest one any vantage may run at.
    const interval = longestInterval(e.spec);
    const c = combine({ replicas: e.spec.replicas, quorum: e.spec.quorum, intervalMs: interval, latest: e.latest, now: at.now, previous: e.verdict });
    if (c.verdict === 'unknown') return []; // nothing formed yet: nothing to announce or hold
    // Losing the quorum is announced only once every vantage had STALE_INTERVALS intervals to report here.
    const warm = at.now - e.since > STALE_INTERVALS * interval;
    const formedChanged = e.verdict !== 'unknown' && c.counts.formed !== e.formed && (c.counts.formed || warm);
    if (c.verdict === e.verdict && !formedChanged) return [];
    const msg = withGroup(statusOf(id, e.verdict, c.verdict, c.counts, c, { ...at, seq: e.seq + 1, node: this.nodeId }), e.spec, this.groupLabel);
    e.verdict = c.verdict;
    e.formed = c.counts.formed;
    e.seq++;
    return [{ type: 'quorumStatus', msg, record: { status: c.verdict, seq: e.seq, formed: e.formed } }];
  }

  /**
   * A combined status message of `id` never went out (the publish gate dropped it when its batch was
   * written): when it is still the newest announced, the table steps back to what subscribers last
   * heard — its verdict, its seq (no one saw this one), and the quorum's formed state when only that
   * changed — so the next evaluation announces the change again (check-table.ts unannounced).
   */
  unannounced(id: string, msg: Pick<QuorumStatusMessage, 'from' | 'to' | 'seq' | 'quorum'>): void {
    const e = this.checks.get(id);
    if (!e || e.seq !== msg.seq || e.verdict !== msg.to) return;
    if (msg.from === msg.to) e.formed = !msg.quorum.formed;
    e.verdict = msg.from;
    e.seq--;
  }

  /** What a release carries per check: its combined verdict, once there is one. */
  release(): Map<string, QuorumRecord> {
    const out = new Map<string, QuorumRecord>();
    for (const [id, e] of this.checks) if (e.restored && e.verdict !== 'unknown') out.set(id, { status: e.verdict, seq: e.seq, formed: e.formed });
    return out;
  }
}

function statusOf(
  id: string,
  from: VantageStatus,
  to: QuorumVerdict,
  counts: QuorumCounts,
  c: ReturnType<typeof combine>,
  by: QuorumNow & { seq: number; node: string },
): QuorumStatusMessage {
  const down = to === 'down' && c.cause;
  return {
    checkId: id,
    from,
    to,
    at: new Date(by.wall).toISOString(),
    node: by.node,
    epoch: by.epoch,
    seq: by.seq,
    reason: down ? c.cause!.reason : null,
    message: down ? c.cause!.message : null,
    quorum: counts,
    vantages: c.vantages,
  };
}
