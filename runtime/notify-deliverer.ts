// Stage 2 of the delivery protocol (runtime/notify-streams.ts): every node pulls delivery jobs
// from the one shared consumer on the jobs stream, so each job is with one node at a time. The
// decisions are protocol/notify-attempt.ts; this carries them out: call the webhook (telling
// JetStream `working` every third of the ack wait while the call runs), then ack, nak with the
// backoff (the retry's timer is JetStream's, not this node's), or publish the dead letter and ack
// (a term would leave the job in the work-queue stream on nats-server 2.9).
// A node that dies mid-call leaves the job unacked: another node gets it after the ack wait, with
// the delivery count — the attempt number — one higher.
//
// Receivers get `Lookout-Delivery` (the same on every attempt of a delivery; a reminder's is
// `<delivery>:remind:<n>`) and `Lookout-Attempt`. A node that dies after the receiver answered 2xx
// but before its ack reached JetStream makes the next node call again: one repeat, which a
// receiver can drop by its Lookout-Delivery.

import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { afterCall, onArrival, type CallOutcome } from '../protocol/notify-attempt';
import { eventOf, jobMsgId, newJob, parseJob, JobKind, type DeadLetter, type NotifyJob } from '../protocol/notify-job';
import type { StatusView } from '../protocol/notify-match';
import { renderBody } from '../protocol/notify-render';
import type { NormalizedNotifier } from '../protocol/notifier';
import { encode } from './bus';
import type { Clock } from './clock';
import type { Logger } from './logger';
import { jsonOf } from './pull-workers';
import type { NotifyMetrics } from './notify-metrics';
import type { NotifierCache } from './notifier-store';
import type { Subjects } from './subjects';
import type { WebhookCall } from './webhook';

export interface NotifyDelivererOptions {
  js: JetStreamClient;
  subjects: Subjects;
  cache: NotifierCache;
  /** The check's newest stored status message (null: none, the check was deleted). */
  latestStatus(checkId: string): Promise<StatusView | null>;
  call(call: WebhookCall): Promise<CallOutcome>;
  nodeId: string;
  userAgent: string;
  ackWaitMs: number;
  /** Aborted when the node stops: a call in progress is abandoned and its job handed back. */
  stopping: AbortSignal;
  clock: Clock;
  metrics: NotifyMetrics;
  log: Logger;
}

