// Decide "every slot probed exactly once" from what the cluster published, not from when things
// arrived. Each result on `lookout.result.<id>` names the slot its probe belongs to (`slot`), the
// node and epoch, a per (check, vantage) `seq`, and how many rounds its owner skipped since the
// previous result (`skipped`: a probe still running, or a stalled process). A check's slots are a
// grid (phase + k·interval); slot k's interval is [slot k, slot k+1). Per (check, vantage):
//   every interval of the grid holds exactly one result          else a gap / a duplicate
//     (an interval the owner announced as skipped is listed, not a gap)
//   seq steps by exactly 1 from slot to slot, across owners too  else a seq break
// A probe that started in its slot and was published late is in its slot: not a gap. A catch-up
// probe (a new owner probing at once, off the grid, for a slot nobody probed) covers the interval
// it falls in and is listed in `catchUps`; the owner then rejoins the grid at least half an
// interval later, so one interval right after a catch-up may stay empty by design (not a gap).
// A node whose NATS link dropped (or that paused) says how many results it may have lost
// (`publishes_unconfirmed`, `publishes_dropped`; runtime/publish-confirm.ts): a hole between two
// results of that node whose seq numbers it consumed (probed, not delivered), around the time it
// said so, is listed in `lost` — not a gap nor a seq break — within the count it declared.
// Pure: the input is a list of result messages (or a Collector holding them).

import type { Collector } from './lookout';

/** The fields of a result message this analysis reads. */
export interface PublishedResult {
  checkId: string;
  slot: number;
  seq: number;
  node: string;
  epoch: number;
  vantage?: number;
  skipped?: number;
  at?: string;
  ok?: boolean;
}

/** Slots in [from, to). With `from`/`to` given, each series must also reach both edges. */
export interface SlotWindow {
  from?: number;
  to?: number;
}

export interface SlotReportOptions {
  /** Vantage points each check must have (default: those seen, at least vantage 0). */
  vantages?: number;
  /**
   * A node that crashed: the slots between its last result and another node's first are a
   * failover, listed in `failovers` rather than `gaps`. Seq must still continue across it.
   */
  failoverFrom?: string;
  /** The phase of a check's slot grid (protocol/hash phaseOf); default: the phase most of its results share. */
  phaseOf?: (checkId: string, intervalMs: number) => number;
  /** What the nodes declared lost (their `publishes_unconfirmed` / `publishes_dropped` lines): wall time of the line, results. */
  declaredLost?: readonly DeclaredLoss[];
}

/** A node's own word that results it probed may not have reached NATS. */
export interface DeclaredLoss {
  node: string;
  /** When it said so (ms since the epoch, its log line's time). */
  at: number;
  results: number;
}

export interface Failover {
  check: string;
  from: string;
  to: string;
  /** Slot of the new owner's first result − slot of the crashed node's last. */
  ms: number;
}

export interface SlotReport {
  /** (check, vantage) series examined. */
  series: number;
  /** Results examined (in the window). */
  results: number;
  /** (check, vantage, slot) probed more than once. */
  duplicates: string[];
  /** Slots of the grid no result covers and no skip announced: unprobed. */
  gaps: string[];
  /** Consecutive results whose seq does not step by one. */
  seqBreaks: string[];
  /** Rounds the owner announced as skipped (`skipped` > 0): counted, not gaps. */
  skipped: string[];
  /** With `failoverFrom`: each handover from the crashed node to a survivor. */
  failovers: Failover[];
  /** Off-grid results: catch-up probes, each standing for the slot whose interval it falls in. */
  catchUps: string[];
  /** Holes the nodes' declared losses explain (seq consumed by the same node, at the time it said so, within its count). */
  lost: string[];
  /** Check ids with a duplicate, gap or seq break (first offender first). */
  offenders: string[];
}

const resultsOf = (events: Collector | readonly PublishedResult[]): readonly PublishedResult[] => ('results' in events ? (events.results() as PublishedResult[]) : events);

/** "hh:mm:ss.mmm" (UTC) of a ms timestamp: short enough for a failure message. */
export const clockTime = (ms: number): string => new Date(ms).toISOString().slice(11, 23);

const who = (r: PublishedResult): string => `${r.node} e${r.epoch} seq ${r.seq}`;
const mod = (x: number, m: number): number => ((x % m) + m) % m;

/** The most frequent value (the first seen on a tie). */
function majority(xs: readonly number[]): number {
  const count = new Map<number, number>();
  let best = xs[0]!;
  for (const x of xs) {
    const c = (count.get(x) ?? 0) + 1;
    count.set(x, c);
    if (c > count.get(best)!) best = x;
  }
  return best;
}

