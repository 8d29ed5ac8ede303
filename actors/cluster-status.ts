// `<prefix>.cluster.status` responder: members with state, leader and term, assignment epoch,
// shards and checks per node — as the answering node sees them (a queue group: one node answers).

import { fromCallback } from 'xstate';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../runtime/logger';
import { encode } from '../runtime/messages';
import type { Subjects } from '../runtime/subjects';
import { shardsPerNode } from './assignment';
import type { ClusterView } from './cluster-view';

export interface StatusInput {
  nc: NatsConnection;
  subjects: Subjects;
  view: ClusterView;
  log: Logger;
}

export function clusterStatus(view: ClusterView) {
  const a = view.assignment;
  const perNode = a ? shardsPerNode(a.shards) : {};
  return {
    ok: true,
    answeredBy: view.node,
    leader: view.leader,
    term: view.leader?.term ?? null,
    epoch: a?.epoch ?? null,
    assignment: a ? { epoch: a.epoch, term: a.term, leader: a.leader, at: new Date(a.at).toISOString(), members: a.members } : null,
    members: view.members.map((m) => ({
      node: m.node,
      state: m.state,
      incarnation: m.incarnation,
      startedAt: m.startedAt ? new Date(m.startedAt).toISOString() : null,
      version: m.version,
      shards: perNode[m.node] ?? { primary: 0, total: 0 },
      checks: m.checks,
    })),
  };
}

export const clusterStatusResponder = fromCallback<{ type: 'noop' }, StatusInput>(({ input }) => {
  const { nc, subjects: s, view } = input;
  const log = input.log.child({ actor: 'cluster-status' });
  const sub = nc.subscribe(s.clusterStatus(), {
    queue: `${s.prefix}-cluster-status`,
    callback: (err, m) => {
      if (err) return log.warn({ err }, 'cluster.status subscription error');
      if (m.reply) m.respond(encode(clusterStatus(view)));
    },
  });
  return () => sub.unsubscribe();
});
