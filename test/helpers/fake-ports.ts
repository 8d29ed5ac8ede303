// Fakes for the check runner's ports: a manual clock, probes whose outcomes the test decides and
// releases, a publish that records, a result history in memory. Unit tests only.

import pino from 'pino';
import { createActor } from 'xstate';
import { checkRunnerMachine, type RunnerPorts, type RunnerStart } from '../../actors/check-runner';
import type { ResumeState } from '../../protocol/records';
import type { ProbeOutcome } from '../../checks/outcome';
import type { NormalizedSpec } from '../../checks/spec';
import type { StopSignal } from '../../checks/probe-stop';
import { CatchUpPacer } from '../../protocol/catch-up-pacer';
import { ManualClock } from '../../runtime/clock';
import { createMetrics } from '../../runtime/metrics';
import { subjects } from '../../runtime/subjects';
import { TimerQueue } from '../../runtime/timer-queue';
import { FakeHub } from './fake-bus';

export interface PendingProbe {
  spec: NormalizedSpec;
  startedAt: number;
  signal: StopSignal;
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
  /** The bus the runner claims and releases on (shared with other FakePorts given the same hub). */
  hub: FakeHub;
  released: string[];
  /** When set, every probe resolves at once with this outcome for its check. */
  auto: ((spec: NormalizedSpec) => ProbeOutcome) | null;
  /** When set, a publish on a subject it accepts is dropped as the node's publish gate would drop it (not recorded; its producer told). */
  gateDrops: ((subject: string) => boolean) | null;
  settle(): Promise<void>;
  /** Every log line the runner wrote (parsed pino JSON, level info and up). */
  logs: Record<string, unknown>[];
}

export function fakePorts(opts: { start?: number; jitterMs?: number; graceMs?: number; hub?: FakeHub; nodeId?: string; claimWaitMs?: number } = {}): FakePorts {
  const clock = new ManualClock(opts.start ?? 1_700_000_000_000);
  const hub = opts.hub ?? new FakeHub();
  const nodeId = opts.nodeId ?? 'n1';
  const f: FakePorts = {
    clock,
    hub,
    pending: [],
    published: [],
    history: new Map(),
    released: [],
    logs: [],
    auto: null,
    gateDrops: null,
    settle: async () => {
      for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
    },
    ports: undefined as unknown as RunnerPorts,
  };
  const bus = hub.connect(nodeId);
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
    publish: (subject, msg, onDropped) => {
      if (f.gateDrops?.(subject)) {
        onDropped?.();
        return;
      }
      f.published.push({ subject, msg: JSON.parse(JSON.stringify(msg)) });
      bus.publish(subject, msg);
    },
    bus,
    instance: `i-${nodeId}`,
    claimWaitMs: opts.claimWaitMs ?? 1000,
    history: { last: (id, _rank, _perVantage, done) => void Promise.resolve().then(() => done(id, null, f.history.get(id) ?? null)), forget: () => {} },
    subjects: subjects('lookout'),
    metrics: createMetrics(),
    log: pino({ level: 'info' }, { write: (line: string) => void f.logs.push(JSON.parse(line) as Record<string, unknown>) }),
    nodeId,
    jitterMs: opts.jitterMs ?? 0,
    random: () => 0.5,
    graceMs: opts.graceMs ?? 1000,
    release: (id) => f.released.push(id),
    catchUps: new CatchUpPacer(1000),
  };
  return f;
}

/** Start one check runner (shard 0, rank 0, generation 1, epoch 7) on the fake ports. */
export function startRunner(f: FakePorts, specs: NormalizedSpec[], start: RunnerStart = { type: 'fresh' }) {
  const actor = createActor(checkRunnerMachine, { input: { shard: 0, rank: 0, gen: 1, epoch: 7, specs, start, ports: f.ports }, clock: f.clock });
  actor.start();
  return actor;
}

/** One interval per outcome: every probe due in it answers ok, or fails with `reason`. */
export async function probeRounds(f: FakePorts, intervalMs: number, outcomes: readonly ('ok' | 'fail')[], reason: ProbeOutcome['reason'] = 'status'): Promise<void> {
  for (const o of outcomes) {
    f.auto = () => (o === 'ok' ? pass() : failWith(reason));
    f.clock.advance(intervalMs);
    await f.settle();
  }
}
