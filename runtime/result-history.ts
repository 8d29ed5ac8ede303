// How a check gained by this node continues where its last owner left it (protocol/check-resume.ts):
// the newest retained result of the check on the result stream, read by one direct get of the
// subject's last message, and for a check with replicas > 1 the vantage's resume record too
// (resume-store.ts). A node gaining many checks at once (a start, a failover) queues its lookups
// (LookupQueue, at most RESUME_LOOKUPS_IN_FLIGHT out at once); how long each took from being asked
// to being answered, and how many wait, are metrics (`lookout_resume_lookup_seconds`,
// `lookout_resume_lookups_pending`): a gained check's first results are held back until its lookup
// answers, so a slow queue shows as a failover gap.

import type { JetStreamManager } from '@nats-io/jetstream';
import type { ResumeState } from '../protocol/records';
import { isCount, newerResume, parseResumeState } from '../protocol/resume-record';
import { jsmLastMessages, type LastMessages } from './direct-get';
import { PRESENCE_DEFAULTS, ResultPresence, type PresenceConfig, type SubjectListing } from './result-presence';
import type { ResumeRecords } from './resume-store';
import { subjectMessages } from './subject-walk';
import type { Subjects } from './subjects';

/**
 * Where a lookup's answer goes: the asker's one function for all its lookups (a runner has one), told
 * which check it is for — so that a queued lookup holds no closure of its own.
 */
export type ResumeAnswer = (id: string, err: unknown, state: ResumeState | null) => void;

/** The narrow port check runners use to continue a check where its last owner left it. */
export interface ResultHistory {
  /**
   * The newest retained result of `id` probed from `rank` (its `vantage` field), handed to
   * `answer(id, …)` (null: none; an error: it could not be read). `perVantage` (a check with
   * replicas > 1): the vantage's resume record too, and the newer of the two
   * (protocol/resume-record.ts). A callback, not a promise: a node gaining 100k checks queues 100k
   * lookups, and a queued lookup should cost a few array slots, not a promise chain or a closure.
   */
  last(id: string, rank: number, perVantage: boolean, answer: ResumeAnswer): void;
  /**
   * `answer`'s lookups still queued are dropped (one out already is answered): its runner stopped
   * scheduling. A node whose slots churn gains and loses runners faster than its queue drains; kept,
   * the lookups of runners long gone grew to 1.2M queued per node at 1M checks (~100k owned each),
   * the node's memory with them, and each still went to the server (BENCHMARKS.md §16).
   */
  forget(answer: ResumeAnswer): void;
}

type StoredResult = { seq?: unknown; status?: unknown; history?: unknown; slot?: unknown; vantage?: unknown };

/** The rank a stored result was probed from (its wire field `vantage`; 0 in results older than it). */
const rankOf = (r: StoredResult) => (isCount(r.vantage) ? r.vantage : 0);

/** The subjects of `stream` under `filter`, through stream info (nats.js pages a long list). */
export function jsmSubjectListing(jsm: JetStreamManager, stream: string, filter: string): SubjectListing {
  return {
    count: async () => (await jsm.streams.info(stream)).state.num_subjects ?? 0,
    list: async () => new Set(Object.keys((await jsm.streams.info(stream, { subjects_filter: filter })).state.subjects ?? {})),
  };
}

/**
 * Reads the result stream. The newest message of the subject is one direct lookup; when several
 * ranks publish on one subject and the newest is another's, the retained messages of the
 * subject (at most LOOKOUT_RESULTS_PER_CHECK) are walked oldest to newest. A lookup `perVantage`
 * also reads the vantage's resume record (`records`, at the same time) and takes the newer. While
 * many lookups wait, a subject the stream does not hold is answered from one listing of its
 * subjects instead (result-presence.ts).
 */
