// Check runner: one actor per owned shard. It holds the shard's CheckTable and carries out what
// the table decides: arms the node's shared timer queue, runs probes, looks up the last published
// state of new checks, publishes results and transitions. No per-check actor, no per-check timer.
//
// States (what an operator reads in the logs):
//   running     — probing the shard's checks
//   handingOver — the shard was given to another node: keep probing the slots before the handover
//                 instant, none after (the new owner starts there); drain once every slot before
//                 the instant has started (however late its timer fired), not at the instant
//   draining    — the shard was lost or the node is stopping: nothing new starts; in-flight probes
//              may finish (their results are published) until the grace period ends, then they
//              are abandoned
//   stopped  — final (the parent hears xstate.done.actor.<id>)

import { setup } from 'xstate';
import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import type { CatchUpPacer } from '../protocol/catch-up-pacer';
import { CheckTable, type Directive } from '../protocol/check-table';
import type { ResumeState } from '../protocol/records';
import type { Clock } from '../runtime/clock';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import type { ResultHistory } from '../runtime/store';
import type { Subjects } from '../runtime/subjects';
import type { DueHandler, TimerQueue } from '../runtime/timer-queue';

/** Everything a runner touches outside itself. Unit tests pass fakes; the node passes NATS. */
export interface RunnerPorts {
  clock: Clock;
  queue: TimerQueue;
  probe(spec: NormalizedSpec, signal: AbortSignal): Promise<ProbeOutcome>;
  publish(subject: string, msg: unknown): void;
  history: ResultHistory;
  subjects: Subjects;
  metrics: Metrics;
  log: Logger;
  nodeId: string;
  jitterMs: number;
  random(): number;
  /** How long a draining runner waits for in-flight probes. */
  graceMs: number;
  /** A check left this runner for good (deleted): drop per-check resources such as pooled sockets. */
  release(id: string): void;
  /** Node-wide pacing of catch-up probes after a failover. */
  catchUps: CatchUpPacer;
}

export interface RunnerInput {
  shard: number;
  /** This node's rank among the shard's owners (0: the primary). */
  rank: number;
  gen: number;
  epoch: number;
  specs: NormalizedSpec[];
  /** Handover instant when the shard was just gained: the first slots are at or after it. */
  startAt?: number;
  ports: RunnerPorts;
}

export type RunnerEvent =
  | { type: 'CHECK_SET'; spec: NormalizedSpec }
  | { type: 'CHECK_REMOVE'; id: string }
  | { type: 'EPOCH'; epoch: number }
  | { type: 'DUE'; id: string; at: number; now: number }
  | { type: 'PROBE_DONE'; id: string; token: number; outcome: ProbeOutcome }
  | { type: 'RESUMED'; id: string; state: ResumeState | null }
  /** `handoverAt`: the shard moved to another node from this instant (absent: stop now). `atOnce`: stop now all the same (we were paused: no late slot runs) and count the duplicates since it. */
  | { type: 'STOP'; handoverAt?: number; atOnce?: boolean };

interface RunnerContext {
  shard: number;
  gen: number;
  ports: RunnerPorts;
  log: Logger;
  table: CheckTable;
  due: DueHandler;
  aborts: Map<number, AbortController>;
  /** Specs handed over at spawn, loaded by the entry action (a shard may hold thousands). */
  initial: NormalizedSpec[];
  startAt: number;
  /** Actor events that arrive after the actor stopped are dropped, not warned about. */
  send: (e: RunnerEvent) => void;
}

