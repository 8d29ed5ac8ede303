// The records of the delivery protocol (runtime/notify-router.ts, runtime/notify-deliverer.ts):
// a delivery job in the jobs stream, and a dead letter. Jobs are read back as hostile input (the
// job subjects are internal, but whoever may publish there must not crash a node).

import type { NotifyEvent } from './notify-render';
import { statusViewOf, type StatusView } from './notify-match';

export const JobKind = { transition: 'transition', reminder: 'reminder' } as const;
export type JobKind = (typeof JobKind)[keyof typeof JobKind];

/** One (notifier, transition): the chain of calls, or the reminders that follow a down. */
export interface NotifyJob {
  v: 1;
  kind: JobKind;
  notifier: string;
  /** deliveryId(notifier, transition) (protocol/notify-match.ts). */
  delivery: string;
  transition: StatusView;
  /** The check's labels when the job was made (for templates). */
  labels: Record<string, string>;
}

/** What `<prefix>.notify.dead.<notifier>` carries: a delivery given up on, and why. */
export interface DeadLetter {
  notifier: string;
  delivery: string;
  kind: JobKind;
  check: string;
  /** Calls made (the node that made the last may have died before it could tell). */
  attempts: number;
  /** The last call's error, or why no call was made. */
  error: string;
  /** The last call's HTTP status, if it got one. */
  httpStatus: number | null;
  transition: StatusView;
  /** This node's wall clock when it gave up. */
  at: string;
  node: string;
}

export function newJob(kind: JobKind, notifier: string, delivery: string, transition: StatusView, labels: Record<string, string>): NotifyJob {
  return { v: 1, kind, notifier, delivery, transition, labels };
}

/** The Nats-Msg-Id of a job: one transition job and one reminder chain per delivery. */
export function jobMsgId(job: Pick<NotifyJob, 'kind' | 'delivery'>): string {
  return job.kind === JobKind.reminder ? `${job.delivery}:remind` : job.delivery;
}

const NOTIFIER = /^[A-Za-z0-9_-]{1,64}$/;

/** A stored job, or null when it is not one. */
export function parseJob(data: unknown): NotifyJob | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const j = data as Record<string, unknown>;
  if (j.v !== 1 || (j.kind !== JobKind.transition && j.kind !== JobKind.reminder)) return null;
  if (typeof j.notifier !== 'string' || !NOTIFIER.test(j.notifier) || typeof j.delivery !== 'string' || j.delivery.length > 512) return null;
  const transition = statusViewOf(j.transition);
  if (!transition) return null;
  const labels: Record<string, string> = {};
  if (j.labels !== null && typeof j.labels === 'object' && !Array.isArray(j.labels)) {
    for (const [k, v] of Object.entries(j.labels as Record<string, unknown>).slice(0, 64)) if (typeof v === 'string') Object.defineProperty(labels, k, { value: v, enumerable: true });
  }
  return { v: 1, kind: j.kind, notifier: j.notifier, delivery: j.delivery, transition, labels };
}

/** The event a job's call renders (protocol/notify-render.ts). */
export function eventOf(job: NotifyJob, reminder: number | null): NotifyEvent {
  const t = job.transition;
  return {
    notifier: job.notifier,
    delivery: job.delivery,
    kind: job.kind,
    reminder,
    check: t.checkId,
    from: t.from,
    to: t.to,
    at: t.at,
    node: t.node,
    reason: t.reason,
    message: t.message,
    epoch: t.epoch,
    seq: t.seq,
    labels: job.labels,
  };
}