export function notifyDeliverer(o: NotifyDelivererOptions): (m: JsMsg) => Promise<void> {
  const { js, subjects: s, log, metrics } = o;

  const fields = (job: NotifyJob) => ({ notifier: job.notifier, check: job.transition.checkId, delivery: job.delivery, kind: job.kind, to: job.transition.to });

  const publishReminders = async (job: NotifyJob) => {
    const reminder = newJob(JobKind.reminder, job.notifier, job.delivery, job.transition, job.labels);
    try {
      await js.publish(s.notifyJob(job.notifier, job.transition.checkId), encode(reminder), { msgID: jobMsgId(reminder) });
      log.info({ event: 'notify_reminders_started', ...fields(job) }, 'reminders while the check stays down');
    } catch (err) {
      log.error({ event: 'notify_reminders_failed', ...fields(job), err }, 'could not start the reminders of this down');
    }
  };

  const deadLetter = async (job: NotifyJob, attempts: number, error: string, httpStatus: number | null) => {
    const letter: DeadLetter = { notifier: job.notifier, delivery: job.delivery, kind: job.kind, check: job.transition.checkId, attempts, error, httpStatus, transition: job.transition, at: new Date(o.clock.now()).toISOString(), node: o.nodeId };
    // One dead letter per delivery, even if this node dies before its ack and the next one gives up too.
    await js.publish(s.notifyDead(job.notifier), encode(letter), { msgID: `${job.delivery}:dead` });
    metrics.dead.inc();
    log.warn({ event: 'notify_dead_letter', ...fields(job), attempts, error, httpStatus }, 'delivery given up: dead letter published');
  };

  /** One call, kept with this node (`working`) while it runs. */
  const call = async (job: NotifyJob, n: NormalizedNotifier, m: JsMsg, attempt: number, reminder: number | null): Promise<CallOutcome> => {
    log.info({ event: 'notify_attempt', ...fields(job), attempt, of: job.kind === 'reminder' ? 1 : n.retry.attempts, reminder }, 'calling the webhook');
    const keep = setInterval(() => m.working(), Math.max(300, Math.floor(o.ackWaitMs / 3)));
    try {
      return await o.call({
        url: n.webhook.url,
        body: renderBody(n.webhook.format, n.webhook.template, eventOf(job, reminder)),
        headers: {
          ...n.webhook.headers,
          'content-type': 'application/json',
          'user-agent': o.userAgent,
          'lookout-delivery': reminder === null ? job.delivery : `${job.delivery}:remind:${reminder}`,
          'lookout-attempt': String(attempt),
        },
        timeoutMs: n.webhook.timeoutMs,
        signal: o.stopping,
      });
    } finally {
      clearInterval(keep);
    }
  };

  return async (m) => {
    const job = parseJob(jsonOf(m));
    if (!job) {
      log.warn({ event: 'notify_job_malformed', subject: m.subject }, 'a message on the job subjects is not a delivery job: dropped');
      return m.ack(); // done with it (on nats-server 2.9 a term leaves it in a work-queue stream)
    }
    const n = o.cache.get(job.notifier);
    const count = m.info.deliveryCount;
    const latest = job.kind === JobKind.reminder && count > 1 && n?.remindEveryMs ? await o.latestStatus(job.transition.checkId) : undefined;
    const a = onArrival(job, n, count, o.clock.now(), latest);
    switch (a.type) {
      case 'drop':
        log.info({ event: 'notify_dropped', ...fields(job), why: a.why }, 'delivery job dropped');
        return m.ack();
      case 'stop':
        log.info({ event: 'notify_reminders_stopped', ...fields(job), why: a.why, reminders: count - 2 }, 'reminders stopped');
        return m.ack();
      case 'exhausted':
        await deadLetter(job, a.attempt - 1, `no attempts left: the node that made attempt ${a.attempt - 1} stopped before it could tell how it went`, null);
        return m.ack();
      case 'wait':
        return m.nak(a.delayMs);
      case 'suppress':
        metrics.suppressed.inc({ kind: job.kind });
        log.info({ event: 'notify_suppressed', ...fields(job), silence: a.silence.index, comment: a.silence.silence.comment ?? null, until: a.silence.endsAt }, 'notification suppressed by a silence');
        if (a.remind) await publishReminders(job);
        return a.waitMs === null ? m.ack() : m.nak(a.waitMs);
      case 'deliver': {
        const outcome = await call(job, n!, m, a.attempt, a.reminder);
        if (!outcome.ok && o.stopping.aborted) return m.nak(); // this node stops: another goes on at once
        metrics.calls.inc({ kind: job.kind, outcome: outcome.ok ? 'delivered' : 'failed' });
        const next = afterCall(job, n!, a.attempt, outcome);
        switch (next.type) {
          case 'delivered':
            log.info({ event: 'notify_delivered', ...fields(job), attempt: a.attempt, httpStatus: outcome.ok ? outcome.httpStatus : null }, 'notification delivered');
            if (next.remind) await publishReminders(job);
            return m.ack();
          case 'retry':
            log.warn({ event: 'notify_attempt_failed', ...fields(job), attempt: a.attempt, error: outcome.ok ? null : outcome.error, retryInMs: next.delayMs }, 'webhook call failed; retried after the backoff');
            return m.nak(next.delayMs);
          case 'dead':
            await deadLetter(job, a.attempt, next.error, next.httpStatus);
            return m.ack();
          case 'wait':
            log.info({ event: 'notify_reminder', ...fields(job), reminder: a.reminder, delivered: next.failed === null, error: next.failed, nextInMs: next.delayMs }, next.failed === null ? 'reminder delivered' : 'reminder call failed (the next one is tried as scheduled)');
            return m.nak(next.delayMs);
          default: {
            const never: never = next;
            throw new Error(`unknown directive ${JSON.stringify(never)}`);
          }
        }
      }
      default: {
        const never: never = a;
        throw new Error(`unknown directive ${JSON.stringify(never)}`);
      }
    }
  };
}
