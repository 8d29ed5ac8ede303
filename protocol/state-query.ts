// The state API's requests (pure): what `<prefix>.state.list` and `<prefix>.state.history.<id>`
// accept, with a clear error (code, message, field path) for anything else. Every size is bounded:
// a list answers at most STATE_LIST_MAX_LIMIT states and examines at most STATE_LIST_SCAN ids per
// request — with a verdict filter it reads the state of at most STATE_LIST_STATE_READS of them —
// (the rest is behind the `next` cursor), so no request can keep a node busy for long.

import { SpecErrorCode, type SpecErrorBody } from '../checks/spec-error';
import { CHECK_ID_PATTERN } from '../checks/spec';
import { COUNTED_VERDICTS, isCountedVerdict, type CountedVerdict } from './verdict-counts';

export const STATE_LIST_DEFAULT_LIMIT = 100;
export const STATE_LIST_MAX_LIMIT = 500;
/** Ids one list request examines at most (a label filter reads each one's spec). */
export const STATE_LIST_SCAN = 2000;
/**
 * States one list request reads at most when it filters by verdict (each is a look-up in the
 * transition and result streams): as many as an unfiltered request of the largest limit reads.
 */
export const STATE_LIST_STATE_READS = 500;
/** Labels a list may filter on at once. */
export const STATE_LIST_MAX_LABELS = 16;
/** Longest label key or value a filter may name (a spec's own labels are bounded alike). */
export const STATE_LABEL_MAX_CHARS = 256;

export interface StateListQuery {
  /** Only ids that start with this. */
  prefix: string | null;
  /** Only checks whose labels include every one of these. */
  labels: Record<string, string>;
  /** Only checks with this verdict (read from each one's state). */
  verdict: CountedVerdict | null;
  /** Continue after this id (a previous answer's `next`). */
  after: string | null;
  limit: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: SpecErrorBody };

const fail = <T>(code: SpecErrorBody['code'], message: string, path = ''): Parsed<T> => ({ ok: false, error: { code, message, path } });

/** The JSON object of a request body (empty: `{}`). */
export function bodyObject(payload: Uint8Array): Parsed<Record<string, unknown>> {
  if (payload.length === 0) return { ok: true, value: {} };
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return fail(SpecErrorCode.invalid_json, 'request body must be JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return fail(SpecErrorCode.not_object, 'request body must be a JSON object');
  return { ok: true, value: body as Record<string, unknown> };
}

/** A verdict filter's error (a bounded slice of what was sent is never repeated). */
export const VERDICT_FILTER_MESSAGE = `"verdict" must be one of ${COUNTED_VERDICTS.join(', ')}`;

/** `state.list` body: {"prefix"?: string, "labels"?: {k: v}, "verdict"?: name, "after"?: id, "limit"?: 1..500}. */
export function parseStateList(payload: Uint8Array): Parsed<StateListQuery> {
  const b = bodyObject(payload);
  if (!b.ok) return b;
  const q: StateListQuery = { prefix: null, labels: {}, verdict: null, after: null, limit: STATE_LIST_DEFAULT_LIMIT };
  for (const [k, v] of Object.entries(b.value)) {
    switch (k) {
      case 'prefix':
        if (typeof v !== 'string') return fail(SpecErrorCode.type, '"prefix" must be a string', 'prefix');
        if (v.length > 128 || !/^[A-Za-z0-9_-]*$/.test(v)) return fail(SpecErrorCode.format, '"prefix" must be the start of a check id (^[A-Za-z0-9_-]{0,128}$)', 'prefix');
        q.prefix = v;
        break;
      case 'labels': {
        if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(SpecErrorCode.not_object, '"labels" must be an object of strings', 'labels');
        const entries = Object.entries(v);
        if (entries.length > STATE_LIST_MAX_LABELS) return fail(SpecErrorCode.range, `"labels" may name at most ${STATE_LIST_MAX_LABELS} labels`, 'labels');
        for (const [lk, lv] of entries) {
          if (typeof lv !== 'string') return fail(SpecErrorCode.type, `label "${lk.slice(0, 64)}" must be a string`, `labels.${lk.slice(0, 64)}`);
          if (lk.length > STATE_LABEL_MAX_CHARS || lv.length > STATE_LABEL_MAX_CHARS) return fail(SpecErrorCode.range, `label keys and values are at most ${STATE_LABEL_MAX_CHARS} characters`, `labels.${lk.slice(0, 64)}`);
          q.labels[lk] = lv;
        }
        break;
      }
      case 'verdict':
        if (!isCountedVerdict(v)) return fail(SpecErrorCode.enum, VERDICT_FILTER_MESSAGE, 'verdict');
        q.verdict = v;
        break;
      case 'after':
        if (typeof v !== 'string' || !CHECK_ID_PATTERN.test(v)) return fail(SpecErrorCode.invalid_id, '"after" must be a check id (a previous answer\'s "next")', 'after');
        q.after = v;
        break;
      case 'limit':
        if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > STATE_LIST_MAX_LIMIT) return fail(SpecErrorCode.range, `"limit" must be an integer from 1 to ${STATE_LIST_MAX_LIMIT}`, 'limit');
        q.limit = v;
        break;
      default:
        return fail(SpecErrorCode.unknown_field, `unknown field "${k.slice(0, 64)}" in state list request`, k.slice(0, 64));
    }
  }
  return { ok: true, value: q };
}

