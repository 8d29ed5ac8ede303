// A check runner's side of the handover by message (protocol/handover.ts has the protocol and its
// decisions): as a new owner it listens for the release and claims (shard, rank) from its
// previous holder, then loads its checks from the release or from the result stream; as a holder
// it answers claims, builds and publishes its release, and keeps it to answer a late claim.
// I/O only through the runner's ports (bus, clock, log, metrics).

import { ClaimDecision, claimNext, decideClaim, releasedToMe, takenNext, type ClaimEvent, type ClaimNext, type HolderPhase } from '../protocol/handover';
import { parseClaim, parseClaimAnswer, parseRelease, type ClaimAnswer, type ClaimRequest } from '../protocol/handover-wire';
import { hasCode } from '../protocol/errors';
import type { StartMode } from '../protocol/check-table';
import { stretchOf } from '../protocol/check-entry';
import { duplicateProbes, theirProbes } from '../protocol/overlap';
import type { ReleaseRecord } from '../protocol/records';
import type { BusMsg } from '../runtime/bus';
import { carryOut } from './runner-directives';
import type { RunnerContext, RunnerEvent } from './runner-ports';
import { quorumAdopt, quorumSet, withQuorum } from './runner-quorum';
import { agedPush, pushDisownAll, pushOwn, withPushCarry } from './runner-push';

const slotOf = (ctx: RunnerContext) => ({ shard: ctx.shard, rank: ctx.rank });

/** The node the claim expects to answer (null: unknown). */
export const expectedHolder = (ctx: RunnerContext): string | null => (ctx.start.type === 'claim' ? ctx.start.holder : null);

/**
 * Since when nobody held the slot, when a claim named a holder and no runner answered it (no
 * responders): the holder's runner had stopped before taking the release it was sent (the next map
 * moved the slot on while it loaded the shard), so nobody probed since this node was given the slot
 * (`gainedAt`, its own clock). Undefined otherwise (a release, a silent holder: a takeover's catch-up).
 */
export function unheldSince(ctx: RunnerContext, next: ClaimNext | null): number | undefined {
  const { start } = ctx;
  return next === 'fromStream' && start.type === 'claim' && start.holder !== null ? start.gainedAt : undefined;
}

/**
 * How checks start from the result stream when no release came: a takeover as its start says; a
 * claim a known holder left unanswered like a takeover from a holder held dead — one catch-up
 * probe (a silent holder may have stopped before its last slot; a late release counts a duplicate
 * it makes) and seq skipped past what a holder still probing may publish (a frozen link, or a
 * holder the claim did not name; startFromStream asks it) — unless this process never heard that
 * holder (seeded from a stored map: it left or died before we started, as node-view.ts holds such
 * a member gone, not dead), then a plain takeover, seq on by one. No responders from a named holder
 * this node no longer holds alive (suspect, dead or gone: a SIGKILLed holder's subscriptions go with
 * its connection, before any detector notices — the map that named it came from a leader that did):
 * a takeover, with its catch-up probe. Otherwise on the grid, fresh — nobody held the slot (no
 * responders, or no previous holder: a passive subscriber to `<prefix>.>` can make a claim at
 * cluster formation go unanswered); from a named holder held alive, a slot due since this node was
 * given the slot is owed one catch-up (`unheldSince`).
 */
export function streamMode(ctx: RunnerContext, next: ClaimNext | null): StartMode {
  const { start } = ctx;
  if (start.type === 'takeover') return start.restarted ? 'restartTakeover' : start.heldDead ? 'deadTakeover' : 'takeover';
  const holder = expectedHolder(ctx);
  if (next === 'fromStream' && holder !== null && ctx.ports.peerAlive?.(holder) === false) return 'takeover';
  if (next !== 'unanswered' || holder === null) return 'fresh';
  return ctx.ports.peerHeard?.(holder) === false ? 'takeover' : 'deadTakeover';
}

/** Subscribe for this runner's life; what does not parse is refused with one warning line (`event`). */
function listen<T>(ctx: RunnerContext, subject: string, parse: (raw: unknown, slot: { shard: number; rank: number }) => T | string, event: string, onMsg: (v: T, m: BusMsg) => void): void {
  ctx.unsubs.push(
    ctx.ports.bus.subscribe(subject, (m) => {
      const v = parse(m.json(), slotOf(ctx));
      if (typeof v === 'string') ctx.log.warn({ event, why: v }, `refused: ${v}`);
      else onMsg(v, m);
    }),
  );
}

