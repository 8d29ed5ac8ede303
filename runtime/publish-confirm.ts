// Results and status changes that may have been lost with a NATS link (issue 11 §5: "say what is
// lost"). A message written into a connection is in the server's hands only once a later round
// trip on the same connection (a flush: PING → PONG) has come back. When the link drops — a stale
// connection, a reset — what was written since the last completed round trip may have died in the
// old socket; and what is written while the link is down is dropped at the next reconnect attempt
// (nats.js empties its buffer then; README, NATS outage). So the node flushes every
// CONFIRM_EVERY_MS and reports (`publishes_unconfirmed`, lookout_publishes_unconfirmed_total), on
// a disconnect, how many messages were written since the last confirmation, and on the reconnect
// how many were written while it was down: an upper bound on what the outage lost.

/** How often a node confirms what it wrote (one flush round trip). */
export const CONFIRM_EVERY_MS = 1000;

export interface Unconfirmed {
  results: number;
  statuses: number;
}

export class PublishConfirm {
  private sent: Unconfirmed = { results: 0, statuses: 0 };
  private confirmed: Unconfirmed = { results: 0, statuses: 0 };
  /** Bumped on every disconnect: a round trip started on an earlier link confirms nothing. */
  private link = 0;

  noteSent(kind: keyof Unconfirmed): void {
    this.sent[kind]++;
  }

  /** A round trip starts: call the returned function when it completes. */
  begin(): () => void {
    const mark = { ...this.sent };
    const link = this.link;
    return () => {
      if (link !== this.link) return;
      this.confirmed = { results: Math.max(this.confirmed.results, mark.results), statuses: Math.max(this.confirmed.statuses, mark.statuses) };
    };
  }

  /** The link dropped: what was written since the last confirmation may be lost; counting starts over. */
  disconnected(): Unconfirmed {
    this.link++;
    const lost = { results: this.sent.results - this.confirmed.results, statuses: this.sent.statuses - this.confirmed.statuses };
    this.confirmed = { ...this.sent };
    return lost;
  }
}

/** A node's confirmation loop: counts what it writes, flushes every CONFIRM_EVERY_MS, reports what a dropped link may have lost. */
export interface PublishConfirmLoop {
  /** A message was written on `subject` (results and status changes are counted). */
  sent(subject: string): void;
  /** The link dropped, or came back (what was written while it was down): log and count what may be lost. */
  linkDropped(): void;
  stop(): void;
}

export function startPublishConfirm(o: {
  flush(): Promise<void>;
  prefixes: { result: string; status: string };
  metrics: { publishesUnconfirmed: { inc(labels: { type: 'result' | 'status' }, n: number): void } };
  log: { warn(fields: object, msg: string): void };
}): PublishConfirmLoop {
  const counts = new PublishConfirm();
  const timer = setInterval(() => {
    const done = counts.begin();
    o.flush().then(done, () => {});
  }, CONFIRM_EVERY_MS);
  return {
    sent(subject) {
      if (subject.startsWith(o.prefixes.result)) counts.noteSent('results');
      else if (subject.startsWith(o.prefixes.status)) counts.noteSent('statuses');
    },
    linkDropped() {
      const lost = counts.disconnected();
      if (lost.results === 0 && lost.statuses === 0) return;
      o.metrics.publishesUnconfirmed.inc({ type: 'result' }, lost.results);
      o.metrics.publishesUnconfirmed.inc({ type: 'status' }, lost.statuses);
      o.log.warn({ event: 'publishes_unconfirmed', ...lost }, 'the NATS link dropped: results and status changes written since the last confirmed round trip may be lost');
    },
    stop: () => clearInterval(timer),
  };
}