function carryOut(ctx: RunnerContext, directives: Directive[]): void {
  const { ports } = ctx;
  for (const d of directives) {
    switch (d.type) {
      case 'schedule':
        ports.queue.set(d.id, d.at, ctx.due);
        break;
      case 'unschedule':
        ports.queue.delete(d.id);
        break;
      case 'resume':
        ports.history.last(d.id, d.rank, (err, state) => {
          if (err) ctx.log.warn({ event: 'check_resume_failed', check: d.id, err }, 'could not read last result; starting the check fresh');
          ctx.send({ type: 'RESUMED', id: d.id, state });
        });
        break;
      case 'probe': {
        const ac = new AbortController();
        ctx.aborts.set(d.token, ac);
        ports.metrics.inFlight.inc();
        const started = ports.clock.monotonic();
        ports
          .probe(d.spec, ac.signal)
          .catch((err: unknown): ProbeOutcome => {
            const ms = ports.clock.monotonic() - started;
            return { ok: false, reason: 'error', message: String((err as Error)?.message ?? err), latencyMs: ms, timings: { total: ms } };
          })
          .then((outcome) => {
            ctx.aborts.delete(d.token);
            ports.metrics.inFlight.dec();
            ports.metrics.probes.inc({ result: outcome.ok ? 'ok' : 'fail', reason: outcome.reason ?? 'none', kind: d.spec.kind });
            ports.metrics.probeDuration.observe({ kind: d.spec.kind }, outcome.latencyMs / 1000);
            ctx.send({ type: 'PROBE_DONE', id: d.id, token: d.token, outcome });
          });
        break;
      }
      case 'abort':
        ctx.aborts.get(d.token)?.abort();
        ports.release(d.id);
        break;
      case 'result':
        ports.publish(ports.subjects.result(d.msg.checkId), d.msg);
        ports.metrics.published.inc({ type: 'result' });
        break;
      case 'status':
        ports.publish(ports.subjects.status(d.msg.checkId), d.msg);
        ports.metrics.published.inc({ type: 'status' });
        ports.metrics.transitions.inc({ to: d.msg.to });
        ctx.log.info({ event: 'verdict_changed', check: d.msg.checkId, from: d.msg.from, to: d.msg.to, reason: d.msg.reason, seq: d.msg.seq, epoch: d.msg.epoch }, 'verdict changed');
        break;
      case 'skipped':
        ports.metrics.skippedRounds.inc(d.count);
        ctx.log.debug({ event: 'rounds_skipped', check: d.id, slot: d.slot, count: d.count }, 'rounds skipped (previous probe still running, or the process fell behind)');
        break;
      default: {
        const never: never = d;
        throw new Error(`unknown directive ${JSON.stringify(never)}`);
      }
    }
  }
}

/**
 * How long past the handover instant (plus jitter) a runner handing over waits, at most, for its
 * last slots before the instant to fire. They normally fire within milliseconds; this bounds a
 * runner whose timer never comes (it then drains what is in flight and stops).
 */
export const HANDOVER_LATE_MS = 5_000;

/** Events a probing runner (running, handingOver) hands to its table. */
const PROBING = {
  CHECK_SET: { actions: 'apply' },
  CHECK_REMOVE: { actions: 'apply' },
  DUE: { actions: 'apply' },
  PROBE_DONE: { actions: 'apply' },
  RESUMED: { actions: 'apply' },
  EPOCH: { actions: 'apply' },
} as const;

