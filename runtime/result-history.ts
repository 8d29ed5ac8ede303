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
import type { ResumeRecords } from './resume-store';
import { subjectMessages } from './subject-walk';
import type { Subjects } from './subjects';

/** The narrow port check runners use to continue a check where its last owner left it. */
export interface ResultHistory {
  /**
   * The newest retained result of `id` probed from `rank` (its `vantage` field), handed to `done` (null: none;
   * an error: it could not be read). `perVantage` (a check with replicas > 1): the vantage's resume
   * record too, and the newer of the two (protocol/resume-record.ts). A callback, not a promise: a
   * node gaining 100k checks queues 100k lookups, and a queued lookup should cost a small record,
   * not a promise chain.
   */
  last(id: string, rank: number, perVantage: boolean, done: (err: unknown, state: ResumeState | null) => void): void;
}

type StoredResult = { seq?: unknown; status?: unknown; history?: unknown; slot?: unknown; vantage?: unknown };

/** The rank a stored result was probed from (its wire field `vantage`; 0 in results older than it). */
const rankOf = (r: StoredResult) => (isCount(r.vantage) ? r.vantage : 0);

/**
 * Reads the result stream. The newest message of the subject is one direct lookup; when several
 * ranks publish on one subject and the newest is another's, the retained messages of the
 * subject (at most LOOKOUT_RESULTS_PER_CHECK) are walked oldest to newest. A lookup `perVantage`
 * also reads the vantage's resume record (`records`, at the same time) and takes the newer.
 */
export function streamResultHistory(jsm: JetStreamManager, s: Subjects, records: ResumeRecords | null, observer?: LookupObserver, maxInFlight = RESUME_LOOKUPS_IN_FLIGHT): ResultHistory {
  const stream = s.resultStream();
  const queue = new LookupQueue(maxInFlight, (id, rank, perVantage) => (perVantage && records ? lastOfVantage(id, rank, records) : lastOf(id, rank)), observer);
  return {
    last: (id, rank, perVantage, done) => queue.push(id, rank, perVantage, done),
  };

  async function lastOfVantage(id: string, rank: number, r: ResumeRecords): Promise<ResumeState | null> {
    const [fromStream, fromRecord] = await Promise.all([lastOf(id, rank), r.last(id, rank)]);
    return newerResume(fromStream, fromRecord);
  }

  async function lastOf(id: string, rank: number): Promise<ResumeState | null> {
    const subject = s.result(id);
    const newest = await jsm.direct.getMessage(stream, { last_by_subj: subject });
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

interface Lookup {
  id: string;
  rank: number;
  perVantage: boolean;
  done: (err: unknown, state: ResumeState | null) => void;
  /** performance.now() when asked (observed lookups only). */
  askedAt: number;
}

/** What a lookup queue tells its metrics: each lookup's time from asked to answered, and how many are asked and not answered. */
export interface LookupObserver {
  answered(seconds: number): void;
  outstanding(n: number): void;
}

/**
 * Lookups waiting their turn as plain records (FIFO, at most `n` running). A head index over an
 * array (compacted now and then) rather than shift(), so 100k queued lookups cost O(1) each.
 */
export class LookupQueue {
  private waiting: (Lookup | undefined)[] = [];
  private head = 0;
  private running = 0;

  constructor(
    private readonly n: number,
    private readonly run: (id: string, rank: number, perVantage: boolean) => Promise<ResumeState | null>,
    private readonly observer?: LookupObserver,
  ) {}

  get pending(): number {
    return this.waiting.length - this.head;
  }

  push(id: string, rank: number, perVantage: boolean, done: Lookup['done']): void {
    this.waiting.push({ id, rank, perVantage, done, askedAt: this.observer ? performance.now() : 0 });
    this.next();
    this.observer?.outstanding(this.pending + this.running);
  }

  private next(): void {
    while (this.running < this.n && this.head < this.waiting.length) {
      const job = this.waiting[this.head]!;
      this.waiting[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.waiting.length) {
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      this.running++;
      this.run(job.id, job.rank, job.perVantage).then(
        (state) => this.finish(job, null, state),
        (err: unknown) => this.finish(job, err ?? new Error('lookup failed'), null),
      );
    }
  }

  private finish(job: Lookup, err: unknown, state: ResumeState | null): void {
    this.running--;
    if (this.observer) this.observer.answered((performance.now() - job.askedAt) / 1000);
    job.done(err, state);
    this.next();
    this.observer?.outstanding(this.pending + this.running);
  }
}

