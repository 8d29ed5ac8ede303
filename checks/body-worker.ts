// The body worker's supervisor. The body assertions that can cost real CPU run off the event loop,
// in one worker thread (started by checks/body-thread-host.ts; its program:
// checks/body-worker-thread.ts; jobs and verdicts: checks/body-job.ts), one job at a time, each
// within a budget:
//
//   bodyRegex  RE2 is linear in the body, but its constant is not small: a valid pattern whose
//              automaton blows up (`(a|b|c)*a(a|b|c){500}(d|e)`) falls back to the NFA and costs
//              ~0.5 s on 64 KiB and ~6 s on 1 MiB in re2js (BENCHMARKS.md §6)
//   json       JSON.parse plus the path lookups: a target answering 1 MiB of nested empty arrays
//              costs ~50-200 ms per probe, whatever the spec asks
//   capture    a tcp dialog's expectRegex (checks/tcp-regex-expect.ts): the same RE2 cost, on the
//              bytes a peer sent, with the match's groups
//
// On the main thread either would stall every timer of the node. In the worker:
//
//   the worker answers within BODY_WORK_BUDGET_MS → the answer (the clock starts when the job is
//                                                   handed to a started worker: starting one takes
//                                                   ~25-300 ms)
//   it does not                                   → the worker is terminated (re2js and JSON.parse
//                                                   are interrupted within ms) and a fresh one
//                                                   serves the next job; the answer is `overrun`
//   the caller's signal aborts (probe deadline)   → answered `aborted` at once; a queued job is
//                                                   dropped, a running one still ends at its budget
//                                                   (terminating it would cost a restart)
//
// How long a job waited before it ran — behind other checks' jobs, or for a worker to start — is
// added to the caller's WorkerWait: that is the node's own delay, not the target's, and the node
// judges a probe whose deadline it ate as it judges one its stalled event loop ate
// (protocol/overload.ts judgeOutcome).
//
// What runs next and what is refused without running is checks/body-work-policy.ts: work that
// overran is refused for a while (`remembered`), short bodies go first, work that was costly
// recently goes last and gets at most half of the worker's time (`rationed`) — so a hostile target
// costs the worker one budget per retry period or a bounded share, and delays the other checks'
// assertions by at most the job running when they come.
import { performance } from 'node:perf_hooks';
import {
  captureVerdict,
  jsonVerdict,
  regexVerdict,
  requestLength,
  type BodyJob,
  type BodyRequest,
  type CaptureVerdict,
  type JobAnswer,
  type JsonVerdict,
  type RegexVerdict,
  type WorkStopped,
} from './body-job';
import {
  BODY_HEAVY_MS,
  BODY_HEAVY_SHARE,
  BODY_MEMORY_LIMIT,
  BODY_OVERRUN_RETRY_MS,
  BODY_SHARE_WINDOW_MS,
  BODY_SMALL_CHARS,
  BodyWorkPolicy,
  type WorkItem,
} from './body-work-policy';
import { BodyThreadHost } from './body-thread-host';
import type { JsonAssertion } from './json-path';

export type { BodyAssertion, CaptureVerdict, JsonVerdict, RegexVerdict, WorkStopped } from './body-job';

/**
 * Wall time one job may take in the worker: ~30x what a simple pattern costs on a 1 MiB body
 * (BENCHMARKS.md §6), so a loaded machine does not turn a slow answer into a false failure.
 */
export const BODY_WORK_BUDGET_MS = 200;

/** Where a probe adds up how long its body work waited for the worker (ms): see the header. */
export interface WorkerWait {
  ms: number;
}

interface Job {
  id: number;
  /** When it was queued (performance.now()). */
  queuedAt: number;
  wait?: WorkerWait;
  item: WorkItem;
  request: BodyRequest;
  signal?: AbortSignal;
  onAbort?: () => void;
  timer?: NodeJS.Timeout;
  /** When it left the queue (performance.now()): started in the worker, or dropped. */
  startedAt?: number;
  resolve(answer: JobAnswer | WorkStopped): void;
}

