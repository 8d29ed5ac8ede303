// What notification tests share: putting a notifier through the API (again while the answer is
// `unavailable`, as a client should), a verdict change published as a check's owner would (the
// transition stream captures it like any other), and "nothing is left to do" read from JetStream
// itself — the route consumer has handed out and had acked every change, and the jobs stream is
// empty — so a test can count calls once no further call can come, without sleeping.

import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { request } from './lookout';
import { waitFor } from './poll';

export async function putNotifier(nc: NatsConnection, id: string, doc: object): Promise<any> {
  return waitFor(`notifier ${id} put answered other than unavailable`, () => request(nc, `lookout.notify.put.${id}`, doc, 10_000), {
    timeoutMs: 60_000,
    intervalMs: 250,
    until: (a: any) => a.ok || a.error?.code !== 'unavailable',
  });
}

let seq = 1000;

/** Publish a verdict change of `check` as its owner would (epoch 1, a fresh seq unless given). */
export function publishChange(nc: NatsConnection, check: string, from: string, to: string, extra: Record<string, unknown> = {}): { epoch: number; seq: number } {
  const msg = { checkId: check, from, to, at: new Date().toISOString(), node: 'test', epoch: 1, seq: ++seq, vantage: 0, reason: to === 'down' ? 'status' : null, message: to === 'down' ? 'expected status 2xx, got 503' : null, ...extra };
  nc.publish(`lookout.status.${check}`, JSON.stringify(msg));
  return { epoch: msg.epoch as number, seq: msg.seq as number };
}

/**
 * Wait until every change captured so far was routed and every job is done: the transition
 * stream's last sequence is acked by the route consumer, nothing is pending or in flight there,
 * and the jobs stream holds nothing. (A reminder chain keeps its job: pass `jobsLeft`.)
 */
export async function notifyIdle(nc: NatsConnection, jobsLeft = 0): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await waitFor(
    'every verdict change routed and every delivery job done',
    async () => {
      const [stream, route, jobs] = await Promise.all([jsm.streams.info('lookout_transitions'), jsm.consumers.info('lookout_transitions', 'lookout_notify_route'), jsm.streams.info('lookout_notify_jobs')]);
      const state = { last: stream.state.last_seq, acked: route.ack_floor.stream_seq, pending: route.num_pending, inFlight: route.num_ack_pending, jobs: jobs.state.messages };
      if (state.acked < state.last || state.pending > 0 || state.inFlight > 0 || state.jobs !== jobsLeft) throw new Error(`not yet: ${JSON.stringify(state)}`);
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 100 },
  );
}

/** The dead letters published so far (a subscription the caller opened before). */
export function deadLetters(nc: NatsConnection): { letters: any[]; stop(): void } {
  const letters: any[] = [];
  const sub = nc.subscribe('lookout.notify.dead.>', { callback: (_err, m) => void letters.push(m.json()) });
  return { letters, stop: () => sub.unsubscribe() };
}
