// Failure detector: timeout with suspicion, over heartbeats every node publishes. Pure: time comes
// in as arguments (monotonic ms), changes come out as a list.
//
// Member states and the legal transitions (what an operator reads in the logs):
//
//   alive   → suspect   silent for suspectAfterMs
//   suspect → alive     a fresher heartbeat arrived (the member refuted the suspicion)
//   suspect → dead      still silent after the suspicion window (deadAfterMs − suspectAfterMs);
//                       a member is never declared dead without first being suspected
//   alive | suspect → left   the member announced a graceful leave
//   dead | left → alive      a fresher heartbeat: the member came back (a restart, a healed partition)
//
// A node's lives are told apart by `instance`, an id each process draws at start — never by wall
// time, which two machines need not agree on. Within one life, (incarnation, seq) orders the
// heartbeats: a member that hears itself suspected raises its incarnation and heartbeats at once,
// which every observer takes as fresh. A heartbeat from another instance is a new life (a
// restart) and supersedes the old one. Two instances alive under one node id are a configuration
// error the instances themselves resolve (actors/membership.ts stops one); meanwhile a `leaving`
// heartbeat speaks for its own instance only: it never marks the node left while another instance
// of it was heard within suspectAfterMs.
//
// While this node is cut off from NATS it hears nobody, and silence means nothing: `pause` stops
// the clock of every member, `resume` restarts it from now (everyone gets the benefit of the doubt).
// Likewise when this process itself stalled (ticks more than suspectAfterMs apart: SIGSTOP, a long
// GC), it was us who were silent, not them.
//
// An overloaded node (protocol/overload.ts) heartbeats late: its heartbeat is a timer on the event
// loop that lags. So silence is judged with a grace of overloadGraceMs (LOOKOUT_OVERLOAD_GRACE_MS)
// added to both thresholds when the member's last heartbeat said it is overloaded, or when this node
// says so itself (its own lag delays the heartbeats it reads as much as theirs): a starved but alive
// node is neither suspected every few seconds nor declared dead and its shards moved back and forth.
// The grace is bounded (at most deadAfterMs): a dead overloaded member is dead within
// deadAfterMs + overloadGraceMs of its last heartbeat.
//
// Most members silent at once is the path's silence, not theirs (protocol/shared-silence.ts): each
// member silent at such a tick is judged with sharedSilenceGraceMs added until it is heard again.

import { sharedSilence, type SharedSilence } from './shared-silence';
import type { Heartbeat } from './records';

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Member extends Heartbeat {
  state: MemberState;
  /** Silent at a tick when most members were (shared-silence.ts): judged with the grace until heard again. */
  sharedSilence?: boolean;
  /** Monotonic time the last fresh heartbeat arrived. */
  lastHeard: number;
  /** Monotonic time of the last state change. */
  since: number;
  /**
   * A restart: this life superseded one this detector had heard (alive, suspect or dead — not one
   * that left), and says it is still starting. It stays true until the life's heartbeat says it is
   * running; the slots it owns are run by the next owners meanwhile (protocol/takeover.ts).
   */
  returning?: boolean;
  /**
   * Monotonic time (this detector's) since when the member's life has run: at the first heartbeat
   * without `starting` this detector heard of it, that heartbeat's time less the `runningMs` it
   * carries (how long it had run by then; 0 when absent); absent while it starts. Overload relief and
   * leadership judge a member only once it has run for a while (protocol/overload-relief.ts): every
   * node tracks it, and a node that joined later counts from the member's own duration, not from
   * when it first heard it (a joiner elected leader judged nobody for the first hold: a solo CI
   * failure, 2026-12-07).
   */
  runningSince?: number;
}

export interface MemberChange {
  node: string;
  from: MemberState | 'new';
  to: MemberState;
  incarnation: number;
}

export interface DetectorConfig {
  suspectAfterMs: number;
  deadAfterMs: number;
  /** Extra silence tolerated when the member's last heartbeat, or this node, said overloaded (0 or absent: none). */
  overloadGraceMs?: number;
  /** Extra silence tolerated for a member silent while most were (protocol/shared-silence.ts; 0 or absent: the rule is off). */
  sharedSilenceGraceMs?: number;
}

