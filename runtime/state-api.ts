// The state API: what a check's verdict is, since when, its last result and last failure, and its
// uptime and verdict changes, for anyone who asks — not only for subscribers that were listening.
// Served by every node in one queue group (each request is answered by one node), from what the
// cluster stored: the transition stream (runtime/transition-store.ts), the result stream and the
// spec bucket; the rules are protocol/check-state.ts, the request shapes protocol/state-query.ts.
//
//   <prefix>.state.get.<id>      → {ok, state}
//   <prefix>.state.list          {prefix?, labels?, verdict?, after?, limit?} → {ok, states, next, scanned}
//   <prefix>.state.history.<id>  {from?, to?, grain?} → {ok, checkId, verdict, uptime and probes (counts,
//                                latency percentiles from the rollups) per 24h / 7d / 30d, range, changes,
//                                series: the rollups of the range period by period (protocol/rollup-series.ts),
//                                and grain: the series' (coarse: the rollup period; fine: the fine period)}
//
// At most LOOKOUT_STATE_MAX_IN_FLIGHT requests are worked on at once per node; beyond that a
// request is answered `unavailable` with retryAfterMs at once (the probes come first).

import { SpecErrorCode } from '../checks/spec-error';
import { checkState, uptimeOf, UPTIME_WINDOWS, type CheckState } from '../protocol/check-state';
import { labelsMatch, parseHistory, parseStateList, STATE_LIST_SCAN, STATE_LIST_STATE_READS } from '../protocol/state-query';
import type { Bus, BusMsg } from './bus';
import type { Clock } from './clock';
import type { Logger } from './logger';
import type { StoredSpec } from './store';
import { isValidCheckId, type Subjects } from './subjects';
import type { CheckHistory } from './transition-store';
import type { RollupRecords } from './rollup-store';
import { summarize } from '../protocol/rollup';
import { pickSeries, wantsFine } from '../protocol/rollup-series';

export const stateApiQueue = (s: Subjects) => `${s.prefix}-state-api`;
/** Requests one node works on at once. */
export const STATE_MAX_IN_FLIGHT = 16;
/** Ids asked of the spec bucket at once while a list scans. */
const LIST_PAGE = 500;
/** What a refused request is told to wait. */
const RETRY_AFTER_MS = 200;

/** The spec bucket as the state API reads it (runtime/shard-spec-store.ts). */
export interface StateSpecs {
  get(id: string): Promise<StoredSpec | null>;
  list(after: string | null, limit: number): Promise<{ ids: string[]; next: string | null }>;
}

export interface StateApiOptions {
  bus: Bus;
  subjects: Subjects;
  history: CheckHistory;
  /** Per-period rollups of the probes (latency, counts): runtime/rollup-store.ts. */
  rollups: RollupRecords;
  /** The fine grain's rollups (LOOKOUT_ROLLUP_FINE_PERIOD_MS), read only for a fine series. */
  fineRollups: RollupRecords;
  /** How far back the fine rollups reach (LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS; 0: the fine grain is off here). */
  fineMaxAgeMs: number;
  specs: StateSpecs;
  clock: Clock;
  /** How far back the transition stream keeps changes (LOOKOUT_TRANSITIONS_MAX_AGE_MS). */
  transitionsMaxAgeMs: number;
  log: Logger;
}

type Reply = Record<string, unknown> & { ok: boolean };
const fail = (code: string, message: string, path = ''): Reply => ({ ok: false, error: { code, message, path } });

/** The state of one stored check. */
export async function stateOf(h: CheckHistory, id: string): Promise<CheckState> {
  const [change, results] = await Promise.all([h.lastChange(id), h.results(id)]);
  return checkState(id, change, results);
}

