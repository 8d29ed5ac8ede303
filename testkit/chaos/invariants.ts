// The chaos suite's invariant checker: one table row per scenario, decided from three logs the
// harness recorded — the target's hits (check id, arrival time on the target's monotonic clock: the
// one clock that judges gaps), the messages the cluster published (results and status changes, in
// the order one subscriber received them) and the nodes' log events (pino `event` lines). Pure: no
// I/O, no clock; the harness (harness.ts) gathers the input.
//
//   gap          longest time a check went without a hit at the target, inside the measured window
//                (its edges count: a gap open when the window opens runs from the hit before it, and
//                a check never hit again has a gap up to the window's end); after a crash it may be
//                at most interval + 5 s
//   missed slots intervals of a check's slot grid inside the window without a hit. After a planned
//                move (a graceful leave or join) there may be none: no gap longer than one interval,
//                judged on the grid so that a probe the machine's load started late (it arrives late
//                in its own slot's interval) is not taken for a missed slot
//   duplicates   hits beyond the first in one interval of the check's slot grid (slot k's interval
//                is [phase + k·I, phase + (k+1)·I) in wall time, read off the target's clock: a probe
//                started late, even by most of an interval, still falls in its own slot's interval;
//                a catch-up probe rejoins the grid at least half an interval later, so it shares an
//                interval with no grid probe); `uncounted` is what the nodes' own count
//                (`lookout_duplicate_runs_total`, or the probes of their `handover_late_probes`
//                events, whichever is larger) does not explain
//   seq repeats  a (check, vantage) result with a seq an earlier, different result already had
//   epoch regr.  a (check, vantage) result with a higher seq but a lower epoch than the result
//                before it in seq order: ordering by (epoch, seq) and by seq disagree
//   spurious down status changes to `down` (the target never fails); failed probes are counted too
//   specs lost   ids put (and acknowledged) that the cluster no longer lists at the end
//   leaders/term distinct nodes that logged `leader_elected` with the same term (must be ≤ 1)
// Messages are counted when received inside the window (the results before it are the history a
// seq repeat or an epoch regression is judged against).

import { phaseOf } from '../../protocol/hash';

/** One request the target received. */
export interface Hit {
  check: string;
  /** Arrival, ms on the target's monotonic clock. */
  t: number;
}

/** The fields of a result message the checker reads, plus when the subscriber received it. */
export interface ResultRecord {
  checkId: string;
  node: string;
  epoch: number;
  seq: number;
  vantage?: number;
  slot: number;
  ok: boolean;
  at?: string;
  /** Receipt, ms on the harness's monotonic clock. */
  t: number;
}

export interface StatusRecord {
  checkId: string;
  from: string;
  to: string;
  node: string;
  epoch: number;
  seq: number;
  t: number;
}

/** A node's log line (pino JSON) with an `event`, and which node and when the harness read it. */
export interface LogEvent {
  node: string;
  event: string;
  t: number;
  [field: string]: unknown;
}

export interface ChaosInput {
  scenario: string;
  profile: string;
  intervalMs: number;
  /** Every check put (and acknowledged) for the scenario. */
  checks: readonly string[];
  /** The measured window (ms, the harness's monotonic clock): gaps and duplicates are judged in it. */
  window: { from: number; to: number };
  /** Wall-clock ms at the monotonic clock's 0 (performance.timeOrigin): places hits on the slot grid. */
  wallAtZero: number;
  /** A check's phase on the slot grid (default: the product's, protocol/hash.ts). */
  phaseOf?: (checkId: string, intervalMs: number) => number;
  /** 'crash': a gap may be up to `gapBoundMs`; 'planned': no slot may be missed. */
  move: 'crash' | 'planned';
  /** Longest gap allowed between two hits of a check after a crash. */
  gapBoundMs: number;
  hits: readonly Hit[];
  results: readonly ResultRecord[];
  statuses: readonly StatusRecord[];
  events: readonly LogEvent[];
  /** Ids the cluster listed at the end; null when the listing failed (then every spec counts as lost). */
  specsAtEnd: readonly string[] | null;
  /** Sum over every node process of its last scraped `lookout_duplicate_runs_total`. */
  duplicateRunsMetric: number;
}

