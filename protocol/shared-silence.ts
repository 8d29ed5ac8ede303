// Shared silence: when most of the members a node hears go silent at once, the silence is more
// likely the path's than theirs. Every heartbeat passes the same NATS server and this node's one
// link to it, so a server that is slow to route (a takeover's burst of KV writes at 100k checks
// delayed every heartbeat by ~2–3 s: BENCHMARKS.md §16) or a link that froze silences everyone
// together, while members die one at a time. Left alone, the failure detector of a node whose own
// link froze declared both of its peers dead and took over all their slots before its link watch
// could find the link stale (the chaos `link-freeze` scenario broke 2 of 6 short runs that way),
// and at 100k checks live members were declared dead and their shards moved back and forth.
//
// The rule: at a tick where at least two members, and more than half of the live members this node
// hears (alive or suspect, not itself), are silent past suspectAfterMs, each of the silent members
// is judged with a grace added to both thresholds until it is heard again (memberlist's Lifeguard
// scales its timeouts by the observer's own health for the same reason). One silent member is never
// shared: a node that hears a single peer judges it as usual, and so does a node that hears five
// when two go. A real crash of a majority at once is found one grace later. The grace is bounded
// (at most deadAfterMs, LOOKOUT_SHARED_SILENCE_GRACE_MS); 0 turns the rule off.
//
// Pure: the members and the monotonic time come in, the members to mark come out.

import type { MemberState } from './failure-detector';

/** What the rule reads of a member. */
export interface Heard {
  node: string;
  state: MemberState;
  /** Monotonic time the last fresh heartbeat arrived. */
  lastHeard: number;
}

export interface SharedSilence {
  /** The members silent past suspectAfterMs at this tick (sorted). */
  silent: string[];
  /** Live members (alive or suspect) other than this node. */
  live: number;
}

/** The silent members at `now` when their silence is shared (≥ 2 and more than half of the live others); null otherwise. */
export function sharedSilence(members: Iterable<Heard>, self: string, now: number, suspectAfterMs: number): SharedSilence | null {
  let live = 0;
  const silent: string[] = [];
  for (const m of members) {
    if (m.node === self || (m.state !== 'alive' && m.state !== 'suspect')) continue;
    live++;
    if (now - m.lastHeard >= suspectAfterMs) silent.push(m.node);
  }
  if (silent.length < 2 || silent.length * 2 <= live) return null;
  return { silent: silent.sort(), live };
}
