// The JetStream side of notifications: where the state of every delivery lives, so no node's
// memory holds a chain (README, Notifications; ARCHITECTURE.md, the delivery protocol).
//
//   <prefix>_transitions (runtime/transition-store.ts) ──durable consumer <prefix>_notify_route──▶
//     stage 1 (any one node): match the change against the notifiers, publish one job per notifier
//     with Nats-Msg-Id = the delivery id, then ack;
//   <prefix>_notify_jobs (work queue over <prefix>._notify.job.>, bounded by count and bytes,
//     discard new; duplicate window ≥ 4 ack waits, so a stage-1 redelivery publishes nothing new)
//     ──durable consumer <prefix>_notify_deliver──▶ stage 2 (any one node): call the webhook; nak
//     with the backoff as delay to retry; term after the dead letter; a reminder naks itself as timer;
//   <prefix>_notify_dead over <prefix>.notify.dead.> (bounded by age and bytes): the dead letters.
//
// Both consumers are shared by every node (explicit acks, unlimited deliveries: the attempt count is
// the deliverer's), so each message is with one node at a time, and with another one ack wait after
// its node went silent.

import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import type { Config } from './config';
import { boundedStreamConfig, ensureStream } from './storage-limits';
import type { Subjects } from './subjects';

export type NotifyStreamConfig = Pick<Config, 'kvReplicas' | 'notifyJobsMax' | 'notifyJobsMaxBytes' | 'notifyDeadMaxAgeMs' | 'notifyDeadMaxBytes' | 'notifyAckWaitMs'>;

/** Largest job the stream accepts (a job is a status message, labels and names: ~0.5–2 KiB). */
const JOB_MAX_BYTES = 64 * 1024;
/** Dead letters kept per notifier (besides the age and byte limits). */
const DEAD_PER_NOTIFIER = 10_000;
/** Deliveries a consumer hands out before acks (retries waiting their backoff and reminder chains count). */
const MAX_ACK_PENDING = 10_000;
const ms = (n: number) => n * 1_000_000;

/** The dedupe window covers a routed change redelivered after its node died (one ack wait) several times over. */
export const duplicateWindowMs = (ackWaitMs: number) => Math.max(120_000, 4 * ackWaitMs);

export function jobStreamConfig(s: Subjects, cfg: NotifyStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return {
    name: s.notifyJobStream(),
    subjects: [s.notifyJobWildcard()],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs: cfg.notifyJobsMax,
    max_bytes: cfg.notifyJobsMaxBytes,
    max_msg_size: JOB_MAX_BYTES,
    duplicate_window: ms(duplicateWindowMs(cfg.notifyAckWaitMs)),
    num_replicas: cfg.kvReplicas,
  };
}

export function deadStreamConfig(s: Subjects, cfg: NotifyStreamConfig): Partial<StreamConfig> & { name: string; max_bytes: number } {
  return boundedStreamConfig({ name: s.notifyDeadStream(), subject: s.notifyDeadWildcard(), perSubject: DEAD_PER_NOTIFIER, maxAgeMs: cfg.notifyDeadMaxAgeMs, maxBytes: cfg.notifyDeadMaxBytes, replicas: cfg.kvReplicas });
}

export function consumerConfig(s: Subjects, stage: 'route' | 'deliver', ackWaitMs: number): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: s.notifyConsumer(stage),
    ack_policy: AckPolicy.Explicit,
    // Routing starts with the changes made after it was first set up, not 30 days of history.
    deliver_policy: stage === 'route' ? DeliverPolicy.New : DeliverPolicy.All,
    ...(stage === 'route' ? { filter_subject: s.statusWildcard() } : {}),
    ack_wait: ms(ackWaitMs),
    max_deliver: -1,
    max_ack_pending: MAX_ACK_PENDING,
  };
}

/** Create (or bring in line) the jobs and dead-letter streams and both shared consumers. */
export async function ensureNotifyStreams(jsm: JetStreamManager, s: Subjects, cfg: NotifyStreamConfig): Promise<void> {
  await ensureStream(jsm, jobStreamConfig(s, cfg), 'LOOKOUT_NOTIFY_JOBS_MAX_BYTES');
  await ensureStream(jsm, deadStreamConfig(s, cfg), 'LOOKOUT_NOTIFY_DEAD_MAX_BYTES');
  await ensureConsumer(jsm, s.transitionStream(), consumerConfig(s, 'route', cfg.notifyAckWaitMs));
  await ensureConsumer(jsm, s.notifyJobStream(), consumerConfig(s, 'deliver', cfg.notifyAckWaitMs));
}

/** Add the durable consumer, or update the settings that may change (another node may have made it, with other settings). */
async function ensureConsumer(jsm: JetStreamManager, stream: string, want: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  try {
    const info = await jsm.consumers.info(stream, want.durable_name);
    if (info.config.ack_wait !== want.ack_wait || info.config.max_ack_pending !== want.max_ack_pending) {
      await jsm.consumers.update(stream, want.durable_name, { ack_wait: want.ack_wait, max_ack_pending: want.max_ack_pending });
    }
  } catch (err) {
    if ((err as { name?: string }).name !== 'ConsumerNotFoundError' && !/consumer not found/i.test((err as Error).message)) throw err;
    try {
      await jsm.consumers.add(stream, want);
    } catch (e) {
      // Another node added it at the same moment with the same settings: fine.
      if (!/already (exists|in use)/i.test((e as Error).message)) throw e;
    }
  }
}