export interface ChaosRow {
  scenario: string;
  profile: string;
  checks: number;
  maxGapMs: number;
  /** The gap bound after a crash; null for a planned move (judged on missed slots). */
  gapBoundMs: number | null;
  /** Slots of the grid without a hit, over every check. */
  missedSlots: number;
  /** Checks whose longest gap exceeds the bound (a crash), or with a missed slot (a planned move). */
  checksOverBound: number;
  duplicates: number;
  countedDuplicates: number;
  uncountedDuplicates: number;
  seqRepeats: number;
  epochRegressions: number;
  spuriousDown: number;
  failedProbes: number;
  specsLost: number;
  maxLeadersPerTerm: number;
  /** Names of the invariants this row breaks (empty: the scenario holds). */
  broken: string[];
  /** A few examples per broken invariant, for a failure message. */
  examples: string[];
}

/** After a crash (SIGKILL, pause, lost link or server): a check runs again within interval + 5 s. */
export const CRASH_FAILOVER_MS = 5000;
export function crashGapBound(intervalMs: number): number {
  return intervalMs + CRASH_FAILOVER_MS;
}

function groupBy<T>(xs: readonly T[], key: (x: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const list = out.get(k);
    if (list) list.push(x);
    else out.set(k, [x]);
  }
  return out;
}

const ms = (x: number) => `${Math.round(x)} ms`;

export interface Grid {
  intervalMs: number;
  wallAtZero: number;
  phaseOf: (checkId: string, intervalMs: number) => number;
}

/** Longest gap and duplicate hits per check inside the window. */
export function hitStats(hits: readonly Hit[], checks: readonly string[], window: { from: number; to: number }, grid: Grid) {
  const { intervalMs } = grid;
  const byCheck = groupBy(
    hits.filter((h) => h.t <= window.to),
    (h) => h.check,
  );
  const perCheck = checks.map((check) => {
    const all = (byCheck.get(check) ?? []).map((h) => h.t).sort((a, b) => a - b);
    const ts = all.filter((t) => t >= window.from);
    // A gap open when the window opens runs from the check's last hit before it.
    const before = all.filter((t) => t < window.from).at(-1) ?? window.from;
    let maxGap = 0;
    let gapFrom = before;
    let prev = before;
    const phase = grid.phaseOf(check, intervalMs);
    const cellOf = (t: number) => Math.floor((grid.wallAtZero + t - phase) / intervalMs);
    const cells = new Set<number>();
    let duplicates = 0;
    for (const t of ts) {
      if (t - prev > maxGap) [maxGap, gapFrom] = [t - prev, prev];
      const cell = cellOf(t);
      if (cells.has(cell)) duplicates++;
      cells.add(cell);
      prev = t;
    }
    if (window.to - prev > maxGap) [maxGap, gapFrom] = [window.to - prev, prev];
    // The whole slots inside the window; the last one's probe may still be on its way at the end.
    const missed: number[] = [];
    for (let c = cellOf(window.from) + 1; c <= cellOf(window.to) - 2; c++) if (!cells.has(c)) missed.push(c);
    const missedAt = missed.map((c) => c * intervalMs + phase - grid.wallAtZero - window.from);
    return { check, maxGap, gapFrom: gapFrom - window.from, duplicates, hits: ts.length, missed: missed.length, missedAt };
  });
  return perCheck;
}

/** Seq repeats and epoch regressions per (check, vantage). */
export function orderStats(results: readonly ResultRecord[], window: { from: number; to: number } = { from: -Infinity, to: Infinity }) {
  const inWindow = (r: ResultRecord) => r.t >= window.from && r.t <= window.to;
  const examples: { seq: string[]; epoch: string[] } = { seq: [], epoch: [] };
  let seqRepeats = 0;
  let epochRegressions = 0;
  for (const [key, rs] of groupBy(results, (r) => `${r.checkId}#${r.vantage ?? 0}`)) {
    const seen = new Map<number, ResultRecord>();
    for (const r of [...rs].sort((a, b) => a.t - b.t)) {
      const before = seen.get(r.seq);
      // The same message received twice is not a second probe.
      if (before && inWindow(r) && !(before.node === r.node && before.slot === r.slot && before.epoch === r.epoch)) {
        seqRepeats++;
        if (examples.seq.length < 3) examples.seq.push(`${key}: seq ${r.seq} from ${before.node} e${before.epoch} and ${r.node} e${r.epoch}`);
      }
      if (!before) seen.set(r.seq, r);
    }
    const bySeq = [...seen.values()].sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < bySeq.length; i++) {
      const [a, b] = [bySeq[i - 1]!, bySeq[i]!];
      if (b.epoch < a.epoch && (inWindow(a) || inWindow(b))) {
        epochRegressions++;
        if (examples.epoch.length < 3) examples.epoch.push(`${key}: ${a.node} e${a.epoch}:s${a.seq} then ${b.node} e${b.epoch}:s${b.seq}`);
      }
    }
  }
  return { seqRepeats, epochRegressions, examples };
}