/** Does a spec's labels include every label of the filter? */
export function labelsMatch(labels: Readonly<Record<string, string>> | undefined, want: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(want)) if (labels?.[k] !== v) return false;
  return true;
}

/** The grain of a history's `series`: the rollup period's, the fine period's, or fine when the range allows. */
export const SeriesGrain = { coarse: 'coarse', fine: 'fine', auto: 'auto' } as const;
export type SeriesGrain = (typeof SeriesGrain)[keyof typeof SeriesGrain];

export interface HistoryQuery {
  /** Changes stored at or after this (ms since the Unix epoch); default: 24 h before now. */
  fromMs: number;
  /** ... and at or before this; default: now. */
  toMs: number;
  /** The series' grain; default coarse (the rollup period: what clients before the fine grain got). */
  grain: SeriesGrain;
}

/** `state.history.<id>` body: {"from"?: ISO-8601, "to"?: ISO-8601, "grain"?: "coarse"|"fine"|"auto"}, from ≤ to. */
export function parseHistory(payload: Uint8Array, nowMs: number): Parsed<HistoryQuery> {
  const b = bodyObject(payload);
  if (!b.ok) return b;
  const q: HistoryQuery = { fromMs: nowMs - 24 * 3600_000, toMs: nowMs, grain: SeriesGrain.coarse };
  for (const [k, v] of Object.entries(b.value)) {
    if (k === 'grain') {
      if (typeof v !== 'string' || !Object.hasOwn(SeriesGrain, v)) return fail(SpecErrorCode.enum, '"grain" must be one of coarse, fine, auto', 'grain');
      q.grain = v as SeriesGrain;
      continue;
    }
    if (k !== 'from' && k !== 'to') return fail(SpecErrorCode.unknown_field, `unknown field "${k.slice(0, 64)}" in history request`, k.slice(0, 64));
    const t = typeof v === 'string' && v.length <= 64 ? Date.parse(v) : NaN;
    if (!Number.isFinite(t)) return fail(SpecErrorCode.format, `"${k}" must be an ISO-8601 time, e.g. 2026-11-30T12:00:00Z`, k);
    if (k === 'from') q.fromMs = t;
    else q.toMs = t;
  }
  if (q.fromMs > q.toMs) return fail(SpecErrorCode.range, '"from" must not be after "to"', 'from');
  return { ok: true, value: q };
}
