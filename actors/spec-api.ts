// Spec API: serves `<prefix>.spec.{put,delete,get}.<id>` and `<prefix>.spec.list` in a queue
// group, so each request is answered by one node of the cluster. A request gets a reply; a plain
// publish of an invalid spec gets an event on `<prefix>.spec.rejected.<id>` instead.

import { fromCallback } from 'xstate';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Logger } from '../runtime/logger';
import { encode } from '../runtime/messages';
import type { Metrics } from '../runtime/metrics';
import type { Subjects } from '../runtime/subjects';
import { handleSpecRequest, type SpecRequest, type SpecRequestDeps } from './spec-requests';

export interface SpecApiInput extends SpecRequestDeps {
  nc: NatsConnection;
  subjects: Subjects;
  log: Logger;
  metrics: Metrics;
}

/** Queue group shared by every node's spec API. */
export const specApiQueue = (s: Subjects) => `${s.prefix}-spec-api`;

export const specApi = fromCallback<{ type: 'noop' }, SpecApiInput>(({ input }) => {
  const { nc, subjects: s, metrics } = input;
  const log = input.log.child({ actor: 'spec-api' });

  const onMessage = (m: Msg, req: SpecRequest) => {
    handleSpecRequest(req, input)
      .then((reply) => {
        const id = req.op === 'list' ? undefined : req.id;
        metrics.specRequests.inc({ op: req.op, outcome: reply.ok ? 'ok' : reply.error.code });
        if (reply.ok) {
          if (req.op === 'put' || req.op === 'delete') log.info({ op: req.op, check: id, revision: reply.revision }, 'spec changed');
        } else {
          log.info({ op: req.op, check: id, error: reply.error, requested: !!m.reply }, 'spec request rejected');
        }
        if (m.reply) m.respond(encode(reply));
        else if (!reply.ok && req.op === 'put') nc.publish(s.specRejected(req.id), encode({ ...reply, id: req.id }));
      })
      .catch((err: unknown) => log.error({ err, subject: m.subject }, 'spec request failed'));
  };

  const subs: Subscription[] = [];
  for (const op of ['put', 'delete', 'get'] as const) {
    subs.push(
      nc.subscribe(s.specOpWildcard(op), {
        queue: specApiQueue(s),
        callback: (err, m) => {
          if (err) return log.error({ err }, 'spec subscription error');
          const parsed = s.parseSpecSubject(m.subject);
          if (parsed) onMessage(m, { op: parsed.op, id: parsed.id, payload: m.data });
        },
      }),
    );
  }
  subs.push(
    nc.subscribe(s.specList(), {
      queue: specApiQueue(s),
      callback: (err, m) => {
        if (err) return log.error({ err }, 'spec subscription error');
        onMessage(m, { op: 'list', payload: m.data });
      },
    }),
  );
  log.info({ queue: specApiQueue(s) }, 'spec API serving');
  return () => {
    for (const sub of subs) sub.unsubscribe();
    log.info('spec API stopped');
  };
});