export function startStateApi(o: StateApiOptions): () => void {
  const s = o.subjects;
  let inFlight = 0;

  const get = async (id: string): Promise<Reply> => {
    if (!(await o.specs.get(id))) return fail(SpecErrorCode.not_found, `no check with id ${id}`, 'id');
    return { ok: true, state: await stateOf(o.history, id) };
  };

  const list = async (payload: Uint8Array): Promise<Reply> => {
    const q = parseStateList(payload);
    if (!q.ok) return { ok: false, error: q.error };
    const { prefix, labels, verdict, limit } = q.value;
    const wantLabels = Object.keys(labels).length > 0;
    const states: CheckState[] = [];
    let after = q.value.after;
    let scanned = 0;
    let reads = 0;
    let exhausted = false;
    // A verdict filter reads each candidate's state: at most STATE_LIST_STATE_READS per request.
    const more = () => states.length < limit && scanned < STATE_LIST_SCAN && (verdict === null || reads < STATE_LIST_STATE_READS);
    while (more()) {
      const page = await o.specs.list(after, Math.min(LIST_PAGE, STATE_LIST_SCAN - scanned));
      let i = 0;
      for (; i < page.ids.length && more(); i++) {
        const id = page.ids[i]!;
        scanned++;
        after = id;
        if (prefix && !id.startsWith(prefix)) continue;
        if (wantLabels && !labelsMatch((await o.specs.get(id))?.spec.labels, labels)) continue;
        const state = await stateOf(o.history, id);
        reads++;
        if (verdict === null || state.verdict === verdict) states.push(state);
      }
      if (i === page.ids.length && page.next === null) exhausted = true;
      if (exhausted || page.ids.length === 0) break;
    }
    const next = exhausted ? null : after;
    return { ok: true, states, next, scanned };
  };

  /** Uptime over the last 24 h, 7 d and 30 d, and the changes in [from, to], from every retained change. */
  const history = async (id: string, payload: Uint8Array): Promise<Reply> => {
    const now = o.clock.now();
    const q = parseHistory(payload, now);
    if (!q.ok) return { ok: false, error: q.error };
    if (!(await o.specs.get(id))) return fail(SpecErrorCode.not_found, `no check with id ${id}`, 'id');
    const ask = { grain: q.value.grain, fromMs: q.value.fromMs, toMs: q.value.toMs, nowMs: now, fineMaxAgeMs: o.fineMaxAgeMs };
    const [changes, results, rollups, fine] = await Promise.all([o.history.changes(id), o.history.results(id), o.rollups.of(id), wantsFine(ask) ? o.fineRollups.of(id) : []]);
    const state = checkState(id, changes.at(-1) ?? null, results);
    const uptime = Object.fromEntries(
      UPTIME_WINDOWS.map((w) => [w.name, { ...uptimeOf(changes, now - w.ms, now, state.verdict, w.ms <= o.transitionsMaxAgeMs), retainedFully: w.ms <= o.transitionsMaxAgeMs }]),
    );
    // Probes and latency from the rollups of the periods that ended (the current one is not in them).
    const probes = Object.fromEntries(UPTIME_WINDOWS.map((w) => [w.name, summarize(rollups, now - w.ms, now)]));
    const inRange = changes.filter((c) => c.storedAt >= q.value.fromMs && c.storedAt <= q.value.toMs);
    return {
      ok: true,
      checkId: id,
      verdict: state.verdict,
      since: state.since,
      uptime,
      probes,
      from: new Date(q.value.fromMs).toISOString(),
      to: new Date(q.value.toMs).toISOString(),
      range: { ...uptimeOf(changes, q.value.fromMs, q.value.toMs, state.verdict, now - q.value.fromMs <= o.transitionsMaxAgeMs), probes: summarize(rollups, q.value.fromMs, q.value.toMs) },
      changes: inRange.map((c) => ({ from: c.from, to: c.to, at: c.at, storedAt: new Date(c.storedAt).toISOString(), node: c.node, reason: c.reason, message: c.message })),
      ...pickSeries(ask, rollups, fine),
    };
  };

  const answer = (m: BusMsg, work: () => Promise<Reply>) => {
    if (inFlight >= STATE_MAX_IN_FLIGHT) return m.respond({ ...fail(SpecErrorCode.unavailable, `this node is answering ${inFlight} state requests; try again`), retryAfterMs: RETRY_AFTER_MS });
    inFlight++;
    work()
      .catch((err: unknown) => {
        o.log.warn({ event: 'state_request_failed', subject: m.subject, err }, 'state request failed');
        return fail(SpecErrorCode.unavailable, `state store unavailable: ${(err as Error)?.message ?? String(err)}`);
      })
      .then((r) => m.respond(r))
      .finally(() => inFlight--);
  };

  const idFrom = (m: BusMsg, base: string): string | null => {
    const id = m.subject.slice(base.length);
    if (isValidCheckId(id)) return id;
    m.respond(fail(SpecErrorCode.invalid_id, 'check id must match ^[A-Za-z0-9_-]{1,128}$', 'id'));
    return null;
  };

  const queue = stateApiQueue(s);
  const subs = [
    o.bus.subscribe(s.stateOpWildcard('get'), (m) => {
      const id = idFrom(m, s.stateGet(''));
      if (id) answer(m, () => get(id));
    }, { queue }),
    o.bus.subscribe(s.stateList(), (m) => answer(m, () => list(m.data)), { queue }),
    o.bus.subscribe(s.stateOpWildcard('history'), (m) => {
      const id = idFrom(m, s.stateHistory(''));
      if (id) answer(m, () => history(id, m.data));
    }, { queue }),
  ];
  return () => subs.forEach((off) => off());
}
