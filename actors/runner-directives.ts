// Carrying out what a check runner's table decides (protocol/check-table.ts directives): arm and
// disarm the node's shared timer queue (keyed by this runner's generation, so another runner of
// the same check on this node never moves our entries), run probes, look up the last published
// state, publish results, transitions and (replicas > 1) each vantage's resume state. One
// exhaustive switch; no decision is made here. And the way in: a probing runner's events handed
// to its table (applyEvent).

import type { ProbeOutcome } from '../checks/outcome';
import { ProbeStop } from '../checks/probe-stop';
import { maxLatencyOf, type NormalizedSpec } from '../checks/spec';
import type { Directive } from '../protocol/check-table';
import { judgeOutcome } from '../protocol/overload';
import { longestInterval } from '../protocol/state-interval';
import { groupOf } from '../protocol/panic-groups';
import { verdictChangeLevel, type VerdictHold } from '../protocol/check-messages';
import type { RunnerContext, RunnerEvent, RunnerPorts } from './runner-ports';
import { applyQuorumEvent, quorumDue, quorumOwnResult, quorumRemove, quorumSet } from './runner-quorum';
import { pushDisown, pushOwn } from './runner-push';

export function carryOut(ctx: RunnerContext, directives: Directive[]): void {
  const { ports } = ctx;
  for (const d of directives) {
    switch (d.type) {
      case 'schedule':
        ports.queue.set(d.id, d.at, ctx.due);
        ports.checkGauges?.scheduled(ctx.gen, d.id, ctx.rank);
        break;
      case 'unschedule':
        ports.queue.delete(d.id, ctx.due);
        ports.checkGauges?.unscheduled(ctx.gen, d.id);
        break;
      case 'resume':
        ports.history.last(d.id, d.rank, d.perVantage, ctx.resumed);
        break;
      case 'probe': {
        const stop = new ProbeStop();
        ctx.aborts.set(d.token, stop);
        ports.metrics.inFlight.inc();
        const started = ports.clock.monotonic();
        const startedCutOff = ports.publishGate?.cutOff() === true;
        // The node's own stall while the probe runs: a failure it may have caused is inconclusive (protocol/overload.ts).
        const stalledBefore = ports.load?.stallMs() ?? 0;
        noteProbe(ctx, d.id, d.intervalMs, ports.clock.now());
        ports
          .probe(d.spec, stop)
          .catch((err: unknown): ProbeOutcome => {
            const ms = ports.clock.monotonic() - started;
            return { ok: false, reason: 'error', message: String((err as Error)?.message ?? err), latencyMs: ms, timings: { total: ms } };
          })
          .then((measured) => {
            const outcome = ports.load ? judgeOutcome(measured, ports.load.stallMs() - stalledBefore, boundsOf(d.spec)) : measured;
            ctx.aborts.delete(d.token);
            ports.metrics.inFlight.dec();
            ports.metrics.probes.inc({ result: outcome.ok ? 'ok' : outcome.reason === 'inconclusive' ? 'inconclusive' : 'fail', reason: outcome.reason ?? 'none', kind: d.spec.kind });
            ports.metrics.probeDuration.observe({ kind: d.spec.kind }, outcome.latencyMs / 1000);
            ctx.send({ type: 'PROBE_DONE', id: d.id, token: d.token, outcome, ...(startedCutOff ? { startedCutOff } : {}) });
          });
        break;
      }
      case 'confirm':
        // A failure of a probe started while cut off stays unpublished after its confirmation too.
        confirm(ctx, d.id, d.token, d.spec, d.outcome, ctx.dropPublishes);
        break;
      case 'abort':
        ctx.aborts.get(d.token)?.abort();
        ports.release(d.id);
        break;
      case 'result':
        if (ctx.dropPublishes) {
          ports.publishGate?.dropped('result');
          break;
        }
        ports.publish(ports.subjects.result(d.msg.checkId), d.msg);
        ports.metrics.published.inc({ type: 'result' });
        if (d.msg.held === 'panic') ports.metrics.panicHeld.inc();
        ports.checkGauges?.result(ctx.gen, d.msg);
        ports.rollups?.observe(d.msg);
        quorumOwnResult(ctx, d.msg);
        break;
      case 'keepState':
        if (ctx.dropPublishes) break;
        // After its result, on the same connection: a vantage's record is never ahead of its results.
        ports.publish(ports.subjects.resumeState(d.id, d.rank), d.state);
        break;
      case 'status': {
        // A change not published is announced again with the next result (check-table.ts unannounced).
        const unannounced = () => ctx.table.unannounced(d.msg.checkId, d.msg);
        if (ctx.dropPublishes) {
          ports.publishGate?.dropped('status');
          unannounced();
          break;
        }
        ports.publish(ports.subjects.status(d.msg.checkId), d.msg, unannounced);
        ports.metrics.published.inc({ type: 'status' });
        ports.metrics.transitions.inc({ to: d.msg.to });
        ports.checkGauges?.status(ctx.gen, d.msg);
        ctx.log[verdictChangeLevel(d.msg.from, d.msg.to)]({ event: 'verdict_changed', check: d.msg.checkId, from: d.msg.from, to: d.msg.to, reason: d.msg.reason, seq: d.msg.seq, epoch: d.msg.epoch }, 'verdict changed');
        break;
      }
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

/** Another node probes once before the failure of `id` counts; the probe stays in flight (and abortable) until the answer. */
function confirm(ctx: RunnerContext, id: string, token: number, spec: NormalizedSpec, outcome: ProbeOutcome, startedCutOff: boolean): void {
  const { ports } = ctx;
  if (!ports.confirm) {
    carryOut(ctx, ctx.table.probeDone(id, token, outcome, ports.clock.now(), { by: null, outcome: 'unconfirmed', why: 'no_peer' }, verdictHold(ports, spec)));
    return;
  }
  const stop = new ProbeStop();
  ctx.aborts.set(token, stop);
  void ports.confirm(spec, stop).then((confirmation) => {
    ctx.aborts.delete(token);
    ports.metrics.confirmations.inc({ peer: confirmation.by ?? 'none', outcome: confirmation.outcome });
    const fields = { check: id, peer: confirmation.by, reason: outcome.reason, why: confirmation.why };
    if (confirmation.outcome === 'disagreed') ctx.log.info({ event: 'confirm_disagreed', ...fields }, 'another node saw the check healthy: the verdict holds');
    else ctx.log.debug({ event: 'confirm_' + confirmation.outcome, ...fields }, 'failure confirmed from elsewhere, or could not be');
    ctx.send({ type: 'PROBE_DONE', id, token, outcome, confirmation, ...(startedCutOff ? { startedCutOff } : {}) });
  });
}

/**
 * Why verdict changes of `spec` are held now: the node is quarantined (every change), the fleet or
 * the check's group panics (downs), or not. Without the spec (a pass: nothing to hold for a panic)
 * only the fleet's panic is asked.
 */
function verdictHold(ports: RunnerPorts, spec?: NormalizedSpec): VerdictHold {
  if (ports.quarantine?.holdsVerdicts()) return 'quarantine';
  const group = spec && ports.panicGroupLabel ? groupOf(spec.labels, ports.panicGroupLabel) : undefined;
  return ports.panicking?.(group) ?? false;
}

/** The bounds a probe of `spec` ran under, for judging its outcome. */
function boundsOf(spec: NormalizedSpec): { timeoutMs: number; maxLatencyMs?: number } {
  const maxLatencyMs = maxLatencyOf(spec);
  return maxLatencyMs === undefined ? { timeoutMs: spec.timeoutMs } : { timeoutMs: spec.timeoutMs, maxLatencyMs };
}

/** A probe of `id` starts at `wall` (the wall clock): extend its stretch, or start a new one after the queue was held. */
function noteProbe(ctx: RunnerContext, id: string, intervalMs: number, wall: number): void {
  const notes = ctx.table.notesOf(id);
  if (!notes) return;
  // Whole ms (rounded up: never before the slot): a fraction would box the number in every entry (BENCHMARKS.md §2).
  const at = Math.ceil(wall - ctx.wallOrigin);
  const resumes = ctx.ports.queue.resumes;
  if (notes.ranN === 0 || notes.ranResumes !== resumes) {
    notes.ranResumes = resumes;
    notes.ranFirst = at;
    notes.ranN = 0;
  }
  notes.ranLast = at;
  notes.ranN++;
  notes.ranIntervalMs = intervalMs;
}

/** Hand one event of a probing runner to its table and carry out what it decides. */
export function applyEvent(context: RunnerContext, event: RunnerEvent): void {
  const { table, ports } = context;
  const now = ports.clock.now();
  switch (event.type) {
    case 'CHECK_SET': {
      const isNew = !table.has(event.spec.id);
      carryOut(context, table.set(event.spec, now));
      quorumSet(context, event.spec);
      pushOwn(context, event.spec);
      if (isNew) ports.metrics.addChecks(1);
      break;
    }
    case 'CHECK_REMOVE':
      if (table.has(event.id)) ports.metrics.addChecks(-1);
      carryOut(context, table.remove(event.id));
      quorumRemove(context, event.id);
      pushDisown(context, event.id);
      ports.release(event.id);
      break;
    case 'DUE':
      ports.metrics.lateness.observe(Math.max(0, event.now - event.at) / 1000);
      ports.load?.noteLateness(Math.max(0, event.now - event.at));
      carryOut(context, table.due(event.id, event.now));
      quorumDue(context, event.id);
      break;
    case 'PROBE_DONE': {
      // Only a failure is weighed against the other vantages: a pass looks nothing up (one lookup and no allocation per passing probe).
      const spec = event.outcome.ok ? undefined : table.specOf(event.id);
      // Another vantage may run at this check's longest interval (a down one at intervalWhileDownMs): its record is fresh that long.
      const vantage = spec && spec.replicas > 1 ? { rank: context.rank, replicas: spec.replicas, intervalMs: longestInterval(spec) } : undefined;
      // A push check's evaluation says nothing about this node's network: no quarantine evidence.
      if (!event.startedCutOff && !event.outcome.push) ports.quarantine?.observe(event.id, event.outcome.ok, event.outcome.reason, event.confirmation, vantage);
      // A probe started while cut off: the table moves on (seq, slot), nothing of it goes out.
      if (event.startedCutOff) context.log.debug({ event: 'probe_started_cut_off', check: event.id }, 'a probe started while cut off from NATS: its result is not published');
      context.dropPublishes = event.startedCutOff === true;
      try {
        carryOut(context, table.probeDone(event.id, event.token, event.outcome, now, event.confirmation, verdictHold(ports, spec)));
      } finally {
        context.dropPublishes = false;
      }
      break;
    }
    case 'RESUMED': {
      const notes = table.notesOf(event.id);
      if (notes) notes.resumedSeq = event.state?.seq ?? 0;
      carryOut(context, table.resumed(event.id, event.state, now));
      break;
    }
    case 'EPOCH':
      // Never lower: a release taken from a provisional taker may have raised it past the node's.
      table.epoch = Math.max(table.epoch, event.epoch);
      break;
    case 'VANTAGE_RESULT':
    case 'QUORUM_RESUMED':
      applyQuorumEvent(context, event);
      break;
    default:
      break;
  }
}