export interface BodyWorkerStats {
  /** Jobs the worker ran to an answer. */
  answered: number;
  /** Jobs stopped at the budget (the worker was terminated). */
  overruns: number;
  /** Jobs answered `overrun` from memory, without running. */
  refused: number;
  /** Jobs refused because costly work had its share. */
  rationed: number;
  /** Workers started. */
  started: number;
}

export interface BodyWorkerOptions {
  budgetMs?: number;
  retryMs?: number;
  heavyMs?: number;
  heavyShare?: number;
  /** The clock of the retry period and the share window (tests step it). */
  now?: () => number;
}

export class BodyWorker {
  private readonly thread: BodyThreadHost;
  private running: Job | null = null;
  private readonly queue: Job[] = [];
  private readonly policy: BodyWorkPolicy;
  private nextId = 1;
  private readonly budgetMs: number;
  private readonly heavyMs: number;
  private readonly heavyShare: number;
  private readonly now: () => number;
  readonly stats: BodyWorkerStats = { answered: 0, overruns: 0, refused: 0, rationed: 0, started: 0 };

  constructor(opts: BodyWorkerOptions = {}) {
    this.budgetMs = opts.budgetMs ?? BODY_WORK_BUDGET_MS;
    this.heavyMs = opts.heavyMs ?? BODY_HEAVY_MS;
    this.heavyShare = opts.heavyShare ?? BODY_HEAVY_SHARE;
    this.now = opts.now ?? Date.now;
    this.policy = new BodyWorkPolicy({
      retryMs: opts.retryMs ?? BODY_OVERRUN_RETRY_MS,
      heavyMs: this.heavyMs,
      heavyShare: this.heavyShare,
      windowMs: BODY_SHARE_WINDOW_MS,
      memoryLimit: BODY_MEMORY_LIMIT,
      minCostlyChars: BODY_SMALL_CHARS,
    });
    this.thread = new BodyThreadHost({
      ready: () => this.pump(),
      answered: (m) => this.answered(m),
      lost: (message, wasReady) => this.lost(message, wasReady),
    });
  }

  /** Whether `pattern` (RE2 syntax) matches anywhere in `text` (unanchored, like RegExp.test). Never rejects. */
  async match(pattern: string, text: string, signal?: AbortSignal, wait?: WorkerWait): Promise<RegexVerdict> {
    return regexVerdict(await this.run(`regex\u0000${pattern}`, { kind: 'regex', pattern, text }, signal, wait));
  }

  /**
   * Parse `text` as JSON and evaluate `assertions` (checks/json-path.ts evaluateJsonAssertions).
   * `key` names whose JSON it is (the check), for the policy's memory. Never rejects.
   */
  async evaluateJson(key: string, text: string, assertions: readonly JsonAssertion[], signal?: AbortSignal, wait?: WorkerWait): Promise<JsonVerdict> {
    return jsonVerdict(await this.run(`json\u0000${key}`, { kind: 'json', text, assertions }, signal, wait));
  }

  /**
   * The first match of `pattern` (RE2, multi-line) in `bytes`: its end (a byte offset) and groups,
   * each cut to `groupChars` characters. The same budget, memory and share as `match`. Never rejects.
   */
  async capture(pattern: string, bytes: Uint8Array, groupChars: number, signal?: AbortSignal, wait?: WorkerWait): Promise<CaptureVerdict> {
    return captureVerdict(await this.run(`capture\u0000${pattern}`, { kind: 'capture', pattern, bytes, groupChars }, signal, wait));
  }

  /** Start the worker now if none runs, so a job soon after does not wait for it to load. */
  warm(): void {
    if (this.thread.start()) this.stats.started++;
  }

  /** Terminate the worker; queued and running jobs answer `aborted`. */
  async close(): Promise<void> {
    const jobs = [...this.queue, ...(this.running ? [this.running] : [])];
    this.queue.length = 0;
    this.running = null;
    for (const job of jobs) this.settle(job, { status: 'aborted' });
    await this.thread.terminate();
  }

