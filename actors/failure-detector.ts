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
// "Fresher" orders heartbeats by (startedAt, incarnation, seq): a restarted process (later
// startedAt) supersedes its previous life; a member that hears itself suspected raises its
// incarnation and heartbeats at once, which every observer takes as fresh; seq orders the
// heartbeats of one incarnation.
//
// While this node is cut off from NATS it hears nobody, and silence means nothing: `pause` stops
// the clock of every member, `resume` restarts it from now (everyone gets the benefit of the doubt).
// Likewise when this process itself stalled (ticks more than suspectAfterMs apart: SIGSTOP, a long
// GC), it was us who were silent, not them.

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Heartbeat {
  node: string;
  startedAt: number;
  incarnation: number;
  seq: number;
  version: string;
  shards: number;
  checks: number;
  leaving: boolean;
}

export interface Member extends Heartbeat {
  state: MemberState;
  /** Monotonic time the last fresh heartbeat arrived. */
  lastHeard: number;
  /** Monotonic time of the last state change. */
  since: number;
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
}

function fresher(a: Pick<Heartbeat, 'startedAt' | 'incarnation' | 'seq'>, b: Pick<Heartbeat, 'startedAt' | 'incarnation' | 'seq'>): boolean {
  if (a.startedAt !== b.startedAt) return a.startedAt > b.startedAt;
  if (a.incarnation !== b.incarnation) return a.incarnation > b.incarnation;
  return a.seq > b.seq;
}

export class FailureDetector {
  private readonly members = new Map<string, Member>();
  private paused = false;
  private lastTick: number | null = null;

  constructor(
    readonly self: string,
    private readonly cfg: DetectorConfig,
  ) {
    if (!(cfg.deadAfterMs > cfg.suspectAfterMs && cfg.suspectAfterMs > 0)) {
      throw new Error('failure detector: need 0 < suspectAfterMs < deadAfterMs');
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
      this.members.set(node, { node, startedAt: 0, incarnation: 0, seq: 0, version: '', shards: 0, checks: 0, leaving: false, state: 'alive', lastHeard: now, since: now });
      out.push({ node, from: 'new', to: 'alive', incarnation: 0 });
    }
    return out;
  }

  heartbeat(hb: Heartbeat, now: number): MemberChange[] {
    const m = this.members.get(hb.node);
    if (m && !fresher(hb, m)) return [];
    const to: MemberState = hb.leaving ? 'left' : 'alive';
    const next: Member = { ...hb, state: to, lastHeard: now, since: m && m.state === to ? m.since : now };
    this.members.set(hb.node, next);
    if (m && m.state === to) return [];
    return [{ node: hb.node, from: m ? m.state : 'new', to, incarnation: hb.incarnation }];
  }

  /** Apply silence: alive → suspect → dead. Call on every tick. */
  tick(now: number): MemberChange[] {
    if (this.paused) return [];
    const stalled = this.lastTick !== null && now - this.lastTick > this.cfg.suspectAfterMs;
    this.lastTick = now;
    if (stalled) {
      this.resume(now);
      return [];
    }
    const window = this.cfg.deadAfterMs - this.cfg.suspectAfterMs;
    const out: MemberChange[] = [];
    for (const m of this.members.values()) {
      if (m.node === this.self) continue;
      const silent = now - m.lastHeard;
      let to: MemberState | null = null;
      if (m.state === 'alive' && silent >= this.cfg.suspectAfterMs) to = 'suspect';
      else if (m.state === 'suspect' && silent >= this.cfg.deadAfterMs && now - m.since >= window) to = 'dead';
      if (to) {
        out.push({ node: m.node, from: m.state, to, incarnation: m.incarnation });
        m.state = to;
        m.since = now;
      }
    }
    return out;
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
    for (const n of gone) this.members.delete(n);
    return gone;
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
