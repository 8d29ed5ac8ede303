// Presets (issue 15): named bundles of probe timing and verdict policy, so a spec can say
// `"preset": "medium"` instead of tuning intervalMs, timeoutMs and the window policy by hand —
// Fastly's health-check "Check frequency" presets (docs.fastly.com/en/guides/working-with-health-checks:
// Low, one probe a minute, healthy when 1 of 2 pass; Medium, every 15 s, 3 of 5; High, every 2 s;
// High's window and threshold, 7 of 10, and all the timeouts are Lookout's choice).
//
// A preset supplies defaults only. It takes the place of the CheckSpec defaults (SPEC_DEFAULTS)
// in the very same formulas, field by field, and whatever the spec sets explicitly wins:
//
//   intervalMs = spec.intervalMs        ?? base.intervalMs
//   timeoutMs  = spec.timeoutMs         ?? min(base.timeoutMs, shortest interval - 1)
//                (the shortest of intervalMs, intervalWhileTransitioningMs, intervalWhileDownMs;
//                no preset sets the two state-dependent intervals)
//   window     = spec.policy.window     ?? base.window          (window policy, or no policy)
//   threshold  = spec.policy.threshold  ?? min(base.threshold, window)
//   initial    = spec.policy.initial    ?? threshold - 1        (never a preset value: a new check
//                                                                starts down, its first pass is up)
//
// where `base` is the preset's row, or SPEC_DEFAULTS without a preset. A `consecutive` policy is
// another kind of policy: it replaces the preset's window policy as a whole (rise and fall keep
// their own defaults). The stored spec keeps `preset` as the user wrote it; normalizeSpec expands it
// (checks/spec.ts) and validation compares against the same expansion (checks/validate.ts), so the
// cross-field rules (timeoutMs < intervalMs, maxLatencyMs < timeoutMs, threshold and initial <=
// window) hold after expansion and their errors name the preset when it supplied the other side.
//
// The rows are part of CheckSpec v1: every node of every version must expand a stored spec to the
// same NormalizedSpec, so a row never changes (test/unit/spec-presets.test.ts pins them). A
// different tuning is a new preset name.
import { SPEC_DEFAULTS } from './spec-limits';

/** The preset names, in the order of the README's table (and the JSON Schema's enum). */
export const PRESET_NAMES = ['low', 'medium', 'high'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** The numbers a preset (or the absence of one) supplies: the constants of the default formulas. */
export interface SpecBase {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly window: number;
  readonly threshold: number;
}

/**
 * The presets. Each timeout leaves room for a slow answer without letting one probe overlap the
 * next; each window is a few intervals long, so the window times the interval says how long a
 * verdict takes to turn.
 */
export const SPEC_PRESETS: Readonly<Record<PresetName, SpecBase>> = Object.freeze({
  /** Probe rarely and tolerate blips: every minute, up while 1 of the last 2 passed (Fastly Low). Down after two failures in a row (about 2 min); a 10 s timeout forgives a slow answer. */
  low: Object.freeze({ intervalMs: 60_000, timeoutMs: 10_000, window: 2, threshold: 1 }),
  /** Every 15 s, up while 3 of the last 5 passed (Fastly Medium): down after 3 failures within 75 s; 5 s timeout. */
  medium: Object.freeze({ intervalMs: 15_000, timeoutMs: 5_000, window: 5, threshold: 3 }),
  /** Probe often and react fast: every 2 s (Fastly High), up while 7 of the last 10 passed: down after 4 failures within 20 s; a 1 s timeout counts a slow answer as a failure. */
  high: Object.freeze({ intervalMs: 2_000, timeoutMs: 1_000, window: 10, threshold: 7 }),
});

const NO_PRESET: SpecBase = Object.freeze({
  intervalMs: SPEC_DEFAULTS.intervalMs,
  timeoutMs: SPEC_DEFAULTS.timeoutMs,
  window: SPEC_DEFAULTS.window,
  threshold: SPEC_DEFAULTS.threshold,
});

/** The constants a spec's defaults come from: its preset's row, or SPEC_DEFAULTS. */
export function baseOf(preset: PresetName | undefined): SpecBase {
  return preset === undefined ? NO_PRESET : SPEC_PRESETS[preset];
}

/** The part of a spec expansion reads (a CheckSpec, or the fields a validator has checked so far). */
export interface TimingFields {
  preset?: PresetName;
  intervalMs?: number;
  intervalWhileTransitioningMs?: number;
  intervalWhileDownMs?: number;
  timeoutMs?: number;
}

/** The state-dependent interval fields (protocol/state-interval.ts), in schema order. */
export const STATE_INTERVAL_FIELDS = ['intervalWhileTransitioningMs', 'intervalWhileDownMs'] as const;

/** The effective intervalMs. */
export function effectiveInterval(s: TimingFields): number {
  return s.intervalMs ?? baseOf(s.preset).intervalMs;
}

/**
 * The shortest interval the spec can run at and the field that says so: intervalMs, or a
 * state-dependent interval below it. A probe's timeout must fit it (a timeout fits each interval).
 */
export function shortestIntervalField(s: TimingFields): { ms: number; field: 'intervalMs' | (typeof STATE_INTERVAL_FIELDS)[number] } {
  let best: { ms: number; field: 'intervalMs' | (typeof STATE_INTERVAL_FIELDS)[number] } = { ms: effectiveInterval(s), field: 'intervalMs' };
  for (const field of STATE_INTERVAL_FIELDS) {
    const ms = s[field];
    if (ms !== undefined && ms < best.ms) best = { ms, field };
  }
  return best;
}

/** The effective timeoutMs: min(base timeout, shortest interval - 1) unless given. */
export function effectiveTimeout(s: TimingFields): number {
  return s.timeoutMs ?? Math.min(baseOf(s.preset).timeoutMs, shortestIntervalField(s).ms - 1);
}

/** The parts of a window policy a spec may leave out. */
export interface WindowFields {
  window?: number;
  threshold?: number;
  initial?: number;
}

/** The effective window, threshold and initial of a window policy (or of a spec without a policy). */
export function effectiveWindow(p: WindowFields | undefined, preset: PresetName | undefined): Required<WindowFields> {
  const base = baseOf(preset);
  const window = p?.window ?? base.window;
  const threshold = p?.threshold ?? Math.min(base.threshold, window);
  const initial = p?.initial ?? threshold - 1;
  return { window, threshold, initial };
}

/**
 * Where a value the spec left out came from, for error messages: `, the default` or
 * `, from preset high`; '' when the spec gave it (`given`).
 */
export function originNote(given: boolean, preset: PresetName | undefined): string {
  if (given) return '';
  return preset === undefined ? ', the default' : `, from preset ${preset}`;
}

/** originNote for the effective timeout, which the shortest interval may have cut to that interval - 1. */
export function timeoutNote(s: TimingFields): string {
  if (s.timeoutMs !== undefined) return '';
  if (effectiveTimeout(s) < baseOf(s.preset).timeoutMs) return `, ${shortestIntervalField(s).field} - 1`;
  return originNote(false, s.preset);
}