export function streamResultHistory(
  jsm: JetStreamManager,
  s: Subjects,
  records: ResumeRecords | null,
  observer?: LookupObserver,
  maxInFlight = RESUME_LOOKUPS_IN_FLIGHT,
  gets: LastMessages = jsmLastMessages(jsm),
  presenceCfg: PresenceConfig = PRESENCE_DEFAULTS,
  listing: SubjectListing = jsmSubjectListing(jsm, s.resultStream(), s.resultWildcard()),
): ResultHistory & { readonly presence: ResultPresence } {
  const stream = s.resultStream();
  const queue = new LookupQueue(maxInFlight, (id, rank, perVantage, n) => (perVantage && records ? lastOfVantage(id, rank, n, records) : lastOf(id, rank, n)), observer);
  const presence = new ResultPresence(listing, () => queue.asked, () => queue.outstanding, presenceCfg);
  return {
    presence,
    last: (id, rank, perVantage, answer) => queue.push(id, rank, perVantage, answer),
    forget: (answer) => queue.forget(answer),
  };

  async function lastOfVantage(id: string, rank: number, n: number, r: ResumeRecords): Promise<ResumeState | null> {
    const [fromStream, fromRecord] = await Promise.all([lastOf(id, rank, n), r.last(id, rank)]);
    return newerResume(fromStream, fromRecord);
  }

  async function lastOf(id: string, rank: number, n: number): Promise<ResumeState | null> {
    const subject = s.result(id);
    if (await presence.absent(n, subject)) return null;
    const newest = await gets.last(stream, subject);
    if (!newest) return null;
    const r = newest.json<StoredResult>();
    if (rankOf(r) === rank) return parseResumeState(r);
    let found: StoredResult | null = null;
    for (const m of await subjectMessages(jsm, stream, subject, { beforeSeq: newest.seq })) {
      const x = m.json<StoredResult>();
      if (rankOf(x) === rank) found = x;
    }
    return found ? parseResumeState(found) : null;
  }
}

/**
 * Lookups in flight at once. Gaining many checks at once (a node starting with 100k, a failover)
 * must not fire 100k JetStream requests in one go; queued lookups simply wait their turn (a probe
 * that finishes first is parked until its lookup returns, so its result is published only then).
 *
 * 512, not 64: a lookup's time is mostly the wait for the node's busy event loop to send it and to
 * read its answer (0.7–1.2 s each in a node restarted over 2000 checks on a loaded machine, against
 * 5.5 ms for the same direct get from an idle client), so the queue drains in proportion to how
 * many are out at once, and the results of the first seconds after a restart were held back up to
 * 8.9 s, then published in bursts. BENCHMARKS.md §11 (`bench/restart-lag.ts`) has the numbers.
 * The server answers 2000 direct gets in ~0.25 s, so 512 small requests are no burden.
 */
export const RESUME_LOOKUPS_IN_FLIGHT = 512;

/** What a lookup queue tells its metrics: each lookup's time from asked to answered, and how many are asked and not answered. */
export interface LookupObserver {
  answered(seconds: number): void;
  outstanding(n: number): void;
}

/**
 * Lookups waiting their turn (FIFO, at most `n` running), kept as parallel arrays — the check id,
 * rank and vantage flag packed in one small integer, the asker's answer function (shared by all of
 * its lookups), the time asked — not an object and a closure each: at a start 86k of 100k lookups
 * were waiting at once (BENCHMARKS.md §2). A head index over the arrays (compacted now and then)
 * rather than shift(), so each lookup costs O(1). An asker's lookups are dropped by `forget`: skipped
 * when their turn comes, and the arrays compacted at once when they are most of what waits.
 */
export class LookupQueue {
  private ids: (string | undefined)[] = [];
  /** rank × 2 + (perVantage ? 1 : 0). */
  private keys: number[] = [];
  private answers: (ResumeAnswer | undefined)[] = [];
  /** performance.now() when asked (observed queues only; empty otherwise). */
  private askedAt: number[] = [];
  private head = 0;
  private running = 0;
  /** Lookups started so far: the next one's number (they start in the order asked). */
  private started = 0;
  /** Per asker, its lookups waiting in the arrays. */
  private readonly queuedBy = new Map<ResumeAnswer, number>();
  /** Per forgotten asker, its lookups still in the arrays (skipped when reached); their sum. */
  private readonly dropped = new Map<ResumeAnswer, number>();
  private droppedTotal = 0;

