// Fakes for the check runner's ports: a manual clock, probes whose outcomes the test decides and
// releases, a publish that records, a result history in memory. Unit tests only.

import pino from 'pino';
import type { RunnerPorts } from '../../actors/check-runner';
import type { ResumeState } from '../../protocol/records';
import type { ProbeOutcome } from '../../checks/outcome';
import type { NormalizedSpec } from '../../checks/spec';
import { CatchUpPacer } from '../../protocol/catch-up-pacer';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { subjects } from '../../runtime/subjects';
import { TimerQueue } from '../../runtime/timer-queue';

export interface PendingProbe {
  spec: NormalizedSpec;
  startedAt: number;
  signal: AbortSignal;
  finish(outcome: Partial<ProbeOutcome> & { ok: boolean }): void;
}

export function pass(): ProbeOutcome {
  return { ok: true, reason: null, message: null, latencyMs: 5, timings: { total: 5 } };
}

export function failWith(reason: ProbeOutcome['reason'] = 'status'): ProbeOutcome {
  return { ok: false, reason, message: `failed: ${reason}`, latencyMs: 5, timings: { total: 5 } };
}

export interface FakePorts {
  ports: RunnerPorts;
  clock: ManualClock;
  pending: PendingProbe[];
  published: { subject: string; msg: any }[];
  history: Map<string, ResumeState>;
  released: string[];
  /** When set, every probe resolves at once with this outcome for its check. */
  auto: ((spec: NormalizedSpec) => ProbeOutcome) | null;
  settle(): Promise<void>;
}

export function fakePorts(opts: { start?: number; jitterMs?: number; graceMs?: number } = {}): FakePorts {
  const clock = new ManualClock(opts.start ?? 1_700_000_000_000);
  const f: FakePorts = {
    clock,
    pending: [],
    published: [],
    history: new Map(),
    released: [],
    auto: null,
    settle: async () => {
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    },
    ports: undefined as unknown as RunnerPorts,
  };
  f.ports = {
    clock,
    queue: new TimerQueue(clock),
    probe: (spec, signal) =>
      new Promise<ProbeOutcome>((resolve) => {
        if (f.auto) return resolve(f.auto(spec));
        const p: PendingProbe = {
          spec,
          startedAt: clock.now(),
          signal,
          finish: (o) => {
            f.pending.splice(f.pending.indexOf(p), 1);
            resolve({ ...pass(), ...o });
          },
        };
        signal.addEventListener('abort', () => p.finish({ ok: false, reason: 'error', message: 'aborted' }));
        f.pending.push(p);
      }),
    publish: (subject, msg) => f.published.push({ subject, msg: JSON.parse(JSON.stringify(msg)) }),
    history: { last: (id, _rank, done) => void Promise.resolve().then(() => done(null, f.history.get(id) ?? null)) },
    subjects: subjects('lookout'),
    metrics: createMetrics(),
    log: pino({ level: 'silent' }),
    nodeId: 'n1',
    jitterMs: opts.jitterMs ?? 0,
    random: () => 0.5,
    graceMs: opts.graceMs ?? 1000,
    release: (id) => f.released.push(id),
    catchUps: new CatchUpPacer(1000),
  };
  return f;
}
