// Confirm from elsewhere over NATS (protocol/confirm.ts has the rules): the asking side — the check
// runner's `confirm` port — and the answering side, one subscription per node on
// `<prefix>._node.confirm.<node>`. The responder probes with its own probe function, so its own
// address policy applies; it probes only stored checks (the request names a check, never a target:
// the spec is its own catalog's, or — a check of a shard it does not hold — read from the spec
// bucket by id, within the same pacing), at most once per check per half interval, and at most
// LOOKOUT_CONFIRM_PER_SECOND probes a second. Both sides pace themselves with the same pacer as catch-up probes.

import type { ProbeOutcome } from '../checks/outcome';
import type { NormalizedSpec } from '../checks/spec';
import { CatchUpPacer } from '../protocol/catch-up-pacer';
import { CONFIRM_REPLY_MARGIN_MS, ConfirmReuse, confirmationOf, parseConfirmReply, parseConfirmRequest, pickPeer, type Confirmation, type ConfirmReply, type PeerCandidate } from '../protocol/confirm';
import { isInconclusive, judgeOutcome } from '../protocol/overload';
import { shortestInterval } from '../protocol/state-interval';
import type { Bus } from './bus';
import type { Clock } from './clock';
import type { LoadPort } from './load-monitor';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Subjects } from './subjects';
import type { StopSignal } from '../checks/probe-stop';
import type { ProbeFn } from '../checks/probe';

/** How far ahead of now a pacer may hand out places: a second's worth of its rate is the burst. */
const BURST_MS = 1000;

/** Take a place from `pacer` now, or false when its burst is used up. */
function admit(pacer: CatchUpPacer, now: number): boolean {
  if (pacer.peek(now) > now + BURST_MS) return false;
  pacer.take(now);
  return true;
}

export interface AskerOptions {
  bus: Bus;
  subjects: Subjects;
  nodeId: string;
  /** The members as this node last saw them. */
  peers(): readonly PeerCandidate[];
  perSecond: number;
  clock: Clock;
}

/** The runner's `confirm` port: ask one live peer, within the check's timeout plus a margin. Never rejects. */
export function confirmAsker(o: AskerOptions): (spec: NormalizedSpec, signal: StopSignal) => Promise<Confirmation> {
  const pacer = new CatchUpPacer(o.perSecond);
  return async (spec, signal) => {
    const peer = pickPeer(spec.id, o.peers(), o.nodeId);
    if (peer === null) return { by: null, outcome: 'unconfirmed', why: 'no_peer' };
    if (!admit(pacer, o.clock.monotonic())) return { by: peer, outcome: 'unconfirmed', why: 'budget' };
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      else signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    const asked = o.bus.request(o.subjects.confirm(peer), { checkId: spec.id, from: o.nodeId }, spec.timeoutMs + CONFIRM_REPLY_MARGIN_MS).then(
      (m) => parseConfirmReply(m.json(), peer),
      () => null, // no responders, no answer in time: nothing seen from elsewhere
    );
    const got = await Promise.race([asked, aborted]);
    return got === 'aborted' ? { by: peer, outcome: 'unconfirmed', why: 'aborted' } : confirmationOf(peer, got);
  };
}

export interface ResponderOptions {
  bus: Bus;
  subjects: Subjects;
  nodeId: string;
  /** The spec of a check this node holds (its catalog), or undefined. */
  specOf(id: string): NormalizedSpec | undefined;
  /** The stored spec of any check (read from the bucket; undefined: none, or invalid). Absent: held checks only. */
  fetchSpec?(id: string): Promise<NormalizedSpec | undefined>;
  probe: ProbeFn;
  /** The node's own lag: a failure it caused is not an answer. */
  load?: LoadPort;
  /** True while this node is quarantined (protocol/quarantine.ts): it refuses to vouch for anyone. */
  quarantined?(): boolean;
  perSecond: number;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}

/** Answer other nodes' confirmation requests. Returns the unsubscribe function. */
export function startConfirmResponder(o: ResponderOptions): () => void {
  const pacer = new CatchUpPacer(o.perSecond);
  const reuse = new ConfirmReuse();
  // One probe per check at a time: asks that arrive while it runs get its answer.
  const running = new Map<string, Promise<ConfirmReply>>();
  const probeOnce = async (spec: NormalizedSpec): Promise<ConfirmReply> => {
    const stalledBefore = o.load?.stallMs() ?? 0;
    const measured = await o.probe(spec, new AbortController().signal).catch((err: unknown): ProbeOutcome => ({ ok: false, reason: 'error', message: String((err as Error)?.message ?? err), latencyMs: 0, timings: { total: 0 } }));
    const outcome = o.load ? judgeOutcome(measured, o.load.stallMs() - stalledBefore, { timeoutMs: spec.timeoutMs }) : measured;
    if (isInconclusive(outcome)) return { type: 'refused', node: o.nodeId, why: 'inconclusive' };
    return { type: 'probed', node: o.nodeId, ok: outcome.ok, reason: outcome.reason, latencyMs: outcome.latencyMs };
  };
  const answer = async (checkId: string): Promise<{ reply: ConfirmReply; how: string }> => {
    if (o.quarantined?.()) return { reply: { type: 'refused', node: o.nodeId, why: 'quarantined' }, how: 'quarantined' };
    let spec = o.specOf(checkId);
    const now = o.clock.monotonic();
    let admitted = false;
    if (!spec && o.fetchSpec) {
      // A check of a shard this node does not hold: its spec costs a bucket read, paced like a probe.
      const inFlight = running.get(checkId);
      if (inFlight) return { reply: await inFlight, how: 'reused' };
      if (!admit(pacer, now)) return { reply: { type: 'refused', node: o.nodeId, why: 'busy' }, how: 'busy' };
      admitted = true;
      spec = await o.fetchSpec(checkId).catch(() => undefined);
    }
    if (!spec) return { reply: { type: 'refused', node: o.nodeId, why: 'unknown_check' }, how: 'unknown_check' };
    // Reused within half the shortest interval the check runs at: a check confirming while it probes
    // at intervalWhileTransitioningMs gets a fresh answer for each of its fast probes.
    const recent = reuse.get(checkId, now, shortestInterval(spec));
    if (recent) return { reply: recent, how: 'reused' };
    const inFlight = running.get(checkId);
    if (inFlight) return { reply: await inFlight, how: 'reused' };
    if (!admitted && !admit(pacer, now)) return { reply: { type: 'refused', node: o.nodeId, why: 'busy' }, how: 'busy' };
    const p = probeOnce(spec);
    running.set(checkId, p);
    try {
      const reply = await p;
      reuse.put(checkId, o.clock.monotonic(), reply);
      return { reply, how: reply.type === 'refused' ? reply.why : 'probed' };
    } finally {
      running.delete(checkId);
    }
  };
  return o.bus.subscribe(o.subjects.confirm(o.nodeId), (m) => {
    const req = parseConfirmRequest(m.json());
    if (!req || !m.wantsReply) {
      o.metrics.confirmAnswers.inc({ answer: 'malformed' });
      return;
    }
    void answer(req.checkId).then(({ reply, how }) => {
      o.metrics.confirmAnswers.inc({ answer: how });
      o.log.debug({ event: 'confirm_answered', check: req.checkId, from: req.from, answer: how, ok: reply.type === 'probed' ? reply.ok : null }, 'answered a confirmation request');
      m.respond(reply);
    });
  });
}