/** Listen on `<…>.release` (before the first claim, so a release published meanwhile is not missed; once per runner). */
export function listenForReleases(ctx: RunnerContext): void {
  if (ctx.hearsReleases) return;
  ctx.hearsReleases = true;
  listen(ctx, ctx.ports.subjects.shardRelease(ctx.shard, ctx.rank), parseRelease, 'release_refused', (release) => {
    if (release.instance === ctx.ports.instance && release.gen === ctx.gen) return; // our own
    ctx.send({ type: 'RELEASE', release });
  });
}

/**
 * Send one claim; its outcome comes back as CLAIM_RESULT (no responders and silence told apart by
 * error code). `takeover`: a takeover claim addressed to nobody (askTakeover), whatever the start.
 */
export function sendClaim(ctx: RunnerContext, takeover = ctx.start.type === 'takeover'): void {
  const { ports } = ctx;
  const attempt = ++ctx.attempt;
  const claim: ClaimRequest = { shard: ctx.shard, rank: ctx.rank, epoch: ctx.table.epoch, node: ports.nodeId, instance: ports.instance, gen: ctx.gen, holder: takeover ? null : expectedHolder(ctx), ...(takeover ? { takeover: true } : {}) };
  const result = (event: ClaimEvent, answer?: ClaimAnswer) => ctx.send({ type: 'CLAIM_RESULT', attempt, event, ...(answer ? { answer } : {}) });
  // Attempts overlap: each waits for the whole claim wait, a new one goes out every attempt's time.
  ports.bus.request(ports.subjects.shardClaim(ctx.shard, ctx.rank), claim, ports.claimWaitMs).then(
    (m) => {
      const answer = parseClaimAnswer(m.json(), slotOf(ctx));
      if (typeof answer === 'string') {
        ctx.log.warn({ event: 'claim_answer_refused', why: answer }, 'a claim answer that does not parse was refused');
        return result('silence');
      }
      result(answer.answer, answer);
    },
    (err: unknown) => result(hasCode(err, 'no_responders') ? 'noResponders' : 'silence'),
  );
}

/**
 * A takeover (the previous holder dead or gone) starts at once from the result stream; beside it,
 * one takeover claim asks whoever had the slot without owning it (protocol/handover.ts): a holder
 * whose map gave the slot to the dead node releases, one that released on its own and was never
 * claimed answers with its kept release. Either is taken as a late release (takeForeignRelease):
 * checks not probed here yet continue from it, the probes both ran are counted. Without it, a holder that gave
 * up waiting for a dead new owner published a release nobody heard, and the probes both ran went
 * uncounted (the flapping chaos scenario). Waiting for the answer first cost the takeover a claim
 * attempt when the dead holder's subscription outlived it (a paused node).
 * Sent too after a claim its named holder left unanswered: that holder may never have run the
 * slot (a map gave it the slot, the next map moved it on before it had loaded the shard), while
 * the holder before it still probes, moved, waiting for a claim nobody addresses to it (the
 * pause-node chaos scenario: two nodes probing one slot, uncounted, seq repeated).
 */
export function askTakeover(ctx: RunnerContext): void {
  listenForReleases(ctx);
  sendClaim(ctx, true);
}

/**
 * Load the checks from the result stream in `mode`. Any start but `fresh` may leave a holder still
 * probing the slot (dead, silent, or one the map did not name): ask it with a takeover claim.
 */
export function startFromStream(ctx: RunnerContext, mode: StartMode, unheldSince?: number): void {
  loadChecks(ctx, mode, null, unheldSince);
  if (mode !== 'fresh' && ctx.table.size > 0) askTakeover(ctx);
}

/** This runner as a claimant (its node, process instance and generation). */
const meAsClaimant = (ctx: RunnerContext) => ({ node: ctx.ports.nodeId, instance: ctx.ports.instance, gen: ctx.gen });

/**
 * A release for this claimant: from the holder its claim names (any holder when it names none),
 * and released to it (or to no one in particular). A release the holder gave another claimant is
 * not ours, heard on `.release` though it is (protocol/handover.ts decideClaim).
 */
