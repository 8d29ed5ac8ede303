// The Prometheus metrics of notifications (README, Notifications), registered with the node's
// registry by runtime/metrics.ts. `lookout_notify_pending` is read from the shared delivery
// consumer when scraped (one JetStream API call, at most every PENDING_REFRESH_MS).

import { Counter, Gauge, type Registry } from 'prom-client';

export interface NotifyMetrics {
  /** Webhook calls, by kind (transition, reminder) and outcome (delivered, failed). */
  calls: Counter<'kind' | 'outcome'>;
  /** Deliveries given up on (a dead letter each). */
  dead: Counter;
  /** Notifications not sent because a silence was open, by kind. */
  suppressed: Counter<'kind'>;
  /** Jobs made from verdict changes (new), or refused as already made (duplicate). */
  routed: Counter<'outcome'>;
  /** Notifier API answers, by op and outcome (ok or the error code). */
  requests: Counter<'op' | 'outcome'>;
  /** Where the pending gauge reads from (set once the consumer is known). */
  pendingFrom(read: () => Promise<number>): void;
}

export const PENDING_REFRESH_MS = 5_000;

export function createNotifyMetrics(r: Registry[]): NotifyMetrics {
  let read: (() => Promise<number>) | null = null;
  let last = 0;
  let readAt = -Infinity;
  new Gauge({
    name: 'lookout_notify_pending',
    help: 'Delivery jobs in the jobs stream not yet done, cluster-wide: waiting for a node, waiting their retry backoff, being called, and reminder chains waiting their next reminder (as the shared delivery consumer says; read at most every 5 s).',
    registers: r,
    async collect() {
      if (!read || Date.now() - readAt < PENDING_REFRESH_MS) return this.set(last);
      readAt = Date.now();
      last = await read().catch(() => last);
      this.set(last);
    },
  });
  return {
    calls: new Counter({ name: 'lookout_notify_calls_total', help: 'Webhook calls this node made, by kind (transition: a verdict change, reminder: still down) and outcome (delivered: a 2xx; failed: anything else, retried or not).', labelNames: ['kind', 'outcome'], registers: r }),
    dead: new Counter({ name: 'lookout_notify_dead_letters_total', help: 'Deliveries this node gave up on (attempts exhausted, an answer not worth retrying, an address the policy refuses), each published on <prefix>.notify.dead.<notifier>.', registers: r }),
    suppressed: new Counter({ name: 'lookout_notify_suppressed_total', help: 'Notifications this node did not send because one of the notifier\'s silences (maintenance windows) was open, by kind.', labelNames: ['kind'], registers: r }),
    routed: new Counter({ name: 'lookout_notify_routed_total', help: 'Delivery jobs this node made from verdict changes (new), and jobs JetStream refused as made already (duplicate: a change routed again after a node died).', labelNames: ['outcome'], registers: r }),
    requests: new Counter({ name: 'lookout_notify_requests_total', help: 'Notifier API requests this node answered, by op and outcome (ok or the error code).', labelNames: ['op', 'outcome'], registers: r }),
    pendingFrom: (f) => (read = f),
  };
}
