// A probe that touches no network: it resolves `ok` after a fixed latency. For the scale
// simulation (bench/sim-1m.ts) only: it replaces the real probe of every check when the process
// environment sets LOOKOUT_BENCH_SYNTHETIC_PROBE_MS — an environment variable, not a setting (no
// flag, not in the settings table) and nothing a spec can ask for. The node logs a warning
// (`synthetic_probe`) when it is on, so a node that probes nothing real says so.

import type { Logger } from './logger';
import type { ProbeFn } from '../checks/probe';

type Probe = ProbeFn;

export const SYNTHETIC_PROBE_ENV = 'LOOKOUT_BENCH_SYNTHETIC_PROBE_MS';

/** The fixed latency asked for by the environment, or null (real probes). */
export function syntheticProbeMs(env: NodeJS.ProcessEnv): number | null {
  const raw = env[SYNTHETIC_PROBE_ENV];
  if (raw === undefined || raw === '') return null;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0 || ms > 60_000) throw new Error(`${SYNTHETIC_PROBE_ENV} must be an integer from 0 to 60000 (ms), got ${JSON.stringify(raw)}`);
  return ms;
}

/** Resolves ok after `ms` (or fails `timeout` at the spec's timeout when that is shorter, or on abort). */
export function syntheticProbe(ms: number): Probe {
  return (spec, signal) =>
    new Promise((resolve) => {
      const took = Math.min(ms, spec.timeoutMs);
      const ok = ms < spec.timeoutMs;
      const done = () => {
        signal.removeEventListener('abort', abort);
        resolve({ ok, reason: ok ? null : 'timeout', message: ok ? null : 'synthetic probe slower than the timeout', latencyMs: took, timings: { total: took } });
      };
      const timer = setTimeout(done, took);
      const abort = () => {
        clearTimeout(timer);
        resolve({ ok: false, reason: 'timeout', message: 'aborted', latencyMs: 0, timings: { total: 0 } });
      };
      signal.addEventListener('abort', abort, { once: true });
    });
}

/** `real`, unless the environment asks for the synthetic probe (then logged as a warning). */
export function probeOrSynthetic(env: NodeJS.ProcessEnv, real: Probe, log: Logger): Probe {
  const ms = syntheticProbeMs(env);
  if (ms === null) return real;
  log.warn({ event: 'synthetic_probe', env: SYNTHETIC_PROBE_ENV, latencyMs: ms }, 'BENCH ONLY: every probe is synthetic (no network)');
  return syntheticProbe(ms);
}