export const fromExpectedHolder = (ctx: RunnerContext, release: ReleaseRecord): boolean => [null, release.node].includes(expectedHolder(ctx)) && releasedToMe(release, meAsClaimant(ctx));

/** A `taken` answer that sends this claimant to the node the slot went to (protocol/handover.ts takenNext). */
const retargets = (ctx: RunnerContext, answer: ClaimAnswer | undefined): answer is ClaimAnswer & { answer: 'taken' } =>
  answer?.answer === 'taken' && ctx.start.type === 'claim' && takenNext(answer, { node: ctx.ports.nodeId, epoch: ctx.table.epoch }) === 'retarget';

/**
 * The holder released the slot to another claimant (`taken`): claim from that node when our map is
 * newer than the one its claim came under; else wait, as for `held` (the caller: holderAlive).
 */
export function noteTaken(ctx: RunnerContext, answer: ClaimAnswer | undefined): void {
  if (answer?.answer !== 'taken') return;
  const retarget = retargets(ctx, answer);
  if (ctx.takenAnswers++ === 0 || retarget) {
    const fields = { event: retarget ? 'claim_retargeted' : 'claim_taken_elsewhere', holder: expectedHolder(ctx), by: answer.by, takenEpoch: answer.epoch, epoch: ctx.table.epoch };
    ctx.log.info(fields, retarget ? 'the holder released to a node following an older map: claiming from that node' : 'the holder released to a node following a map as new as ours: waiting for the map that moves the slot away');
  }
  if (!retarget || ctx.start.type !== 'claim') return;
  ctx.start = { ...ctx.start, holder: answer.by };
  sendClaim(ctx);
}

/** This node's total event-loop stall so far (runtime/load-monitor.ts; 0 without a monitor). */
export const stallOf = (ctx: RunnerContext): number => ctx.ports.load?.stallMs() ?? 0;

/**
 * Load the checks waiting to start: from `release` where it has them, else from the result stream.
 * A release may have been read late: its slots are placed by this node's stall since the claim
 * went out and the holder's clock offset (protocol/handover.ts continueReleased).
 */
export function loadChecks(ctx: RunnerContext, mode: StartMode, release: ReleaseRecord | null, unheldSince?: number): void {
  const now = ctx.ports.clock.now();
  const stalledMs = release ? Math.max(0, stallOf(ctx) - ctx.claimStall) : 0;
  const holderOffsetMs = release ? (ctx.ports.clockOffsets?.estimate(release.node)?.offsetMs ?? null) : null;
  const released = new Map((release?.checks ?? []).map((c) => [c.id, c]));
  if (release) ctx.continuedFrom = releaseKey(release);
  // A release from a provisional taker (it ran our slot while we were held dead or starting) was
  // published one epoch past our map's: continue under it, never lower, so results sort after its.
  if (release && release.epoch > ctx.table.epoch) ctx.table.epoch = release.epoch;
  let fromRelease = 0;
  for (const spec of ctx.pending.values()) {
    const rc = released.get(spec.id);
    if (rc) fromRelease++;
    carryOut(ctx, rc ? ctx.table.setReleased(spec, rc, now, { stalledMs, holderOffsetMs }) : ctx.table.set(spec, now, mode, unheldSince));
    quorumSet(ctx, spec, rc);
    // A push check's deadline continues from the release's ages; without one it starts now (push-deadline.ts).
    pushOwn(ctx, spec, rc?.push);
  }
  ctx.ports.metrics.addChecks(ctx.pending.size);
  if (release) ctx.log.info({ event: 'handover_received', from: release.node, epoch: release.epoch, checks: fromRelease, fromStream: ctx.pending.size - fromRelease, stalledMs: Math.round(stalledMs), holderOffsetMs }, 'continuing from the previous holder\'s release');
  ctx.pending.clear();
}

/** Answer claims on `<…>.claim` while this runner holds (shard, rank). */
export function answerClaims(ctx: RunnerContext): void {
  listen(ctx, ctx.ports.subjects.shardClaim(ctx.shard, ctx.rank), parseClaim, 'claim_refused', (claim, m) => ctx.send({ type: 'CLAIM', claim, answer: (a) => m.respond(a) }));
}

/** What to do with a claim in `phase` (protocol/handover.ts decideClaim). */
export function claimDecision(ctx: RunnerContext, phase: HolderPhase, claim: ClaimRequest): ClaimDecision {
  return decideClaim(phase, claim, { ...meAsClaimant(ctx), releasedTo: ctx.claimedBy, claimantHeld: ctx.ports.heldDead?.(claim.node) === true });
}

