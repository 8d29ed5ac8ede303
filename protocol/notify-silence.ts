// Silences (maintenance windows) of a notifier: a window opens at every run of its cron pattern,
// read in its time zone by croner (`new Cron(pattern, {timezone})`, evaluated only: no timer is
// ever started), and stays open `durationMs`. A notification whose job is handled while a window
// is open is suppressed. Wall time is what a maintenance window is made of: it is read by the one
// node that handles the job, once, and passed in here as `atMs` — nothing here reads a clock.

import { Cron } from 'croner';
import { NOTIFIER_DEFAULTS, type Silence } from './notifier';

/** An open window: which silence, and when it closes. */
export interface OpenSilence {
  index: number;
  silence: Silence;
  startsAt: string;
  endsAt: string;
}

/** The next window of a silence: for the status page. */
export interface UpcomingSilence {
  index: number;
  silence: Silence;
  startsAt: string | null;
}

/** The pattern evaluated in its zone (default UTC); throws what croner throws on a bad pattern or zone. */
export function cronOf(s: Pick<Silence, 'cron' | 'timezone'>): Cron {
  return new Cron(s.cron, { timezone: s.timezone ?? NOTIFIER_DEFAULTS.timezone });
}

/**
 * The window of `s` open at `atMs`, if any: the latest run at or before `atMs` (croner's
 * previousRuns is strictly before its reference, so the reference is 1 ms later), if the window
 * it opened has not closed yet. With windows longer than the pattern's period, the latest run's
 * window is the one that closes last.
 */
export function openWindow(s: Silence, atMs: number): { startMs: number; endMs: number } | null {
  const [run] = cronOf(s).previousRuns(1, new Date(atMs + 1));
  if (!run) return null;
  const startMs = run.getTime();
  return startMs + s.durationMs > atMs ? { startMs, endMs: startMs + s.durationMs } : null;
}

/** The open window of `silences` at `atMs` that closes last, or null. */
export function silencedAt(silences: readonly Silence[], atMs: number): OpenSilence | null {
  let best: OpenSilence | null = null;
  let bestEnd = -Infinity;
  silences.forEach((silence, index) => {
    const w = openWindow(silence, atMs);
    if (w && w.endMs > bestEnd) {
      bestEnd = w.endMs;
      best = { index, silence, startsAt: new Date(w.startMs).toISOString(), endsAt: new Date(w.endMs).toISOString() };
    }
  });
  return best;
}

/** When each silence next opens after `atMs` (null: never again). */
export function upcomingSilences(silences: readonly Silence[], atMs: number): UpcomingSilence[] {
  return silences.map((silence, index) => {
    const next = cronOf(silence).nextRun(new Date(atMs));
    return { index, silence, startsAt: next ? next.toISOString() : null };
  });
}

/**
 * Why `s` cannot be a silence (a pattern croner refuses, an unknown zone, or — when `atMs` is given:
 * a new document — a pattern that never runs after `atMs`), or undefined.
 */
export function silenceProblem(s: Pick<Silence, 'cron' | 'timezone'>, atMs: number | null): { field: 'cron' | 'timezone'; message: string } | undefined {
  if (s.timezone !== undefined && !isTimeZone(s.timezone)) return { field: 'timezone', message: `${JSON.stringify(s.timezone)} is not an IANA time zone (e.g. "Europe/Berlin", "UTC")` };
  let cron: Cron;
  try {
    cron = cronOf(s);
  } catch (err) {
    return { field: 'cron', message: `not a cron pattern croner reads: ${(err as Error).message}` };
  }
  try {
    if (atMs !== null && !cron.nextRun(new Date(atMs))) return { field: 'cron', message: 'the pattern never runs again (no window would ever open)' };
  } catch (err) {
    return { field: 'cron', message: `the pattern cannot be evaluated: ${(err as Error).message}` };
  }
  return undefined;
}

/** An IANA zone name Intl knows. */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
