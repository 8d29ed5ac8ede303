// One spec tail per node (issue 12 §4): every held shard is followed after its load through ONE
// consumer over the whole spec bucket, started by sequence with no subject filter, and routed to
// the shards inside the node. On nats-server 2.9 creating a consumer filtered to one shard took
// 2–4 s each on a busy server (hundreds per start, map change or reconnect; the JetStream API is
// served in turn, so the nodes' PINGs waited, links went stale and maps churned — BENCHMARKS.md
// §16); an unfiltered consumer starting at a sequence is cheap to create.
//
// `follow(shard, from)` is a shard's tail: every change of its keys from stream sequence `from`
// on. The shared consumer runs from the lowest sequence any follower still needs: a follower that
// needs sequences the consumer has passed restarts it from there (once per turn for all such
// followers; the old consumer's deliveries are dropped from that moment, and each follower skips
// what it has had — its `next`), so nothing between a shard's load and its tail is lost. A
// follower arriving while a consumer is being created joins it if it starts early enough. A change
// of a key no follower wants is skipped on its key (its value never decoded). A consumer that fails
// or ends is started again after a backoff from the lowest sequence still needed; its followers
// just wait. Memory is the held shards' specs; the bandwidth is every change of the bucket.

import type { Logger } from './logger';
import type { SpecChange, SpecWatch } from './spec-watch';

/** First restart of a failed node tail, doubled per consecutive failure up to RETRY_MAX_MS. */
export const TAIL_RETRY_MIN_MS = 500;
export const TAIL_RETRY_MAX_MS = 10_000;

interface Follower {
  shard: number;
  /** The next stream sequence it wants (it has had everything before). */
  next: number;
  queue: SpecChange[];
  wake: (() => void) | null;
  stopped: boolean;
}

export class NodeSpecTail {
  private readonly followers = new Map<number, Set<Follower>>();
  /** Bumped whenever the consumer is replaced: deliveries of an older generation are dropped. */
  private gen = 0;
  private watch: SpecWatch | null = null;
  /** The consumer's next sequence (what it will deliver next at the earliest); null: none runs. */
  private next: number | null = null;
  /** The sequence the consumer being created (not yet delivering) starts from; null: none is. */
  private creating: number | null = null;
  /** Resolves once the consumer started for the current generation exists (or failed). */
  private opened: Promise<void> = Promise.resolve();
  /** A restart is scheduled for the next turn (followers asking meanwhile share it). */
  private restartPending = false;
  private retry: ReturnType<typeof setTimeout> | null = null;
  private failures = 0;
  private stopped = false;

  constructor(
    /** A watch of every key of the bucket from stream sequence `from` on. */
    private readonly open: (from: number) => Promise<SpecWatch>,
    /** The shard and check id a key names (null: not a spec key of this bucket). */
    private readonly keyOf: (key: string) => { shard: number; id: string } | null,
    private readonly log: Logger,
  ) {}

  /** Shard `shard`'s changes from stream sequence `from` on; resolves once a consumer serving them exists. */
  async follow(shard: number, from: number): Promise<SpecWatch> {
    const f: Follower = { shard, next: from, queue: [], wake: null, stopped: false };
    let set = this.followers.get(shard);
    if (!set) this.followers.set(shard, (set = new Set()));
    set.add(f);
    // The consumer has passed `from`, or none runs nor is being created from at most `from`: start
    // it again from the lowest still needed. A consumer being created from `from` or before serves
    // this follower too (it skips what it has had): on a busy server a creation takes seconds, and
    // restarting it for every shard that arrives meanwhile would never let one finish.
    const covered = this.next !== null ? this.next <= from : this.creating !== null && this.creating <= from;
    if (!covered) this.restartSoon();
    await this.opened;
    const changes = async function* (): AsyncGenerator<SpecChange> {
      while (!f.stopped) {
        const c = f.queue.shift();
        if (c) yield c;
        else await new Promise<void>((r) => (f.wake = r));
      }
    };
    return {
      changes: changes(),
      stop: () => {
        f.stopped = true;
        set.delete(f);
        if (set.size === 0 && this.followers.get(shard) === set) this.followers.delete(shard);
        f.wake?.();
      },
    };
  }

  /** Stops the consumer; resolves once none is being created. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.gen++;
    this.creating = null;
    if (this.retry) clearTimeout(this.retry);
    await this.opened;
    this.watch?.stop();
    this.watch = null;
  }

  /** The lowest sequence a follower still needs (null: no follower). */
  private lowest(): number | null {
    let low: number | null = null;
    for (const set of this.followers.values()) for (const f of set) if (low === null || f.next < low) low = f.next;
    return low;
  }

  /** Drops the running consumer's deliveries now, and starts one from the lowest sequence needed on the next turn. */
  private restartSoon(): void {
    if (this.stopped || this.restartPending) return;
    const gen = ++this.gen;
    this.next = null;
    this.creating = null;
    this.restartPending = true;
    let done: () => void = () => {};
    this.opened = new Promise<void>((r) => (done = r));
    setImmediate(() => {
      this.restartPending = false;
      void this.start(gen).finally(done);
    });
  }

  private async start(gen: number): Promise<void> {
    this.watch?.stop();
    this.watch = null;
    const from = this.lowest();
    if (from === null || this.stopped || gen !== this.gen) return;
    this.creating = from;
    let w: SpecWatch;
    try {
      w = await this.open(from);
    } catch (err) {
      if (gen === this.gen) this.creating = null;
      this.failed(gen, err);
      return;
    }
    if (gen !== this.gen || this.stopped) {
      w.stop();
      return;
    }
    this.creating = null;
    this.watch = w;
    this.next = from;
    this.log.info({ event: 'spec_tail_started', from, shards: this.followers.size }, "the node's spec tail started (one consumer for every held shard)");
    void this.deliver(gen, w);
  }

  private async deliver(gen: number, w: SpecWatch): Promise<void> {
    try {
      for await (const c of w.changes) {
        if (gen !== this.gen) return;
        this.failures = 0;
        this.next = c.revision + 1;
        const k = c.key === null ? null : this.keyOf(c.key);
        const set = k ? this.followers.get(k.shard) : undefined;
        if (k && set) {
          for (const f of set) {
            if (c.revision < f.next) continue;
            f.next = c.revision + 1;
            f.queue.push({ ...c, key: k.id, initialDone: true });
            f.wake?.();
          }
        }
        // Every follower this consumer serves has had everything up to here (in order, none of it
        // theirs): a later restart need not go back before it.
        for (const fs of this.followers.values()) for (const f of fs) if (f.next <= c.revision) f.next = c.revision + 1;
      }
      if (gen === this.gen) this.failed(gen, new Error('the node spec tail ended'));
    } catch (err) {
      if (gen === this.gen) this.failed(gen, err);
    }
  }

  private failed(gen: number, err: unknown): void {
    if (this.stopped || gen !== this.gen) return;
    this.watch?.stop();
    this.watch = null;
    this.next = null;
    const retryInMs = Math.min(TAIL_RETRY_MAX_MS, TAIL_RETRY_MIN_MS * 2 ** this.failures++);
    this.log.warn({ event: 'spec_tail_failed', err, failures: this.failures, retryInMs }, "the node's spec tail failed; it starts again from the lowest sequence a shard still needs");
    this.retry = setTimeout(() => {
      this.retry = null;
      this.restartSoon();
    }, retryInMs);
  }
}