/** Answer `held`: we run the slot for a claimant we hold dead or still starting (protocol/takeover.ts). */
export function answerHeld(ctx: RunnerContext, claim: ClaimRequest, answer: (a: ClaimAnswer) => void): void {
  answer({ answer: 'held' });
  if (ctx.heldAnswers++ === 0) ctx.log.info({ event: 'claim_held', by: claim.node, epoch: claim.epoch }, 'claimed by a node held dead or still starting: probing on for it until it is heard running');
}

/** Note that a claimant asked: it gets the release (the first one only). Tell the owner once the release is out too. */
export function noteClaimed(ctx: RunnerContext, claim: ClaimRequest): void {
  if (!ctx.claimedBy) {
    ctx.log.info({ event: 'handover_claimed', by: claim.node, epoch: claim.epoch }, 'claimed by the new owner');
    ctx.claimedBy = claim;
  }
  if (ctx.kept) ctx.onHandedOver();
}

/** Answer `taken`: the release went to another claimant (protocol/handover.ts decideClaim). */
export function answerTaken(ctx: RunnerContext, claim: ClaimRequest, answer: (a: ClaimAnswer) => void): void {
  const to = ctx.claimedBy;
  if (!to) return;
  answer({ answer: 'taken', by: to.node, epoch: to.epoch });
  if (ctx.takenAnswers++ === 0) ctx.log.warn({ event: 'claim_after_taken', by: claim.node, epoch: claim.epoch, releasedTo: to.node, releasedEpoch: to.epoch }, 'claimed by a second node after the release went to another: answered taken (two maps in flight)');
}

/** Build the release from the table (nothing in flight any more), publish it, keep it. */
export function publishRelease(ctx: RunnerContext): void {
  const { ports } = ctx;
  const now = ports.clock.now();
  // Each check's probes of its current stretch go with it: a receiver that probed meanwhile counts what ran twice.
  const checks = withPushCarry(ctx, withQuorum(ctx, ctx.table.release(now))).map((c) => {
    const p = stretchOf(ctx.table.notesOf(c.id));
    return p ? { ...c, ran: p.n, firstAt: Math.round(ctx.wallOrigin + p.first), lastAt: Math.round(ctx.wallOrigin + p.last), nextAt: Math.round(now + c.dueInMs) } : c;
  });
  const to = ctx.claimedBy;
  const release: ReleaseRecord = { shard: ctx.shard, rank: ctx.rank, node: ports.nodeId, instance: ports.instance, gen: ctx.gen, epoch: ctx.table.epoch, checks, ...(to ? { to: { node: to.node, instance: to.instance, gen: to.gen } } : {}) };
  ports.publish(ports.subjects.shardRelease(ctx.shard, ctx.rank), release);
  // The deadlines went with the release: reports heard from now on are the new owner's.
  pushDisownAll(ctx);
  ctx.kept = { release, at: ports.clock.monotonic() };
  ctx.log.info({ event: 'handover_released', checks: release.checks.length, claimed: to !== null, to: to?.node ?? null }, 'released to the next owner');
  // Nothing to hand over (no checks: the next owner does not claim): handed over as it is.
  if (to || ctx.table.size === 0) ctx.onHandedOver();
}

/** The kept release for a late claim, each dueInMs counted down by the time since it was made. */
export function keptAnswer(ctx: RunnerContext): ClaimAnswer | null {
  if (!ctx.kept) return null;
  const elapsed = ctx.ports.clock.monotonic() - ctx.kept.at;
  const { release } = ctx.kept;
  return { answer: 'released', release: { ...release, checks: release.checks.map((c) => agedPush({ ...c, dueInMs: c.dueInMs - elapsed }, elapsed)) } };
}

const releaseKey = (r: ReleaseRecord) => `${r.node}/${r.instance}/${r.gen}`;

/**
 * A release of our (shard, rank) from another node that we did not continue from: that node ran
 * our checks while we did — a holder we took over from without a release (its late release), or a
 * provisional taker stepping back now that we are heard again. The probes both ran are counted
 * (protocol/overlap.ts; `probing`: we still probe them, else our last probe bounds the overlap);
 * while we probe, its seq and verdict are taken where it got further, and its epoch when higher,
 * so our next results sort after its.
 */
