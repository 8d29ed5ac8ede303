// Which checks the result stream holds any result of, so that a node looking up many checks at once
// does not ask, one direct get each, for results that were never published.
//
// A check gained without a release is looked up before its first results go out (result-history.ts:
// the newest result on its subject). At a fresh cluster's start every such lookup finds nothing, and
// there are as many as checks: at 1M checks over 10 nodes the 1M direct gets took the nodes 3–4
// minutes (57–80 s per lookup on average, results parked meanwhile; BENCHMARKS.md §16). So when a
// node has at least `minPending` lookups outstanding and the stream holds at most `maxSubjects`
// subjects (stream info's num_subjects, one cheap request), it asks once for the subjects the stream
// holds (stream info with a subject filter) and answers every lookup asked before that request whose
// subject is not among them: none. A listed subject, or a lookup asked after the listing was
// requested, goes to its direct get as before; a failed or refused listing answers nothing.
//
// The same answer as the direct get: a direct get answers what the stream holds when the server
// handles it, any time after the lookup was asked (a queued lookup runs later); the listing is
// requested after the lookup was asked, so a subject absent from it had no result then either.
// Lookups are numbered in the order they are asked (LookupQueue), and a listing covers the numbers
// asked before it was requested.

/** The stream's subjects, as a listing reads them (a node passes jsmSubjectListing). */
export interface SubjectListing {
  /** How many subjects the stream holds. */
  count(): Promise<number>;
  /** The subjects it holds. */
  list(): Promise<ReadonlySet<string>>;
}

export interface PresenceConfig {
  /** List only while at least this many lookups are outstanding (fewer: their direct gets cost less than a listing). */
  minPending: number;
  /** List only while the stream holds at most this many subjects (the listing's size and memory). */
  maxSubjects: number;
}

/** 1,000 lookups or more outstanding; a listing of at most 50,000 subjects (~2 MB on the wire, a few MB while held). */
export const PRESENCE_DEFAULTS: PresenceConfig = { minPending: 1_000, maxSubjects: 50_000 };

interface Listing {
  /** It covers the lookups numbered below this (asked before it was requested). */
  upTo: number;
  /** null: not listed (too many subjects, too few lookups, or the listing failed). */
  subjects: ReadonlySet<string> | null;
}

export class ResultPresence {
  private done: Listing = { upTo: 0, subjects: null };
  private running: { upTo: number; promise: Promise<void> } | null = null;
  /** Listings asked of the server (count requests included), for tests and metrics. */
  listings = 0;

  constructor(
    private readonly src: SubjectListing,
    /** Lookups asked so far (the next lookup's number). */
    private readonly asked: () => number,
    /** Lookups asked and not yet answered. */
    private readonly outstanding: () => number,
    private readonly cfg: PresenceConfig = PRESENCE_DEFAULTS,
  ) {}

  /** Whether lookup number `n` (of `subject`) is answered "none" without its direct get. */
  async absent(n: number, subject: string): Promise<boolean> {
    // Lookups are asked in bursts (a map applied gains thousands of checks in one turn) and the first
    // ones start while the rest are still being asked: count the whole burst before deciding.
    if (this.done.upTo <= n && !(this.running && this.running.upTo > n)) await new Promise((r) => setImmediate(r));
    if (this.done.upTo <= n) {
      if (this.running && this.running.upTo > n) await this.running.promise;
      else if (this.outstanding() >= this.cfg.minPending) await this.refresh();
    }
    const l = this.done;
    return l.upTo > n && l.subjects !== null && !l.subjects.has(subject);
  }

  private refresh(): Promise<void> {
    const upTo = this.asked();
    const promise = this.read().then((subjects) => {
      if (upTo >= this.done.upTo) this.done = { upTo, subjects };
      if (this.running?.promise === promise) this.running = null;
    });
    this.running = { upTo, promise };
    return promise;
  }

  private async read(): Promise<ReadonlySet<string> | null> {
    try {
      this.listings++;
      if ((await this.src.count()) > this.cfg.maxSubjects) return null;
      return await this.src.list();
    } catch {
      return null;
    }
  }
}
