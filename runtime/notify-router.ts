// Stage 1 of the delivery protocol (runtime/notify-streams.ts): every node pulls verdict changes
// from the one shared consumer on the transition stream, so each change is routed by exactly one
// node. For a change that is news (protocol/notify-match.ts), it publishes one delivery job per
// matching notifier into the jobs stream with Nats-Msg-Id = the delivery id, and acks the change
// only once JetStream stored every job. A node that dies in between leaves the change unacked:
// another node routes it again after the ack wait, and the jobs it publishes again are refused as
// duplicates within the stream's window — one job per (notifier, transition), however many nodes.
// A change that cannot be routed (the jobs stream full, the spec bucket unreachable) is offered
// again with a growing delay, and given up after ROUTE_MAX_TRIES (notify_route_failed, error).

import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { jobMsgId, newJob, JobKind } from '../protocol/notify-job';
import { deliveryId, notifiable, routeChange, statusViewOf, wantsChange } from '../protocol/notify-match';
import { encode } from './bus';
import type { Logger } from './logger';
import { jsonOf } from './pull-workers';
import type { NotifyMetrics } from './notify-metrics';
import type { NotifierCache } from './notifier-store';
import type { Subjects } from './subjects';

/** Deliveries of one change before it is given up. */
export const ROUTE_MAX_TRIES = 20;
const ROUTE_RETRY_MS = 1_000;
const ROUTE_RETRY_MAX_MS = 30_000;

export interface NotifyRouterOptions {
  js: JetStreamClient;
  subjects: Subjects;
  cache: NotifierCache;
  /** The check's labels from its spec (undefined: no spec stored). */
  labelsOf(checkId: string): Promise<Record<string, string> | undefined>;
  metrics: NotifyMetrics;
  log: Logger;
}

/** Handle one message of the route consumer: route, then ack (or nak / term). */
export function notifyRouter(o: NotifyRouterOptions): (m: JsMsg) => Promise<void> {
  const { js, subjects: s, log } = o;
  return async (m) => {
    const change = statusViewOf(jsonOf(m));
    if (!change || notifiable(change) !== null) return m.ack();
    const candidates = o.cache.all().filter((n) => wantsChange(n.on, change));
    if (candidates.length === 0) return m.ack();
    try {
      const labels = (await o.labelsOf(change.checkId)) ?? {};
      const targets = routeChange(candidates, change, labels);
      const acks = await Promise.all(
        targets.map((n) => {
          const job = newJob(JobKind.transition, n.id, deliveryId(n.id, change), change, labels);
          return js.publish(s.notifyJob(n.id, change.checkId), encode(job), { msgID: jobMsgId(job) });
        }),
      );
      const duplicates = acks.filter((a) => a.duplicate).length;
      o.metrics.routed.inc({ outcome: 'new' }, acks.length - duplicates);
      if (duplicates > 0) o.metrics.routed.inc({ outcome: 'duplicate' }, duplicates);
      if (targets.length > 0) {
        log.info({ event: 'notify_routed', check: change.checkId, from: change.from, to: change.to, epoch: change.epoch, seq: change.seq, notifiers: targets.map((n) => n.id), duplicates }, 'verdict change routed to notifiers');
      }
      m.ack();
    } catch (err) {
      const tries = m.info.deliveryCount;
      if (tries >= ROUTE_MAX_TRIES) {
        log.error({ event: 'notify_route_failed', check: change.checkId, epoch: change.epoch, seq: change.seq, tries, err }, 'a verdict change could not be routed to its notifiers: given up');
        return m.term(); // no reason: nats-server 2.9 ignores a +TERM that carries one
      }
      const delayMs = Math.min(ROUTE_RETRY_MAX_MS, ROUTE_RETRY_MS * 2 ** (tries - 1));
      log.warn({ event: 'notify_route_retry', check: change.checkId, epoch: change.epoch, seq: change.seq, tries, delayMs, err }, 'routing a verdict change failed; it is offered again');
      m.nak(delayMs);
    }
  };
}