/** Distinct nodes that logged `leader_elected` per term. */
export function leadersPerTerm(events: readonly LogEvent[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const e of events) {
    if (e.event !== 'leader_elected' || typeof e.term !== 'number') continue;
    const set = out.get(e.term) ?? new Set<string>();
    set.add(e.node);
    out.set(e.term, set);
  }
  return out;
}

/** Duplicates the nodes counted themselves: the metric, or the `handover_late_probes` events. */
export function countedDuplicates(events: readonly LogEvent[], metric: number): number {
  const fromEvents = events.filter((e) => e.event === 'handover_late_probes').reduce((n, e) => n + (typeof e.probes === 'number' ? e.probes : 0), 0);
  return Math.max(fromEvents, metric);
}

export function checkInvariants(input: ChaosInput): ChaosRow {
  const perCheck = hitStats(input.hits, input.checks, input.window, { intervalMs: input.intervalMs, wallAtZero: input.wallAtZero, phaseOf: input.phaseOf ?? phaseOf });
  const maxGap = Math.max(0, ...perCheck.map((c) => c.maxGap));
  const planned = input.move === 'planned';
  const over = perCheck.filter((c) => (planned ? c.missed > 0 : c.maxGap > input.gapBoundMs));
  const duplicates = perCheck.reduce((n, c) => n + c.duplicates, 0);
  const counted = countedDuplicates(input.events, input.duplicateRunsMetric);
  const order = orderStats(input.results, input.window);
  const inWindow = (x: { t: number }) => x.t >= input.window.from && x.t <= input.window.to;
  const down = input.statuses.filter((s) => s.to === 'down' && inWindow(s));
  const failed = input.results.filter((r) => !r.ok && inWindow(r));
  const listed = input.specsAtEnd ? new Set(input.specsAtEnd) : new Set<string>();
  const lost = input.checks.filter((id) => !listed.has(id));
  const terms = leadersPerTerm(input.events);
  const maxLeaders = Math.max(0, ...[...terms.values()].map((s) => s.size));

  const row: ChaosRow = {
    scenario: input.scenario,
    profile: input.profile,
    checks: input.checks.length,
    maxGapMs: Math.round(maxGap),
    gapBoundMs: planned ? null : input.gapBoundMs,
    missedSlots: perCheck.reduce((n, c) => n + c.missed, 0),
    checksOverBound: over.length,
    duplicates,
    countedDuplicates: counted,
    uncountedDuplicates: Math.max(0, duplicates - counted),
    seqRepeats: order.seqRepeats,
    epochRegressions: order.epochRegressions,
    spuriousDown: down.length,
    failedProbes: failed.length,
    specsLost: lost.length,
    maxLeadersPerTerm: maxLeaders,
    broken: [],
    examples: [],
  };
  const broke = (name: string, examples: string[]) => {
    row.broken.push(name);
    row.examples.push(...examples.slice(0, 3).map((e) => `${name}: ${e}`));
  };
  if (over.length) {
    const top = [...over].sort((a, b) => b.maxGap - a.maxGap);
    const slots = (c: (typeof perCheck)[number]) => (c.missed ? `; ${c.missed} slot(s) missed, the first ${ms(c.missedAt[0]!)} into the window` : '');
    const from = (c: (typeof perCheck)[number]) => (c.gapFrom < 0 ? `${ms(-c.gapFrom)} before the window opened` : `${ms(c.gapFrom)} into the window`);
    broke('gap', top.map((c) => `${c.check} unprobed ${ms(c.maxGap)} from ${from(c)} (${c.hits} hits in the window${slots(c)})`));
  }
  if (row.uncountedDuplicates > 0) {
    broke('duplicates', perCheck.filter((c) => c.duplicates > 0).map((c) => `${c.check}: ${c.duplicates} extra probe(s); nodes counted ${counted} in all`));
  }
  if (order.seqRepeats > 0) broke('seq', order.examples.seq);
  if (order.epochRegressions > 0) broke('epoch', order.examples.epoch);
  if (down.length) broke('down', down.map((s) => `${s.checkId}: ${s.from} → down by ${s.node} e${s.epoch}:s${s.seq}`));
  if (lost.length) broke('specs', input.specsAtEnd ? lost.map((id) => `${id} not listed`) : ['the spec list could not be read']);
  if (maxLeaders > 1) broke('leaders', [...terms].filter(([, s]) => s.size > 1).map(([term, s]) => `term ${term}: ${[...s].join(', ')}`));
  return row;
}
