// Clock offsets between nodes, estimated from heartbeats: for display and alerting only. No
// decision about who probes, who leads or which life of a node is newer may read these numbers
// (DESIGN.md §5.7: nothing depends on two nodes' wall clocks agreeing).
//
// Every heartbeat carries `sentAt`, the sender's wall clock when it sent it. On receipt a node
// takes one sample per heartbeat:
//
//   sample = peer sentAt − local wall clock at receipt = offset − delay
//
// where offset is how far the peer's clock is ahead of ours and delay (≥ 0) is everything between
// the two clock readings: the sender's event loop, NATS, ours. Delay only makes a sample smaller,
// so of the last CLOCK_WINDOW samples the largest (the least-delayed heartbeat) is the estimate;
// the spread of the window (largest − smallest) is reported as its uncertainty: how much the delay
// varied. One-way messages cannot measure the smallest delay itself, so the estimate reads low by
// that much (well under a millisecond on a LAN). A peer's new life (another instance) starts a new
// window: it may run on another machine with another clock.
//
// A node's skew is its offset from the median of the cluster's clocks, this node's own included
// (offset 0): with three nodes and one of them 30 s behind, every node — the skewed one too —
// names the same node as off by −30 s. With two nodes the median is halfway, and each is off by
// half the difference: one-way samples cannot say which clock is wrong.
//
// Crossing the bound (|skew| > boundMs) raises a node's flag; it is cleared once |skew| is back
// under SKEW_CLEAR_RATIO of the bound (hysteresis, so a clock that hovers at the bound does not
// flap in the logs). `judge` returns the crossings; the membership actor logs them. It judges
// only a complete report, since a median that lacks a clock can blame a sound one (two clocks of
// three: halfway to the skewed node): not while a live peer that sends `sentAt` has too few
// samples yet (a peer just started, joined or restarted), and not before this node has listened
// for `settleMs` (the failure detector's suspicion time: by then every live peer has been heard,
// so a node that just started does not judge from the first peer it heard). Peers that never send
// `sentAt` (an earlier version) have no estimate and are left out, not waited for.

/** Heartbeat samples kept per peer: about 8 s of heartbeats at the production profile's 500 ms. */
export const CLOCK_WINDOW = 16;

/** Samples a peer needs before it gets an estimate (one delayed first heartbeat is not a skew). */
export const CLOCK_MIN_SAMPLES = 3;

/**
 * LOOKOUT_CLOCK_SKEW_WARN_MS default: a node whose clock is more than 1 s from the cluster's
 * median is reported. Lookout's own decisions tolerate any skew; probe `at` times, slot phases
 * and log timestamps from that node are what an operator would misread.
 */
export const CLOCK_SKEW_WARN_MS = 1000;

/** A flagged node is cleared once |skew| ≤ this fraction of the bound. */
export const SKEW_CLEAR_RATIO = 0.8;

export interface OffsetEstimate {
  /** Peer clock − this node's clock, ms (the least-delayed sample). */
  offsetMs: number;
  /** Spread of the samples, ms. */
  uncertaintyMs: number;
  samples: number;
}

/** One node's clock as this node sees it (itself included: offset 0). */
export interface NodeClock {
  offsetMs: number;
  uncertaintyMs: number;
  /** Offset from the median of the live nodes' clocks. */
  skewMs: number;
}

export interface ClockReport {
  boundMs: number;
  /** By node: every node with an estimate, and this node. */
  nodes: ReadonlyMap<string, NodeClock>;
  /** Live peers that send sentAt but have too few samples for an estimate yet. */
  pending: number;
  /** This node has listened for less than settleMs: it may not have heard every peer yet. */
  settling: boolean;
}

/** A node crossed the bound (`skewed`) or came back within it (`cleared`). */
export interface SkewChange {
  node: string;
  to: 'skewed' | 'cleared';
  offsetMs: number;
  skewMs: number;
  uncertaintyMs: number;
}

/** The estimate from a window of samples (null below `minSamples`). */
export function estimateOffset(samples: readonly number[], minSamples = CLOCK_MIN_SAMPLES): OffsetEstimate | null {
  if (samples.length === 0 || samples.length < minSamples) return null;
  let best = -Infinity;
  let worst = Infinity;
  for (const s of samples) {
    if (s > best) best = s;
    if (s < worst) worst = s;
  }
  return { offsetMs: best, uncertaintyMs: best - worst, samples: samples.length };
}