/** A shared silence a tick found, with the members it marked that were not marked before. */
export interface SharedSilenceNews extends SharedSilence {
  marked: string[];
}

/** Within one instance: is `a` newer than `b`? (Another instance is always a new life.) */
function fresher(a: Pick<Heartbeat, 'instance' | 'incarnation' | 'seq'>, b: Pick<Heartbeat, 'instance' | 'incarnation' | 'seq'>): boolean {
  if (a.instance !== b.instance) return true;
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation;
  return a.seq > b.seq;
}

/**
 * Whether a starting life `hb` is a restart of a life this detector heard (see Member.returning):
 * another instance than a heard one that had not left, or the same life already returning. A member
 * only seeded from a map (instance '') was never heard: a cluster that starts together, or an
 * observer that restarted itself, strikes nobody out.
 */
function returning(m: Member | undefined, hb: Pick<Heartbeat, 'instance'>): boolean {
  if (!m) return false;
  if (m.instance === hb.instance) return m.returning === true;
  return m.instance !== '' && m.state !== 'left';
}

export class FailureDetector {
  private readonly members = new Map<string, Member>();
  /** Per node, when each of its instances was last heard (more than one: a shared node id). */
  private readonly instances = new Map<string, Map<string, number>>();
  private paused = false;
  private lastTick: number | null = null;
  private news: SharedSilenceNews | null = null;

  constructor(
    readonly self: string,
    private readonly cfg: DetectorConfig,
  ) {
    if (!(cfg.deadAfterMs > cfg.suspectAfterMs && cfg.suspectAfterMs > 0)) {
      throw new Error('failure detector: need 0 < suspectAfterMs < deadAfterMs');
    }
    for (const [name, grace] of [['overloadGraceMs', cfg.overloadGraceMs], ['sharedSilenceGraceMs', cfg.sharedSilenceGraceMs]] as const) {
      if (!((grace ?? 0) >= 0 && (grace ?? 0) <= cfg.deadAfterMs)) throw new Error(`failure detector: need 0 ≤ ${name} ≤ deadAfterMs`);
    }
  }

  /**
   * Members known from elsewhere (the current assignment) before any heartbeat was heard:
   * assumed alive as of `now`, so a node that just started does not declare the cluster dead.
   */
  seed(nodes: readonly string[], now: number): MemberChange[] {
    const out: MemberChange[] = [];
    for (const node of nodes) {
      if (this.members.has(node) || node === this.self) continue;
      this.members.set(node, { node, instance: '', startedAt: 0, incarnation: 0, seq: 0, version: '', shards: 0, checks: 0, leaving: false, state: 'alive', lastHeard: now, since: now });
      out.push({ node, from: 'new', to: 'alive', incarnation: 0 });
    }
    return out;
  }

  heartbeat(hb: Heartbeat, now: number): MemberChange[] {
    const m = this.members.get(hb.node);
    if (m && !fresher(hb, m)) return [];
    const lives = this.instances.get(hb.node) ?? new Map<string, number>();
    this.instances.set(hb.node, lives);
    if (hb.leaving) {
      lives.delete(hb.instance);
      // Another instance of this node id is alive: the leave is that one process's, not the node's.
      const other = [...lives.entries()].find(([, heard]) => now - heard < this.cfg.suspectAfterMs);
      if (other) {
        // The next heartbeat of the live instance is taken as fresh, whatever its seq.
        if (m && m.instance === hb.instance) m.instance = '';
        return [];
      }
    } else lives.set(hb.instance, now);
    const to: MemberState = hb.leaving ? 'left' : 'alive';
    const next: Member = { ...hb, state: to, lastHeard: now, since: m && m.state === to ? m.since : now };
    if (hb.starting === true && !hb.leaving && returning(m, hb)) next.returning = true;
    if (hb.starting !== true) next.runningSince = m?.instance === hb.instance && m.runningSince !== undefined ? m.runningSince : now - (hb.runningMs ?? 0);
    this.members.set(hb.node, next);
    if (m && m.state === to) return [];
    return [{ node: hb.node, from: m ? m.state : 'new', to, incarnation: hb.incarnation }];
  }