export function slotReportFromResults(
  events: Collector | readonly PublishedResult[],
  ids: readonly string[],
  intervalMs: number,
  window: SlotWindow = {},
  opts: SlotReportOptions = {},
): SlotReport {
  const from = window.from ?? -Infinity;
  const to = window.to ?? Infinity;
  const wanted = new Set(ids);
  const series = new Map<string, PublishedResult[]>();
  for (const id of ids) for (let v = 0; v < (opts.vantages ?? 1); v++) series.set(`${id}#${v}`, []);
  let results = 0;
  // Each series' first result after the window: it may announce rounds skipped at the window's end.
  const after = new Map<string, PublishedResult>();
  for (const r of resultsOf(events)) {
    if (wanted.has(r.checkId) && r.slot >= to) {
      const key = `${r.checkId}#${r.vantage ?? 0}`;
      const seen = after.get(key);
      if (!seen || r.slot < seen.slot) after.set(key, r);
    }
    if (!wanted.has(r.checkId) || r.slot < from || r.slot >= to) continue;
    const key = `${r.checkId}#${r.vantage ?? 0}`;
    let list = series.get(key);
    if (!list) series.set(key, (list = []));
    list.push(r);
    results++;
  }
  const report: SlotReport = { series: series.size, results, duplicates: [], gaps: [], seqBreaks: [], skipped: [], failovers: [], catchUps: [], lost: [], offenders: [] };
  // What each node declared lost, still unspent; a hole is explained by a declaration of its node
  // made between the slot before the hole and one interval after the slot that ends it.
  const declared = (opts.declaredLost ?? []).map((d) => ({ ...d }));
  const explainLoss = (a: PublishedResult, b: PublishedResult, missed: number): boolean => {
    if (a.node !== b.node || a.epoch !== b.epoch || b.seq !== a.seq + 1 + missed) return false;
    const fits = declared.filter((d) => d.node === a.node && d.at >= a.slot && d.at <= b.slot + intervalMs && d.results > 0);
    if (fits.reduce((n, d) => n + d.results, 0) < missed) return false;
    let left = missed;
    for (const d of fits) {
      const take = Math.min(left, d.results);
      d.results -= take;
      left -= take;
    }
    return true;
  };
  const offenders = new Set<string>();
  const flag = (list: string[], id: string, text: string): void => {
    list.push(text);
    offenders.add(id);
  };
  for (const [key, list] of series) {
    const [id, v] = key.split('#') as [string, string];
    const name = `${id} v${v}`;
    const rs = [...list].sort((a, b) => a.slot - b.slot || a.seq - b.seq);
    if (rs.length === 0) {
      const where = window.from !== undefined || window.to !== undefined ? ` with a slot in [${window.from !== undefined ? clockTime(from) : '…'}, ${window.to !== undefined ? clockTime(to) : '…'})` : '';
      flag(report.gaps, id, `${name}: no result${where}`);
      continue;
    }
    // The grid: the phase most results share (catch-up probes are the exceptions).
    const phase = opts.phaseOf ? mod(opts.phaseOf(id, intervalMs), intervalMs) : majority(rs.map((r) => mod(r.slot, intervalMs)));
    const cell = (r: PublishedResult) => Math.floor((r.slot - phase) / intervalMs);
    const gridSlot = (r: PublishedResult) => phase + cell(r) * intervalMs;
    const offGrid = (r: PublishedResult) => mod(r.slot, intervalMs) !== phase;
    // Edges: the series must start within one interval of `from` and end within one of `to`.
    const first = rs[0]!;
    const firstCovered = gridSlot(first) - (first.skipped ?? 0) * intervalMs;
    if (window.from !== undefined && firstCovered >= from + intervalMs) flag(report.gaps, id, `${name}: first slot ${clockTime(first.slot)} (${who(first)}) is ${first.slot - from} ms after the window opens`);
    const last = rs[rs.length - 1]!;
    // A stretch at the end that the next result (after the window) announced as skipped is not a gap.
    const next = after.get(key);
    const endCovered = next && (next.skipped ?? 0) > 0 && gridSlot(next) - next.skipped! * intervalMs <= gridSlot(last) + intervalMs;
    if (window.to !== undefined && last.slot < to - intervalMs) {
      if (endCovered) report.skipped.push(`${name}: ${next.skipped} round(s) before ${clockTime(next.slot)} (${who(next)})`);
      else flag(report.gaps, id, `${name}: last slot ${clockTime(last.slot)} (${who(last)}) is ${to - last.slot} ms before the window closes`);
    }
    if ((first.skipped ?? 0) > 0 && window.from !== undefined) report.skipped.push(`${name}: ${first.skipped} round(s) before ${clockTime(first.slot)} (${who(first)})`);
    for (const r of rs) if (offGrid(r)) report.catchUps.push(`${name}: catch-up probe at ${clockTime(r.slot)} (${who(r)}) for slot ${clockTime(gridSlot(r))}`);
    for (let i = 1; i < rs.length; i++) {
      const a = rs[i - 1]!;
      const b = rs[i]!;
      // A takeover from a node held dead skips seq numbers (check-resume.ts takeoverSeqGap): forward, never back.
      // A failover: the crashed node's last result, then a survivor's — or its own next life's under a
      // later epoch (a crash-restart whose slot a survivor held, from the stream, and released back
      // without a slot of its own to probe).
      const missed = cell(b) - cell(a) - 1;
      // The same node going on under a newer map (its leader re-elected with a new epoch, nothing
      // moved: next slot, seq by one) is the same life, not a failover.
      const sameLife = b.node === a.node && b.seq === a.seq + 1 && missed === 0;
      const takenOver = opts.failoverFrom !== undefined && a.node === opts.failoverFrom && !sameLife && (b.node !== opts.failoverFrom || b.epoch > a.epoch);
      const announced = b.skipped ?? 0;
      if (!takenOver && missed > announced && explainLoss(a, b, missed - announced)) {
        report.lost.push(`${name}: ${missed - announced} slot(s) between ${clockTime(a.slot)} (${who(a)}) and ${clockTime(b.slot)} (${who(b)}), declared lost by ${a.node}`);
        continue;
      }
      if (takenOver ? b.seq <= a.seq : b.seq !== a.seq + 1) flag(report.seqBreaks, id, `${name}: seq ${a.seq} (${a.node} e${a.epoch}, slot ${clockTime(a.slot)}) → ${b.seq} (${b.node} e${b.epoch}, slot ${clockTime(b.slot)})`);
      if (missed < 0) {
        const whoAt = (r: PublishedResult) => `${who(r)}${offGrid(r) ? ` at ${clockTime(r.slot)}` : ''}`;
        flag(report.duplicates, id, `${name}: slot ${clockTime(gridSlot(b))} probed twice (${whoAt(a)}; ${whoAt(b)})`);
        continue;
      }
      if (takenOver) {
        report.failovers.push({ check: name, from: a.node, to: b.node, ms: b.slot - a.slot });
        continue;
      }
      if (missed === 0) continue;
      if (offGrid(a) && !offGrid(b) && missed === 1) continue; // rejoining the grid after a catch-up probe
      if (missed === announced) {
        report.skipped.push(`${name}: ${announced} round(s) between ${clockTime(a.slot)} and ${clockTime(b.slot)} (${who(b)})`);
      } else {
        flag(report.gaps, id, `${name}: ${missed - announced} slot(s) unprobed between ${clockTime(a.slot)} (${who(a)}) and ${clockTime(b.slot)} (${who(b)})${announced ? `, ${announced} announced as skipped` : ''}`);
      }
    }
  }
  report.offenders = [...offenders];
  return report;
}

