// Spec API: serves `<prefix>.spec.{put,delete,get}.<id>` and `<prefix>.spec.list` in a queue
// group, so each request is answered by one node of the cluster. A request gets a reply; a plain
// publish of an invalid spec gets an event on `<prefix>.spec.rejected.<id>` instead.
//
// The API never starves the probes or the lease (protocol/spec-admission.ts): a request is admitted
// against a rate and a backlog bound or answered `unavailable` at once with `retryAfterMs`;
// admitted requests are worked off a few per turn of the event loop, with a bounded number of
// store writes in flight. Rejections are logged at debug, with one summary line per period at info.

import { fromCallback } from 'xstate';
import { SpecErrorCode } from '../checks/spec-error';
import { AdmissionGate, costOf, RejectionTally, type AdmissionConfig } from '../protocol/spec-admission';
import type { Bus, BusMsg } from '../runtime/bus';
import type { Clock, TimerHandle } from '../runtime/clock';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import type { Subjects } from '../runtime/subjects';
import { handleSpecRequest, type Reply, type SpecRequest, type SpecRequestDeps } from './spec-requests';

export interface SpecApiInput extends SpecRequestDeps {
  bus: Bus;
  subjects: Subjects;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  admission: AdmissionConfig;
  /** Period of the info-level summary of rejected requests. */
  summaryEveryMs: number;
}

/** Queue group shared by every node's spec API. */
export const specApiQueue = (s: Subjects) => `${s.prefix}-spec-api`;

/** Admitted requests worked off per turn of the event loop (timers and I/O run in between). */
export const API_BATCH = 16;
/** Admitted requests whose store call may be in flight at once. */
export const API_IN_FLIGHT = 32;

interface Job {
  m: BusMsg;
  req: SpecRequest;
}

export const specApi = fromCallback<{ type: 'noop' }, SpecApiInput>(({ input }) => {
  const { bus, subjects: s, metrics, clock } = input;
  const log = input.log.child({ actor: 'spec-api' });
  const gate = new AdmissionGate(input.admission, clock.monotonic());
  const tally = new RejectionTally();
  const queue: Job[] = [];
  let head = 0;
  let inFlight = 0;
  let scheduled = false;
  let stopped = false;

  const answer = (m: BusMsg, req: SpecRequest, reply: Reply) => {
    const id = 'id' in req ? req.id : undefined;
    metrics.specRequests.inc({ op: req.op, outcome: reply.ok ? 'ok' : reply.error.code });
    if (reply.ok) {
      if (req.op === 'put' || req.op === 'delete') log.info({ event: 'spec_changed', op: req.op, check: id, revision: reply.revision }, 'spec changed');
    } else {
      tally.add(reply.error.code);
      log.debug({ event: 'spec_request_rejected', op: req.op, check: id, error: reply.error, requested: m.wantsReply }, 'spec request rejected');
    }
    if (m.wantsReply) m.respond(reply);
    else if (!reply.ok && req.op === 'put') bus.publish(s.specRejected(req.id), { ...reply, id: req.id });
  };

  const finish = () => {
    inFlight--;
    gate.done();
    metrics.specBacklog.set(gate.backlog);
    schedule();
  };

  const pump = () => {
    scheduled = false;
    let n = 0;
    while (!stopped && head < queue.length && inFlight < API_IN_FLIGHT && n++ < API_BATCH) {
      const { m, req } = queue[head]!;
      queue[head++] = undefined as unknown as Job;
      inFlight++;
      handleSpecRequest(req, input)
        .then((reply) => answer(m, req, reply))
        .catch((err: unknown) => log.error({ event: 'spec_request_failed', err, subject: m.subject }, 'spec request failed'))
        .finally(finish);
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    schedule();
  };

  function schedule() {
    if (scheduled || stopped || head >= queue.length || inFlight >= API_IN_FLIGHT) return;
    scheduled = true;
    setImmediate(pump);
  }

  const onMessage = (m: BusMsg, req: SpecRequest) => {
    const a = gate.offer(clock.monotonic(), costOf(m.data.length));
    if (a.type === 'shed') {
      metrics.specShed.inc({ why: a.why });
      tally.add(`${SpecErrorCode.unavailable}(${a.why})`);
      const reply: Reply = { ok: false, error: { code: SpecErrorCode.unavailable, message: `spec API busy (${a.why === 'rate' ? 'over its request rate' : 'backlog full'}); retry after ${a.retryAfterMs} ms; nothing was changed`, path: '' }, retryAfterMs: a.retryAfterMs };
      if (m.wantsReply) m.respond(reply);
      else if (req.op === 'put') bus.publish(s.specRejected(req.id), { ...reply, id: req.id });
      return;
    }
    metrics.specBacklog.set(gate.backlog);
    queue.push({ m, req });
    schedule();
  };

  let summaryTimer: TimerHandle | null = null;
  const summarize = () => {
    const counts = tally.take();
    if (counts) log.info({ event: 'spec_rejections', periodMs: input.summaryEveryMs, counts }, 'spec requests rejected in the last period');
    summaryTimer = clock.setTimeout(summarize, input.summaryEveryMs);
  };
  summaryTimer = clock.setTimeout(summarize, input.summaryEveryMs);

  const opts = { queue: specApiQueue(s), onError: (err: unknown) => log.error({ event: 'spec_subscription_failed', err }, 'spec subscription error') };
  const unsubs = (['put', 'delete', 'get'] as const).map((op) =>
    bus.subscribe(
      s.specOpWildcard(op),
      (m) => {
        const parsed = s.parseSpecSubject(m.subject);
        if (parsed) onMessage(m, { op: parsed.op, id: parsed.id, payload: m.data });
      },
      opts,
    ),
  );
  unsubs.push(bus.subscribe(s.specList(), (m) => onMessage(m, { op: 'list', payload: m.data }), opts));
  unsubs.push(bus.subscribe(s.specSchema(), (m) => onMessage(m, { op: 'schema', payload: m.data }), opts));
  log.info({ event: 'spec_api_serving', queue: specApiQueue(s), ...input.admission }, 'spec API serving');
  return () => {
    stopped = true;
    if (summaryTimer !== null) clock.clearTimeout(summaryTimer);
    for (const u of unsubs) u();
    log.info({ event: 'spec_api_stopped' }, 'spec API stopped');
  };
});
