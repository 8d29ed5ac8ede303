// The body assertions that can cost real CPU run off the event loop, in one worker thread (its
// program: checks/body-worker-thread.ts), one job at a time, each within a budget:
//
//   bodyRegex  RE2 is linear in the body, but its constant is not small: a valid pattern whose
//              automaton blows up (`(a|b|c)*a(a|b|c){500}(d|e)`) falls back to the NFA and costs
//              ~0.5 s on 64 KiB and ~6 s on 1 MiB in re2js (BENCHMARKS.md §6)
//   json       JSON.parse plus the path lookups: a target answering 1 MiB of nested empty arrays
//              costs ~50-200 ms per probe, whatever the spec asks
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
// What runs next and what is refused without running is checks/body-work-policy.ts: work that
// overran is refused for a while (`remembered`), short bodies go first, work that was costly
// recently goes last and gets at most half of the worker's time (`rationed`) — so a hostile target
// costs the worker one budget per retry period or a bounded share, and delays the other checks'
// assertions by at most the job running when they come.
import { extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { BodyWorkPolicy, type WorkItem } from './body-work-policy';
import type { JsonAssertion, JsonAssertionResult } from './json-path';

/**
 * Wall time one job may take in the worker: ~30x what a simple pattern costs on a 1 MiB body
 * (BENCHMARKS.md §6), so a loaded machine does not turn a slow answer into a false failure.
 */
export const BODY_WORK_BUDGET_MS = 200;
/** How long work that overran is refused, and work that was costly goes last. */
export const BODY_OVERRUN_RETRY_MS = 60_000;
/** A job that took this long (a quarter of the budget) is costly: its work goes last for the retry period. */
export const BODY_HEAVY_MS = 50;
/** The share of the worker's time costly work may use, over BODY_SHARE_WINDOW_MS. */
export const BODY_HEAVY_SHARE = 0.5;
const BODY_SHARE_WINDOW_MS = 2000;
/**
 * Bodies shorter than this cannot make the work costly (checks/body-work-policy.ts); JSON this
 * short is evaluated on the event loop instead (≤ 0.1 ms warm, 0.7 ms cold in the costliest shape).
 */
export const BODY_SMALL_CHARS = 4096;
/** Compiled patterns the worker keeps (least recently used out first). */
const WORKER_PATTERN_CACHE = 256;
/** Keys remembered as overrun or costly. */
const MEMORY_LIMIT = 1024;

/** The assertion a job serves, as spec fields name it (a label of lookout_body_worker_overruns_total). */
export type BodyAssertion = 'bodyRegex' | 'json';

/** How a job ended without an answer from the worker. */
export type WorkStopped =
  /** Stopped at the budget now, or (`remembered`) refused because the same work overran recently. */
  | { status: 'overrun'; budgetMs: number; remembered: boolean }
  /** Refused: the work was costly recently, and costly work has had its share of the worker. */
  | { status: 'rationed'; heavyMs: number; sharePct: number }
  /** The caller's signal aborted first (the probe's deadline or shutdown). */
  | { status: 'aborted' }
  /** The worker could not answer (it crashed, ran out of memory, or the pattern does not compile). */
  | { status: 'failed'; message: string };

export type RegexVerdict = { status: 'match' } | { status: 'no_match' } | WorkStopped;
export type JsonVerdict = JsonAssertionResult | WorkStopped;

/** A job as posted to the worker thread. */
export type BodyJob =
  | { id: number; kind: 'regex'; pattern: string; text: string }
  | { id: number; kind: 'json'; text: string; assertions: readonly JsonAssertion[] };
/** What the worker thread posts back. */
export type BodyAnswer = { ready: true } | { id: number; matched: boolean } | { id: number; json: JsonAssertionResult } | { id: number; error: string };
type JobAnswer = Exclude<BodyAnswer, { ready: true }>;
/** What the worker thread is started with: jobs come and answers go on `port`. */
export interface BodyWorkerData {
  patternCacheLimit: number;
  port: MessagePort;
}

type Request = { kind: 'regex'; pattern: string; text: string } | { kind: 'json'; text: string; assertions: readonly JsonAssertion[] };

interface Job {
  id: number;
  item: WorkItem;
  request: Request;
  signal?: AbortSignal;
  onAbort?: () => void;
  timer?: NodeJS.Timeout;
  startedAt?: number;
  resolve(answer: JobAnswer | WorkStopped): void;
}

/** The running thread and the port its answers come on. */
interface Thread {
  worker: Worker;
  port: MessagePort;
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

/** Where the worker's program is: the compiled .js beside this file, or its TypeScript source. */
const THREAD_FILE = join(__dirname, `body-worker-thread${extname(__filename)}`);

/**
 * Running from TypeScript sources (the tests load checks/*.ts through @swc/jest), the worker
 * compiles its program on load with @swc/core, a devDependency. The built node runs the .js.
 */
const TS_LOADER = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const swc = require(workerData.swc);
require.extensions['.ts'] = (module, filename) => {
  const options = { filename, swcrc: false, jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } };
  module._compile(swc.transformSync(readFileSync(filename, 'utf8'), options).code, filename);
};
require(workerData.entry);
`;

export class BodyWorker {
  private thread: Thread | null = null;
  /** The worker has loaded its program: jobs (and their budgets) can start. */
  private ready = false;
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
      memoryLimit: MEMORY_LIMIT,
      minCostlyChars: BODY_SMALL_CHARS,
    });
  }

  /** Whether `pattern` (RE2 syntax) matches anywhere in `text` (unanchored, like RegExp.test). Never rejects. */
  async match(pattern: string, text: string, signal?: AbortSignal): Promise<RegexVerdict> {
    const answer = await this.run(`regex\u0000${pattern}`, { kind: 'regex', pattern, text }, signal);
    if ('status' in answer) return answer;
    if ('matched' in answer) return { status: answer.matched ? 'match' : 'no_match' };
    return { status: 'failed', message: 'error' in answer ? answer.error : 'unexpected answer from the body worker' };
  }

  /**
   * Parse `text` as JSON and evaluate `assertions` (checks/json-path.ts evaluateJsonAssertions).
   * `key` names whose JSON it is (the check), for the policy's memory. Never rejects.
   */
  async evaluateJson(key: string, text: string, assertions: readonly JsonAssertion[], signal?: AbortSignal): Promise<JsonVerdict> {
    const answer = await this.run(`json\u0000${key}`, { kind: 'json', text, assertions }, signal);
    if ('status' in answer) return answer;
    if ('json' in answer) return answer.json;
    return { status: 'failed', message: 'error' in answer ? answer.error : 'unexpected answer from the body worker' };
  }

  /** Start the worker now if none runs, so a job soon after does not wait for it to load. */
  warm(): void {
    if (!this.thread) this.spawned();
  }

  /** Terminate the worker; queued and running jobs answer `aborted`. */
  async close(): Promise<void> {
    const jobs = [...this.queue, ...(this.running ? [this.running] : [])];
    this.queue.length = 0;
    this.running = null;
    for (const job of jobs) this.settle(job, { status: 'aborted' });
    await this.kill();
  }

  private run(key: string, request: Request, signal?: AbortSignal): Promise<JobAnswer | WorkStopped> {
    if (signal?.aborted) return Promise.resolve({ status: 'aborted' });
    const item: WorkItem = { key, chars: request.text.length };
    if (this.policy.admit(item, this.now()) === 'remembered') {
      this.stats.refused++;
      return Promise.resolve({ status: 'overrun', budgetMs: this.budgetMs, remembered: true });
    }
    return new Promise((resolve) => {
      const job: Job = { id: this.nextId++, item, request, resolve };
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
    // Waiting for an answer keeps the process alive (a caller awaits it); an idle worker does not.
    if (this.running || this.queue.length > 0) this.thread?.port.ref();
    else this.thread?.port.unref();
  }

  private pumpQueue(): void {
    while (!this.running && this.queue.length > 0) {
      const thread = this.spawned();
      if (!this.ready) return; // pumped again on `ready`
      const now = this.now();
      const job = this.queue.splice(this.policy.pick(this.queue.map((j) => j.item), now), 1)[0]!;
      if (this.policy.start(job.item, now) === 'rationed') {
        this.stats.rationed++;
        this.settle(job, { status: 'rationed', heavyMs: this.heavyMs, sharePct: Math.round(this.heavyShare * 100) });
        continue;
      }
      this.running = job;
      job.startedAt = performance.now();
      job.timer = setTimeout(() => this.budgetEnded(job), this.budgetMs);
      const message: BodyJob = { id: job.id, ...job.request };
      thread.port.postMessage(message);
    }
  }

  private spawned(): Thread {
    if (this.thread) return this.thread;
    const fromSources = THREAD_FILE.endsWith('.ts');
    const { port1, port2 } = new MessageChannel();
    const workerData: BodyWorkerData & { entry: string; swc?: string } = {
      patternCacheLimit: WORKER_PATTERN_CACHE,
      port: port2,
      entry: THREAD_FILE,
      ...(fromSources ? { swc: require.resolve('@swc/core') } : {}),
    };
    const worker = new Worker(fromSources ? TS_LOADER : THREAD_FILE, {
      eval: fromSources,
      workerData,
      transferList: [port2],
      // A pattern cache and one body (parsed, for json): a bounded heap, so a worker cannot grow
      // the node's memory; past it the worker dies and the job is `failed`.
      resourceLimits: { maxOldGenerationSizeMb: 128 },
    });
    const thread: Thread = { worker, port: port1 };
    port1.on('message', (m: BodyAnswer) => {
      if (this.thread !== thread) return; // a late word from a worker already terminated
      if ('ready' in m) {
        this.ready = true;
        this.pump();
      } else {
        this.answered(m);
      }
    });
    // An idle worker never keeps the process alive (pump refs the port while jobs wait).
    port1.unref();
    worker.unref();
    worker.on('error', (err) => this.lost(thread, `the body worker failed: ${err.message}`));
    worker.on('exit', (code) => this.lost(thread, `the body worker exited (code ${code})`));
    this.thread = thread;
    this.ready = false;
    this.stats.started++;
    return thread;
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
    if (this.running !== job || !this.thread) return;
    for (let m = receiveMessageOnPort(this.thread.port); m; m = receiveMessageOnPort(this.thread.port)) {
      const answer = m.message as BodyAnswer;
      if (!('ready' in answer)) this.answered(answer);
      if (this.running !== job) return;
    }
    this.running = null;
    this.stats.overruns++;
    this.policy.ended(job.item, this.now(), performance.now() - job.startedAt!, true);
    void this.kill();
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
  private lost(thread: Thread, message: string): void {
    if (this.thread !== thread) return; // one we terminated on purpose
    const wasReady = this.ready;
    this.thread = null;
    this.ready = false;
    thread.port.close();
    const failed = this.running ? [this.running] : wasReady ? [] : this.queue.splice(0);
    this.running = null;
    for (const job of failed) this.settle(job, { status: 'failed', message });
    this.pump();
  }

  private async kill(): Promise<void> {
    const thread = this.thread;
    this.thread = null;
    this.ready = false;
    if (!thread) return;
    thread.port.close();
    await thread.worker.terminate();
  }

  /** Answer the caller and release the job (an abandoned running job keeps its budget timer). */
  private settle(job: Job, answer: JobAnswer | WorkStopped): void {
    if (job.onAbort) {
      job.signal?.removeEventListener('abort', job.onAbort);
      delete job.onAbort;
    }
    if (this.running !== job) clearTimeout(job.timer);
    job.resolve(answer); // a job answered `aborted` while it ran is settled again later: a no-op
  }
}

/** The node's one body worker (started on the first job). */
export const bodyWorker = new BodyWorker();