/** One line per result, oldest first: node, slot, start lateness, epoch:seq, vantage, skipped, ok. */
export function formatResults(rs: readonly PublishedResult[]): string {
  return rs
    .map((r) => {
      const late = r.at ? `+${Date.parse(r.at) - r.slot}ms` : '';
      return `    ${r.node} slot ${clockTime(r.slot)}${late} e${r.epoch}:${r.seq} v${r.vantage ?? 0}${r.skipped ? ` skipped ${r.skipped}` : ''}${r.ok === false ? ' FAIL' : ''}`;
    })
    .join('\n');
}

/** The last `n` results of each check (at most `checks` of them), for a failure message. */
export function lastEvents(events: Collector | readonly PublishedResult[], ids: readonly string[], n = 8, checks = 3): string {
  const all = resultsOf(events);
  return ids
    .slice(0, checks)
    .map((id) => `  last ${n} results of ${id}:\n${formatResults(all.filter((r) => r.checkId === id).slice(-n)) || '    (none)'}`)
    .join('\n');
}

/**
 * Start lateness of each result (probe start − slot, ms), from the published `at` and `slot`.
 * With `grid`, against the grid slot whose interval the result falls in, so a catch-up probe
 * (slot = when it ran) counts as late for the slot it stands for.
 */
export function lateness(rs: readonly PublishedResult[], grid?: { intervalMs: number; phaseOf: (checkId: string, intervalMs: number) => number }): number[] {
  const ref = (r: PublishedResult) => (grid ? r.slot - mod(r.slot - grid.phaseOf(r.checkId, grid.intervalMs), grid.intervalMs) : r.slot);
  return rs.filter((r) => r.at !== undefined).map((r) => Date.parse(r.at!) - ref(r));
}