  constructor(
    private readonly n: number,
    /** `n`: the lookup's number, in the order asked from 0. */
    private readonly run: (id: string, rank: number, perVantage: boolean, n: number) => Promise<ResumeState | null>,
    private readonly observer?: LookupObserver,
  ) {}

  get pending(): number {
    return this.ids.length - this.head - this.droppedTotal;
  }

  /** Lookups asked so far (the next one's number). */
  get asked(): number {
    return this.started + this.pending;
  }

  /** Lookups asked and not yet answered (queued or out). */
  get outstanding(): number {
    return this.pending + this.running;
  }

  push(id: string, rank: number, perVantage: boolean, answer: ResumeAnswer): void {
    this.ids.push(id);
    this.keys.push(rank * 2 + (perVantage ? 1 : 0));
    this.answers.push(answer);
    this.queuedBy.set(answer, (this.queuedBy.get(answer) ?? 0) + 1);
    if (this.observer) this.askedAt.push(performance.now());
    this.next();
    this.observer?.outstanding(this.outstanding);
  }

  /** Drops `answer`'s waiting lookups (those out are answered as usual). */
  forget(answer: ResumeAnswer): void {
    const n = this.queuedBy.get(answer);
    if (!n) return;
    this.queuedBy.delete(answer);
    this.dropped.set(answer, n);
    this.droppedTotal += n;
    if (this.droppedTotal > 1024 && this.droppedTotal * 2 > this.ids.length - this.head) this.compact();
    this.next();
    this.observer?.outstanding(this.outstanding);
  }

  /** Whether the lookup at `i` was dropped (it is then skipped and counted off). */
  private skip(i: number): boolean {
    const answer = this.answers[i]!;
    const left = this.dropped.get(answer);
    if (left === undefined) return false;
    if (left > 1) this.dropped.set(answer, left - 1);
    else this.dropped.delete(answer);
    this.droppedTotal--;
    return true;
  }

  private next(): void {
    while (this.running < this.n && this.head < this.ids.length) {
      const i = this.head++;
      const skipped = this.skip(i);
      const id = this.ids[i]!;
      const key = this.keys[i]!;
      const answer = this.answers[i]!;
      const askedAt = this.observer ? this.askedAt[i]! : 0;
      this.ids[i] = undefined;
      this.answers[i] = undefined;
      if (this.head > 1024 && this.head * 2 > this.ids.length) this.compact();
      if (skipped) continue;
      const queued = this.queuedBy.get(answer)!;
      if (queued > 1) this.queuedBy.set(answer, queued - 1);
      else this.queuedBy.delete(answer);
      this.running++;
      this.run(id, key >> 1, (key & 1) === 1, this.started++).then(
        (state) => this.finish(id, answer, askedAt, null, state),
        (err: unknown) => this.finish(id, answer, askedAt, err ?? new Error('lookup failed'), null),
      );
    }
  }

  /** The waiting lookups moved to the arrays' start, the dropped ones left out. */
  private compact(): void {
    const keep: number[] = [];
    for (let i = this.head; i < this.ids.length; i++) if (!this.skip(i)) keep.push(i);
    const { ids, keys, answers, askedAt } = this;
    this.ids = keep.map((i) => ids[i]);
    this.keys = keep.map((i) => keys[i]!);
    this.answers = keep.map((i) => answers[i]);
    if (this.observer) this.askedAt = keep.map((i) => askedAt[i]!);
    this.head = 0;
  }

  private finish(id: string, answer: ResumeAnswer, askedAt: number, err: unknown, state: ResumeState | null): void {
    this.running--;
    if (this.observer) this.observer.answered((performance.now() - askedAt) / 1000);
    answer(id, err, state);
    this.next();
    this.observer?.outstanding(this.outstanding);
  }
}