  private run(key: string, request: BodyRequest, signal?: AbortSignal, wait?: WorkerWait): Promise<JobAnswer | WorkStopped> {
    if (signal?.aborted) return Promise.resolve({ status: 'aborted' });
    const item: WorkItem = { key, chars: requestLength(request) };
    if (this.policy.admit(item, this.now()) === 'remembered') {
      this.stats.refused++;
      return Promise.resolve({ status: 'overrun', budgetMs: this.budgetMs, remembered: true });
    }
    return new Promise((resolve) => {
      const job: Job = { id: this.nextId++, queuedAt: performance.now(), item, request, resolve };
      if (wait) job.wait = wait;
      if (signal) {
        job.signal = signal;
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.pump();
    });
  }

  private pump(): void {
    this.pumpQueue();
    this.thread.hold(this.running !== null || this.queue.length > 0);
  }

  private pumpQueue(): void {
    while (!this.running && this.queue.length > 0) {
      this.warm();
      if (!this.thread.ready) return; // pumped again on `ready`
      const now = this.now();
      const job = this.queue.splice(this.policy.pick(this.queue.map((j) => j.item), now), 1)[0]!;
      leaveQueue(job);
      if (this.policy.start(job.item, now) === 'rationed') {
        this.stats.rationed++;
        this.settle(job, { status: 'rationed', heavyMs: this.heavyMs, sharePct: Math.round(this.heavyShare * 100) });
        continue;
      }
      this.running = job;
      job.timer = setTimeout(() => this.budgetEnded(job), this.budgetMs);
      const message: BodyJob = { id: job.id, ...job.request };
      this.thread.post(message);
    }
  }

  private answered(m: JobAnswer): void {
    const job = this.running;
    if (!job || job.id !== m.id) return; // an answer for a job already given up
    this.running = null;
    this.stats.answered++;
    this.policy.ended(job.item, this.now(), performance.now() - job.startedAt!, false);
    this.settle(job, m);
    this.pump();
  }

  /**
   * The budget timer fired. The answer may be waiting already: timers run before messages are
   * read when this thread was busy, so a late loop must not turn an answered job into an overrun.
   */
  private budgetEnded(job: Job): void {
    if (this.running !== job || !this.thread.alive) return;
    for (let answer = this.thread.receive(); answer; answer = this.thread.receive()) {
      if (!('ready' in answer)) this.answered(answer);
      if (this.running !== job) return;
    }
    this.running = null;
    this.stats.overruns++;
    this.policy.ended(job.item, this.now(), performance.now() - job.startedAt!, true);
    void this.thread.terminate();
    this.settle(job, { status: 'overrun', budgetMs: this.budgetMs, remembered: false });
    this.warm(); // the replacement loads now, not when the next job comes
    this.pump();
  }

  private abort(job: Job): void {
    if (this.running !== job) {
      const at = this.queue.indexOf(job);
      if (at < 0) return;
      this.queue.splice(at, 1);
    } // else the worker finishes it (within its budget) and nobody reads the answer
    this.settle(job, { status: 'aborted' });
    this.pump();
  }

  /**
   * The worker died on its own: the running job fails and the next job gets a fresh worker; if it
   * died before it was ready (the program would not load), every waiting job fails instead of
   * starting worker after worker.
   */
  private lost(message: string, wasReady: boolean): void {
    const failed = this.running ? [this.running] : wasReady ? [] : this.queue.splice(0);
    this.running = null;
    for (const job of failed) this.settle(job, { status: 'failed', message });
    this.pump();
  }

  /** Answer the caller and release the job (an abandoned running job keeps its budget timer). */
  private settle(job: Job, answer: JobAnswer | WorkStopped): void {
    if (job.startedAt === undefined) leaveQueue(job); // dropped without running: it waited until now
    if (job.onAbort) {
      job.signal?.removeEventListener('abort', job.onAbort);
      delete job.onAbort;
    }
    if (this.running !== job) clearTimeout(job.timer);
    job.resolve(answer); // a job answered `aborted` while it ran is settled again later: a no-op
  }
}

/** The job leaves the queue now (to run, or dropped): its wait ends. */
function leaveQueue(job: Job): void {
  job.startedAt = performance.now();
  if (job.wait) job.wait.ms += job.startedAt - job.queuedAt;
}

/** The node's one body worker (started on the first job). */
export const bodyWorker = new BodyWorker();