/** Median of a non-empty list (the mean of the middle two for an even count); null when empty. */
export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface PeerWindow {
  instance: string;
  samples: number[];
}

export class ClockOffsets {
  private readonly peers = new Map<string, PeerWindow>();
  private readonly flagged = new Set<string>();
  /** Time of the first report: listening since. */
  private since: number | null = null;

  constructor(
    readonly self: string,
    private readonly window = CLOCK_WINDOW,
    private readonly minSamples = CLOCK_MIN_SAMPLES,
    private readonly settleMs = 0,
  ) {
    if (!(window >= 1 && minSamples >= 1 && minSamples <= window)) throw new Error('clock offsets: need 1 ≤ minSamples ≤ window');
  }

  /**
   * A heartbeat of `peer`'s life `instance`, sent at its `sentAt`, received at our `recvAt`. A
   * heartbeat without sentAt is no sample, but a new life without it (a downgrade) still ends the
   * old life's window.
   */
  sample(peer: string, instance: string, sentAt: number | undefined, recvAt: number): void {
    if (peer === this.self) return;
    let w = this.peers.get(peer);
    if (w && w.instance !== instance) {
      this.peers.delete(peer);
      w = undefined;
    }
    if (sentAt === undefined || !Number.isFinite(sentAt) || !Number.isFinite(recvAt)) return;
    if (!w) {
      w = { instance, samples: [] };
      this.peers.set(peer, w);
    }
    w.samples.push(sentAt - recvAt);
    if (w.samples.length > this.window) w.samples.shift();
  }

  estimate(peer: string): OffsetEstimate | null {
    const w = this.peers.get(peer);
    return w ? estimateOffset(w.samples, this.minSamples) : null;
  }

  /** Drop a forgotten peer (its flag goes with it, without a `cleared`). */
  forget(peer: string): void {
    this.peers.delete(peer);
    this.flagged.delete(peer);
  }

  /**
   * Every node's clock as this node sees it. The median is taken over `live` nodes with an
   * estimate and this node; a peer that is not live keeps its last estimate for display. `now`:
   * monotonic ms (the first report starts the settle time).
   */
  report(live: readonly string[], boundMs: number, now = 0): ClockReport {
    this.since ??= now;
    const estimates = new Map<string, OffsetEstimate>([[this.self, { offsetMs: 0, uncertaintyMs: 0, samples: 0 }]]);
    for (const peer of this.peers.keys()) {
      const e = this.estimate(peer);
      if (e) estimates.set(peer, e);
    }
    const isLive = new Set(live);
    const pending = [...this.peers.keys()].filter((p) => isLive.has(p) && !estimates.has(p)).length;
    const center = median([...estimates].filter(([n]) => n === this.self || isLive.has(n)).map(([, e]) => e.offsetMs)) ?? 0;
    const nodes = new Map<string, NodeClock>();
    for (const [n, e] of estimates) nodes.set(n, { offsetMs: e.offsetMs, uncertaintyMs: e.uncertaintyMs, skewMs: e.offsetMs - center });
    return { boundMs, nodes, pending, settling: now - this.since < this.settleMs };
  }

  /**
   * The crossings since the last call: nodes past the bound, and flagged nodes back within it.
   * Nothing while the report is incomplete (`pending`, `settling`).
   */
  judge(report: ClockReport): SkewChange[] {
    const out: SkewChange[] = [];
    if (report.pending > 0 || report.settling) return out;
    for (const [node, c] of report.nodes) {
      const off = Math.abs(c.skewMs);
      const was = this.flagged.has(node);
      if (!was && off > report.boundMs) this.flagged.add(node);
      else if (was && off <= report.boundMs * SKEW_CLEAR_RATIO) this.flagged.delete(node);
      else continue;
      out.push({ node, to: was ? 'cleared' : 'skewed', offsetMs: c.offsetMs, skewMs: c.skewMs, uncertaintyMs: c.uncertaintyMs });
    }
    return out;
  }

  /** Nodes whose flag is raised now. */
  skewed(): string[] {
    return [...this.flagged].sort();
  }
}