export const checkRunnerMachine = setup({
  types: {
    context: {} as RunnerContext,
    input: {} as RunnerInput,
    events: {} as RunnerEvent,
  },
  actions: {
    load: ({ context }) => {
      const now = context.ports.clock.now();
      for (const spec of context.initial.splice(0)) carryOut(context, context.table.set(spec, now, context.startAt));
      context.ports.metrics.addChecks(context.table.size);
      context.log.debug({ event: 'runner_started', checks: context.table.size }, 'runner started');
    },
    apply: ({ context, event }) => {
      const { table, ports } = context;
      const now = ports.clock.now();
      switch (event.type) {
        case 'CHECK_SET': {
          const isNew = !table.has(event.spec.id);
          carryOut(context, table.set(event.spec, now));
          if (isNew) ports.metrics.addChecks(1);
          break;
        }
        case 'CHECK_REMOVE':
          if (table.has(event.id)) ports.metrics.addChecks(-1);
          carryOut(context, table.remove(event.id));
          ports.release(event.id);
          break;
        case 'DUE':
          ports.metrics.lateness.observe(Math.max(0, event.now - event.at) / 1000);
          carryOut(context, table.due(event.id, event.now));
          break;
        case 'PROBE_DONE':
          carryOut(context, table.probeDone(event.id, event.token, event.outcome));
          break;
        case 'RESUMED':
          carryOut(context, table.resumed(event.id, event.state, now));
          break;
        case 'EPOCH':
          table.epoch = event.epoch;
          break;
        default:
          break;
      }
    },
    handOver: ({ context, event }) => {
      if (event.type !== 'STOP' || event.handoverAt === undefined) return;
      context.table.stopAt = event.handoverAt;
      // Learned of the move late (a partition, a pause): the slots since the handover ran twice.
      const n = context.table.startsSince(event.handoverAt);
      if (n === 0) return;
      context.ports.metrics.duplicateRuns.inc(n);
      context.log.warn({ event: 'handover_late_probes', probes: n, since: new Date(event.handoverAt).toISOString() }, 'ran probes for a shard already given to another node');
    },
    stopScheduling: ({ context }) => {
      context.ports.metrics.addChecks(-context.table.size);
      carryOut(context, context.table.clear());
      context.log.debug({ event: 'runner_draining', checks: context.table.size, inFlight: context.aborts.size }, 'runner draining');
    },
    abandon: ({ context }) => {
      if (context.aborts.size > 0) context.log.warn({ event: 'probes_abandoned', abandoned: context.aborts.size }, 'grace period over: abandoning in-flight probes');
      for (const ac of context.aborts.values()) ac.abort();
    },
  },
  guards: {
    idle: ({ context }) => context.aborts.size === 0,
    handedOver: ({ context }) => context.table.stopAt === null || !context.table.hasSlotsBefore(context.table.stopAt),
    // Slots before the handover instant are still ours, however late the map reached us: a busy
    // loop may deliver the map after the instant, before the timer of a slot just before it.
    handoverLater: ({ context, event }) =>
      event.type === 'STOP' && event.handoverAt !== undefined && !event.atOnce && (event.handoverAt > context.ports.clock.now() || context.table.hasSlotsBefore(event.handoverAt)),
  },
  delays: {
    grace: ({ context }) => context.ports.graceMs,
    untilHandoverLate: ({ context }) => Math.max(0, (context.table.stopAt ?? 0) + context.ports.jitterMs + HANDOVER_LATE_MS - context.ports.clock.now()),
  },
}).createMachine({
  id: 'checkRunner',
  context: ({ input, self }) => {
    const { ports } = input;
    const table = new CheckTable({ nodeId: ports.nodeId, rank: input.rank, jitterMs: ports.jitterMs, random: ports.random, catchUps: ports.catchUps });
    table.epoch = input.epoch;
    const send = (e: RunnerEvent) => {
      if (self.getSnapshot().status === 'active') self.send(e);
    };
    return {
      shard: input.shard,
      gen: input.gen,
      ports,
      log: ports.log.child({ actor: 'check-runner', shard: input.shard, rank: input.rank }),
      table,
      due: { onDue: (id: string, at: number, now: number) => send({ type: 'DUE', id, at, now }) },
      aborts: new Map(),
      initial: [...input.specs],
      startAt: input.startAt ?? 0,
      send,
    };
  },
  initial: 'running',
  entry: 'load',
  states: {
    running: {
      on: {
        ...PROBING,
        STOP: [
          { guard: 'handoverLater', target: 'handingOver', actions: 'handOver' },
          { target: 'draining', actions: 'handOver' },
        ],
      },
    },
    handingOver: {
      entry: ({ context }) => context.log.debug({ event: 'runner_handing_over', at: context.table.stopAt }, 'handing over'),
      // Done when every slot before the handover instant has started — judged by the slots, not by
      // a timer at the instant: a slot due just before it may fire late (jitter, a busy loop).
      always: { guard: 'handedOver', target: 'draining' },
      // A backstop only: the last slots before the instant fire within jitter + lag of it.
      after: { untilHandoverLate: 'draining' },
      on: {
        ...PROBING,
        // The node stopping (after a leave's handover instant): the slots before the instant are
        // still ours and run first; `handedOver` then drains.
        STOP: {},
      },
    },
    draining: {
      entry: 'stopScheduling',
      always: { guard: 'idle', target: 'stopped' },
      after: { grace: { target: 'stopped', actions: 'abandon' } },
      on: {
        PROBE_DONE: { actions: 'apply' },
        RESUMED: { actions: 'apply' },
        EPOCH: { actions: 'apply' },
      },
    },
    stopped: {
      type: 'final',
      entry: ({ context }) => context.log.debug({ event: 'runner_stopped' }, 'runner stopped'),
    },
  },
});
