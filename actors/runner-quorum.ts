// The shard primary's side of quorum (issue 13 §1): the check runner at rank 0 holds a
// QuorumTable (protocol/quorum-table.ts) beside its CheckTable and carries out what it decides —
// subscribe to `<prefix>.result.<id>` of each check with replicas > 1, read the stored combined
// verdict, publish `<prefix>.status.<id>` and store `<prefix>._resume.<id>.quorum`. Each hook below
// is called where the check table is (runner-directives.ts, runner-handover.ts, check-runner.ts);
// at other ranks `ctx.quorum` is null and every hook does nothing.

import type { NormalizedSpec } from '../checks/spec';
import { verdictChangeLevel } from '../protocol/check-messages';
import type { QuorumRecord } from '../protocol/quorum-record';
import type { QuorumDirective, QuorumNow } from '../protocol/quorum-table';
import type { ReleasedCheck, ResultMessage } from '../protocol/records';
import type { RunnerContext, RunnerEvent } from './runner-ports';

/**
 * Whether this node may announce a combined verdict now: not while its timer queue is held (a
 * pause: every vantage would look stale to it) nor while its NATS link is cut. Results are still
 * kept meanwhile; the next result or due slot evaluates, so a change is deferred, never lost.
 */
function canAnnounce(ctx: RunnerContext): boolean {
  return ctx.ports.canPublishVerdicts ? ctx.ports.canPublishVerdicts() : !ctx.ports.queue.isHeld;
}

function nowOf(ctx: RunnerContext): QuorumNow {
  const { clock } = ctx.ports;
  return { now: clock.monotonic(), wall: clock.now(), epoch: ctx.table.epoch };
}

export function carryOutQuorum(ctx: RunnerContext, directives: QuorumDirective[]): void {
  const { ports } = ctx;
  for (const d of directives) {
    switch (d.type) {
      case 'listen':
        if (!ctx.quorumUnsubs.has(d.id)) ctx.quorumUnsubs.set(d.id, ports.bus.subscribe(ports.subjects.result(d.id), (m) => ctx.send({ type: 'VANTAGE_RESULT', id: d.id, raw: m.json() })));
        break;
      case 'unlisten':
        ctx.quorumUnsubs.get(d.id)?.();
        ctx.quorumUnsubs.delete(d.id);
        break;
      case 'lookupQuorum':
        if (!ports.quorumRecords) void Promise.resolve().then(() => ctx.send({ type: 'QUORUM_RESUMED', id: d.id, record: null }));
        else
          ports.quorumRecords.last(d.id, (err, record) => {
            if (err) ctx.log.warn({ event: 'quorum_resume_failed', check: d.id, err }, 'could not read the stored combined verdict; combining from unknown');
            ctx.send({ type: 'QUORUM_RESUMED', id: d.id, record });
          });
        break;
      case 'quorumStatus': {
        const { msg } = d;
        // A change not published is announced again by the next evaluation (quorum-table.ts unannounced).
        ports.publish(ports.subjects.status(msg.checkId), msg, () => ctx.quorum?.unannounced(msg.checkId, msg));
        ports.publish(ports.subjects.quorumState(msg.checkId), d.record);
        ports.metrics.published.inc({ type: 'status' });
        const fields = { check: msg.checkId, from: msg.from, to: msg.to, seq: msg.seq, epoch: msg.epoch, quorum: msg.quorum };
        if (msg.from !== msg.to) {
          ports.metrics.transitions.inc({ to: msg.to });
          ctx.log[verdictChangeLevel(msg.from, msg.to)]({ event: 'verdict_changed', ...fields, reason: msg.reason }, 'combined verdict changed');
        } else if (!msg.quorum.formed) ctx.log.warn({ event: 'quorum_not_formed', ...fields }, 'the quorum cannot be formed: keeping the previous verdict');
        else ctx.log.info({ event: 'quorum_formed', ...fields }, 'the quorum is formed again');
        break;
      }
      case 'quorumIgnored':
        break;
      default: {
        const never: never = d;
        throw new Error(`unknown quorum directive ${JSON.stringify(never)}`);
      }
    }
  }
}

/** A check was added or changed (`released`: continued from a release, which may carry its combined verdict). */
export function quorumSet(ctx: RunnerContext, spec: NormalizedSpec, released?: ReleasedCheck): void {
  if (!ctx.quorum) return;
  const now = ctx.ports.clock.monotonic();
  carryOutQuorum(ctx, released ? ctx.quorum.setReleased(spec, released.quorum, now) : ctx.quorum.set(spec, now));
}

export function quorumRemove(ctx: RunnerContext, id: string): void {
  if (ctx.quorum) carryOutQuorum(ctx, ctx.quorum.remove(id));
}

/** A due slot of `id` here, or a result this node published: combine again. */
export function quorumDue(ctx: RunnerContext, id: string): void {
  if (ctx.quorum?.has(id) && canAnnounce(ctx)) carryOutQuorum(ctx, ctx.quorum.evaluate(id, nowOf(ctx)));
}

export function quorumOwnResult(ctx: RunnerContext, msg: ResultMessage): void {
  if (ctx.quorum?.has(msg.checkId)) carryOutQuorum(ctx, ctx.quorum.heard(msg.checkId, msg, nowOf(ctx), canAnnounce(ctx)));
}

/** A provisional taker's release (we were held dead): continue past the combined verdict it announced, if it got further. */
export function quorumAdopt(ctx: RunnerContext, id: string, q: QuorumRecord): void {
  ctx.quorum?.adopt(id, q);
}

/** The quorum events of a probing primary. */
export function applyQuorumEvent(ctx: RunnerContext, event: RunnerEvent): void {
  if (!ctx.quorum) return;
  if (event.type === 'VANTAGE_RESULT') carryOutQuorum(ctx, ctx.quorum.heard(event.id, event.raw, nowOf(ctx), canAnnounce(ctx)));
  if (event.type === 'QUORUM_RESUMED') carryOutQuorum(ctx, ctx.quorum.restored(event.id, event.record, nowOf(ctx), canAnnounce(ctx)));
}

/** The released checks with their combined verdicts (a primary's release). */
export function withQuorum(ctx: RunnerContext, checks: ReleasedCheck[]): ReleasedCheck[] {
  const kept = ctx.quorumReleased;
  if (!kept || kept.size === 0) return checks;
  return checks.map((c) => {
    const q = kept.get(c.id);
    return q ? { ...c, quorum: q } : c;
  });
}

/** Stop combining (the runner stops scheduling): the verdicts are kept for the release. */
export function quorumStop(ctx: RunnerContext): void {
  if (!ctx.quorum) return;
  if (ctx.quorum.size > 0) ctx.quorumReleased = ctx.quorum.release();
  carryOutQuorum(ctx, ctx.quorum.clear());
}