export function takeForeignRelease(ctx: RunnerContext, release: ReleaseRecord, probing: boolean): void {
  // The release we continued from, or took already (a takeover claim's answer, then the same release heard on `.release`).
  if (releaseKey(release) === ctx.continuedFrom) return;
  ctx.continuedFrom = releaseKey(release);
  const { ports, table } = ctx;
  const wall = ports.clock.now();
  const resumes = ports.queue.resumes;
  const estimate = ports.clockOffsets?.estimate(release.node)?.offsetMs;
  const offsetMs = estimate ?? 0;
  let duplicates = 0;
  let adopted = 0;
  let continued = 0;
  for (const rc of release.checks) {
    // Not probed here yet (a takeover's pending catch-up): continue from the release, no slot twice.
    const placed = probing ? table.continueUnprobed(rc, wall, { holderOffsetMs: estimate ?? null }) : null;
    // A push check's deadline: what the other node heard is merged in (the newer report, the earlier start: push-deadline.ts withCarry).
    const pushSpec = probing && rc.push ? table.specOf(rc.id) : undefined;
    if (pushSpec) pushOwn(ctx, pushSpec, rc.push);
    if (placed) {
      carryOut(ctx, placed);
      continued++;
      continue;
    }
    if (probing && table.adopt(rc)) adopted++;
    if (probing && rc.quorum) quorumAdopt(ctx, rc.id, rc.quorum);
    const notes = table.notesOf(rc.id);
    const p = stretchOf(notes);
    if (!p) continue;
    const from = notes!.resumedSeq ?? undefined;
    // At most the probes they published past the result we resumed from, and that one (our first
    // probe, a takeover's catch-up, may share its interval): theirProbes' cap.
    const their = theirProbes(rc, offsetMs, wall, p.intervalMs, from === undefined ? undefined : rc.seq - from + 1);
    // Our probes before the queue was last held (we were paused) are a stretch that ended then.
    const ours = p.resumes === resumes ? { first: ctx.wallOrigin + p.first, ...(probing ? {} : { last: ctx.wallOrigin + p.last }) } : { first: null };
    // Slot intervals cut on our own grid for the check (its next slot).
    const n = duplicateProbes(their, ours, p.intervalMs, table.nextSlotAt(rc.id));
    if (n > 0) ctx.log.debug({ event: 'handover_overlap', check: rc.id, duplicates: n, their, ours, offsetMs, grid: table.nextSlotAt(rc.id) ?? null }, 'probes this check ran twice');
    duplicates += n;
  }
  const epochBefore = table.epoch;
  if (probing && release.epoch > table.epoch) table.epoch = release.epoch;
  if (duplicates > 0) ports.metrics.duplicateRuns.inc(duplicates);
  if (duplicates > 0 || adopted > 0 || continued > 0 || table.epoch !== epochBefore) {
    const fields = { event: 'handover_late_release', from: release.node, epoch: release.epoch, duplicates, adopted, continued, ...(table.epoch !== epochBefore ? { epochFrom: epochBefore, epochTo: table.epoch } : {}) };
    ctx.log.warn(fields, 'another node ran these checks while this one did: probes ran twice; continuing past its results');
  }
}

/** Unsubscribe everything this runner listens on. */
export function stopListening(ctx: RunnerContext): void {
  for (const unsub of ctx.unsubs.splice(0)) unsub();
}

/**
 * The claimant's next step (protocol/handover.ts claimNext) for a CLAIM_RESULT — an answer to any
 * attempt counts (attempts overlap; a loaded holder may answer an earlier one) — or for the retry
 * tick, which judges the silence.
 */
export const nextOf = (ctx: RunnerContext, e: RunnerEvent) => {
  // Only the time this node could run counts as the holder's silence: after a stall of our own,
  // its answer may sit unread (timers run before the socket is read).
  const silentMs = Math.max(0, ctx.ports.clock.monotonic() - ctx.silentSince - (stallOf(ctx) - ctx.silentStall));
  if (e.type === 'CLAIM_RETRY') return claimNext('silence', silentMs, ctx.ports.claimWaitMs);
  return e.type === 'CLAIM_RESULT' && e.event !== 'silence' ? claimNext(e.event, silentMs, ctx.ports.claimWaitMs) : null;
};
