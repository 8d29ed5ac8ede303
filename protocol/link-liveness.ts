// Is the NATS link alive? The judgement behind the node's link watch (runtime/link-watch.ts), pure.
//
// nats.js takes a link for dead when `maxPingOut` PINGs in a row go unanswered, and it counts them
// in a timer that runs before the node reads its socket. Two things it cannot tell apart from a
// dead link, both seen at 100k checks on a saturated 2-core host (BENCHMARKS.md §16):
//   - a node chewing through a backlog of messages: the server's PONG sits behind them in the same
//     TCP stream, and the node reaches it seconds later — while messages arrive all along;
//   - a server slow to read the node's PINGs (its read loop over 2 s) while it still delivers.
// Each false "stale" is a reconnect, and each reconnect costs the cluster (subscriptions made
// again, the spec tail resumed, heartbeats missed: members look dead and shards move), which
// slows everything further (the 100k starts that collapsed, 3 of 5 runs, had 12–66 stale links per
// node; that they began it is not shown).
//
// So a link is alive while anything comes from the server: a PONG, or any message. It is stale
// after more than `maxSilentTicks` judgements in a row with neither, each made after the node has
// read what was waiting on its socket (so the node's own lag is not taken for the link's). A link
// that delivers but never answers a PING (a server that stopped reading this client) is left to
// nats.js's own pinging, kept as a slower backstop.

export interface LinkLiveness {
  /** stats().inMsgs at the last judgement. */
  inMsgs: number;
  /** PONGs answered at the last judgement (a running count). */
  pongs: number;
  /** Judgements in a row that heard nothing from the server. */
  silentTicks: number;
}

export interface LinkObservation {
  /** Messages received on the connection so far (nats.js stats().inMsgs). */
  inMsgs: number;
  /** PONGs received for the watch's own PINGs so far. */
  pongs: number;
}

export type LinkVerdict = 'alive' | 'silent' | 'stale';

/** The state of a link just (re)connected, or whose counters were read at `o`. */
export function freshLiveness(o: LinkObservation): LinkLiveness {
  return { inMsgs: o.inMsgs, pongs: o.pongs, silentTicks: 0 };
}

/**
 * One judgement: `alive` if a PONG or a message came since the last one, `silent` if nothing did
 * (yet), `stale` once more than `maxSilentTicks` judgements in a row heard nothing.
 */
export function judgeLink(s: LinkLiveness, o: LinkObservation, maxSilentTicks: number): { state: LinkLiveness; verdict: LinkVerdict } {
  const heard = o.pongs !== s.pongs || o.inMsgs !== s.inMsgs;
  const silentTicks = heard ? 0 : s.silentTicks + 1;
  const verdict: LinkVerdict = heard ? 'alive' : silentTicks > maxSilentTicks ? 'stale' : 'silent';
  return { state: { inMsgs: o.inMsgs, pongs: o.pongs, silentTicks }, verdict };
}