  /** Apply silence: alive → suspect → dead. Call on every tick. */
  tick(now: number): MemberChange[] {
    this.news = null;
    if (this.paused) return [];
    const stalled = this.lastTick !== null && now - this.lastTick > this.cfg.suspectAfterMs;
    this.lastTick = now;
    if (stalled) {
      this.resume(now);
      return [];
    }
    const window = this.cfg.deadAfterMs - this.cfg.suspectAfterMs;
    const selfOverloaded = this.members.get(this.self)?.overloaded === true;
    this.markSharedSilence(now);
    const out: MemberChange[] = [];
    for (const m of this.members.values()) {
      if (m.node === this.self) continue;
      const silent = now - m.lastHeard;
      const overload = selfOverloaded || m.overloaded === true ? (this.cfg.overloadGraceMs ?? 0) : 0;
      const grace = Math.max(overload, m.sharedSilence === true ? (this.cfg.sharedSilenceGraceMs ?? 0) : 0);
      let to: MemberState | null = null;
      if (m.state === 'alive' && silent >= this.cfg.suspectAfterMs + grace) to = 'suspect';
      else if (m.state === 'suspect' && silent >= this.cfg.deadAfterMs + grace && now - m.since >= window) to = 'dead';
      if (to) {
        out.push({ node: m.node, from: m.state, to, incarnation: m.incarnation });
        m.state = to;
        m.since = now;
      }
    }
    return out;
  }

  /** Marks each silent member when the silence is shared (a member heard again is a new Member, unmarked). */
  private markSharedSilence(now: number): void {
    if (!this.cfg.sharedSilenceGraceMs) return;
    const found = sharedSilence(this.members.values(), this.self, now, this.cfg.suspectAfterMs);
    if (!found) return;
    const marked: string[] = [];
    for (const node of found.silent) {
      const m = this.members.get(node)!;
      if (m.sharedSilence !== true) marked.push(node);
      m.sharedSilence = true;
    }
    if (marked.length) this.news = { ...found, marked };
  }

  /** The shared silence the last tick found, when it marked a member not marked before (for the log); else null. */
  sharedSilenceNews(): SharedSilenceNews | null {
    return this.news;
  }

  pause(): void {
    this.paused = true;
  }

  resume(now: number): void {
    this.paused = false;
    this.lastTick = now;
    for (const m of this.members.values()) if (m.state === 'alive' || m.state === 'suspect') m.lastHeard = now;
  }

  /** Forget members that have been dead or left for `ms` (keeps the table bounded). */
  forget(now: number, ms: number): string[] {
    const gone: string[] = [];
    for (const m of this.members.values()) {
      if ((m.state === 'dead' || m.state === 'left') && now - m.since >= ms) gone.push(m.node);
    }
    for (const n of gone) {
      this.members.delete(n);
      this.instances.delete(n);
    }
    for (const lives of this.instances.values()) {
      for (const [instance, heard] of lives) if (now - heard >= this.cfg.deadAfterMs) lives.delete(instance);
    }
    return gone;
  }

  /** Instances of `node` heard within suspectAfterMs (more than one: two processes share the id). */
  liveInstances(node: string, now: number): string[] {
    return [...(this.instances.get(node) ?? new Map<string, number>()).entries()].filter(([, heard]) => now - heard < this.cfg.suspectAfterMs).map(([i]) => i);
  }

  get(node: string): Member | undefined {
    return this.members.get(node);
  }

  all(): Member[] {
    return [...this.members.values()].sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  }

  /** Members that hold shards: alive and suspect (a suspect keeps its shards until it is dead). */
  live(): string[] {
    return this.all()
      .filter((m) => m.state === 'alive' || m.state === 'suspect')
      .map((m) => m.node);
  }
}
