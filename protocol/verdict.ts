// Verdict policies: turn a stream of probe outcomes into an up/down verdict. Pure functions.
//
// State is the current verdict plus the recent outcomes, newest last, as a string of '1' (pass)
// and '0' (fail), at most HISTORY_MAX long. Both policies read the same state, so a policy change
// or a handover between nodes needs nothing but (status, history), which every published result
// carries.
//
// window (Varnish): up when at least `threshold` of the last `window` probes passed. `initial`
//   pre-fills that many passes at start (the rest of the window counts as not passed), so with
//   the default initial = threshold - 1 a new check starts down and one pass makes it up.
// consecutive (HAProxy, Consul): an up check goes down after `fall` consecutive failures; a down
//   check goes up after `rise` consecutive passes; `initial` is the verdict before any probe.

import type { NormalizedPolicy } from '../checks/spec';
import { StringShare } from './string-share';

export type Verdict = 'up' | 'down';

export const HISTORY_MAX = 64;

/**
 * The histories checks hold, one copy of each value (protocol/string-share.ts): 100k healthy checks
 * spell the same few. Every state this module returns carries a shared history.
 */
export const sharedHistories = new StringShare();

export interface VerdictState {
  status: Verdict;
  /** Recent outcomes, oldest first: '1' pass, '0' fail. */
  history: string;
}

export function initialVerdict(p: NormalizedPolicy): VerdictState {
  if (p.type === 'window') {
    const history = sharedHistories.share('0'.repeat(p.window - p.initial) + '1'.repeat(p.initial));
    return { status: p.initial >= p.threshold ? 'up' : 'down', history };
  }
  return { status: p.initialUp ? 'up' : 'down', history: '' };
}

function countPasses(history: string, last: number): number {
  let n = 0;
  for (let i = Math.max(0, history.length - last); i < history.length; i++) if (history.charCodeAt(i) === 49) n++;
  return n;
}

/** How many of the newest outcomes equal `c` in a row. */
function tailRun(history: string, c: '0' | '1'): number {
  let n = 0;
  for (let i = history.length - 1; i >= 0 && history[i] === c; i--) n++;
  return n;
}

/** Apply one probe outcome; returns the new state (the input is not modified). */
export function applyOutcome(p: NormalizedPolicy, s: VerdictState, ok: boolean): VerdictState {
  const full = s.history + (ok ? '1' : '0');
  const history = sharedHistories.share(full.length > HISTORY_MAX ? full.slice(full.length - HISTORY_MAX) : full);
  let status: Verdict;
  switch (p.type) {
    case 'window':
      status = countPasses(history, p.window) >= p.threshold ? 'up' : 'down';
      break;
    case 'consecutive':
      if (s.status === 'up') status = tailRun(history, '0') >= p.fall ? 'down' : 'up';
      else status = tailRun(history, '1') >= p.rise ? 'up' : 'down';
      break;
    default: {
      const never: never = p.type;
      throw new Error(`unknown policy ${String(never)}`);
    }
  }
  return { status, history };
}

/** Accept a state carried by a message from another node, or null if it is malformed. */
export function parseVerdictState(status: unknown, history: unknown): VerdictState | null {
  if ((status !== 'up' && status !== 'down') || typeof history !== 'string') return null;
  if (history.length > HISTORY_MAX || !/^[01]*$/.test(history)) return null;
  return { status, history: sharedHistories.share(history) };
}
