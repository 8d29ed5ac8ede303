// Membership: heartbeats out, heartbeats in, the failure detector in between (./failure-detector.ts
// decides; this actor only does the I/O and the ticking).
//
// Internal subjects: `<prefix>._node.heartbeat` (every heartbeatMs: node, startedAt, incarnation,
// seq, version, shards and checks held, leaving) and `<prefix>._node.suspect` (a node that starts
// suspecting another says so; the suspected node, if alive, raises its incarnation and heartbeats
// at once — the refutation). The parent hears MEMBERS whenever a member changes state.
// While the parent says this node leads, member changes are also published on the public
// `<prefix>.cluster.member.<state>` subjects (one publisher, not one per node).

import { fromCallback } from 'xstate';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Clock, TimerHandle } from '../runtime/clock';
import type { Logger } from '../runtime/logger';
import { encode } from '../runtime/messages';
import type { Subjects } from '../runtime/subjects';
import { FailureDetector, type Heartbeat, type Member, type MemberChange } from './failure-detector';

export interface MembershipInput {
  nc: NatsConnection;
  subjects: Subjects;
  node: string;
  version: string;
  clock: Clock;
  log: Logger;
  heartbeatMs: number;
  suspectAfterMs: number;
  deadAfterMs: number;
  /** What this node holds, for the heartbeat. */
  load(): { shards: number; checks: number };
}

export type MembershipEvent =
  | { type: 'LEAVE' }
  | { type: 'SEED'; nodes: string[] }
  | { type: 'CONNECTION'; up: boolean }
  | { type: 'LEADING'; leading: boolean };

export interface MembersChanged {
  type: 'MEMBERS';
  live: string[];
  members: Member[];
  changes: MemberChange[];
}

/** Dead and left members are forgotten after this long. */
const FORGET_AFTER_MS = 10 * 60_000;

export const membership = fromCallback<MembershipEvent, MembershipInput>(({ input, sendBack, receive }) => {
  const { nc, subjects: s, node, clock } = input;
  const log = input.log.child({ actor: 'membership' });
  const detector = new FailureDetector(node, { suspectAfterMs: input.suspectAfterMs, deadAfterMs: input.deadAfterMs });
  const startedAt = clock.now();
  let incarnation = 0;
  let seq = 0;
  let leaving = false;
  let leading = false;
  let timer: TimerHandle | null = null;

  const report = (changes: MemberChange[], always = false) => {
    if (changes.length === 0 && !always) return;
    for (const c of changes) {
      const fields = { member: c.node, from: c.from, to: c.to, incarnation: c.incarnation };
      if (c.to === 'alive' && c.from === 'new') log.info(fields, 'member joined');
      else if (c.to === 'suspect' || c.to === 'dead') log.warn(fields, `member ${c.to}`);
      else log.info(fields, `member ${c.to}`);
      if (c.to === 'suspect') nc.publish(s.internal('suspect'), encode({ node: c.node, incarnation: c.incarnation, by: node }));
      if (leading) {
        const event = c.from === 'new' || c.from === 'dead' || c.from === 'left' ? (c.to === 'alive' ? 'joined' : c.to) : c.to;
        nc.publish(s.cluster(`member.${event}`), encode({ node: c.node, state: c.to, previous: c.from, incarnation: c.incarnation, by: node, at: new Date(clock.now()).toISOString() }));
      }
    }
    sendBack({ type: 'MEMBERS', live: detector.live(), members: detector.all(), changes } satisfies MembersChanged);
  };

  const beat = () => {
    const hb: Heartbeat = { node, startedAt, incarnation, seq: ++seq, version: input.version, ...input.load(), leaving };
    // Our own entry, so the view (and cluster.status) includes this node.
    report(detector.heartbeat(hb, clock.monotonic()));
    nc.publish(s.internal('heartbeat'), encode(hb));
  };

  const tick = () => {
    beat();
    // Every tick, even without a state change: the view also carries what members hold (checks,
    // shards, version) for cluster.status.
    report(detector.tick(clock.monotonic()), true);
    detector.forget(clock.monotonic(), FORGET_AFTER_MS);
    timer = clock.setTimeout(tick, input.heartbeatMs);
  };

  const subs: Subscription[] = [
    nc.subscribe(s.internal('heartbeat'), {
      callback: (err, m) => {
        if (err) return;
        let hb: Heartbeat;
        try {
          hb = m.json<Heartbeat>();
        } catch {
          return;
        }
        if (typeof hb?.node !== 'string' || hb.node === node) return;
        report(detector.heartbeat(hb, clock.monotonic()));
      },
    }),
    nc.subscribe(s.internal('suspect'), {
      callback: (err, m) => {
        if (err) return;
        let msg: { node?: string; incarnation?: number; by?: string };
        try {
          msg = m.json();
        } catch {
          return;
        }
        if (msg.node !== node || leaving || typeof msg.incarnation !== 'number' || msg.incarnation < incarnation) return;
        incarnation = msg.incarnation + 1;
        log.warn({ by: msg.by, incarnation }, 'suspected by a peer: refuting with a higher incarnation');
        beat();
      },
    }),
  ];

  receive((e) => {
    switch (e.type) {
      case 'LEAVE':
        leaving = true;
        log.info('announcing graceful leave');
        beat();
        break;
      case 'SEED':
        report(detector.seed(e.nodes, clock.monotonic()));
        break;
      case 'CONNECTION':
        if (e.up) detector.resume(clock.monotonic());
        else detector.pause();
        break;
      case 'LEADING':
        leading = e.leading;
        break;
    }
  });

  log.info({ startedAt, heartbeatMs: input.heartbeatMs, suspectAfterMs: input.suspectAfterMs, deadAfterMs: input.deadAfterMs }, 'membership started');
  tick();
  return () => {
    if (timer !== null) clock.clearTimeout(timer);
    for (const sub of subs) sub.unsubscribe();
  };
});
