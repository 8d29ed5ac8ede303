// The body worker's thread, one at a time: start it (the compiled program, or its TypeScript
// source through a loader), tell when it has loaded, post jobs, notice when it dies on its own,
// terminate it. What runs on it and when to restart it is checks/body-worker.ts; its program is
// checks/body-worker-thread.ts.
import { extname, join } from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { BodyAnswer, BodyJob, JobAnswer } from './body-job';

/** Compiled patterns the worker keeps (least recently used out first). */
const WORKER_PATTERN_CACHE = 256;

/** What the worker thread is started with: jobs come and answers go on `port`. */
export interface BodyWorkerData {
  patternCacheLimit: number;
  port: MessagePort;
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

/** What the host tells its owner; only about the thread running now, never one already terminated. */
export interface BodyThreadEvents {
  /** The thread has loaded its program: jobs (and their budgets) can start. */
  ready(): void;
  /** The thread answered a job. */
  answered(answer: JobAnswer): void;
  /** The thread died on its own; `wasReady`: after it had loaded its program. */
  lost(message: string, wasReady: boolean): void;
}

/** The running thread and the port its answers come on. */
interface Thread {
  worker: Worker;
  port: MessagePort;
}

export class BodyThreadHost {
  private thread: Thread | null = null;
  private loaded = false;

  constructor(private readonly events: BodyThreadEvents) {}

  /** A thread runs (loaded or not). */
  get alive(): boolean {
    return this.thread !== null;
  }

  /** The running thread has loaded its program. */
  get ready(): boolean {
    return this.loaded;
  }

  /** Start a thread unless one runs; true when this started one. */
  start(): boolean {
    if (this.thread) return false;
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
        this.loaded = true;
        this.events.ready();
      } else {
        this.events.answered(m);
      }
    });
    // An idle worker never keeps the process alive (see hold). Unref after listening: adding a
    // 'message' listener refs the port again.
    port1.unref();
    worker.unref();
    worker.on('error', (err) => this.died(thread, `the body worker failed: ${err.message}`));
    worker.on('exit', (code) => this.died(thread, `the body worker exited (code ${code})`));
    this.thread = thread;
    this.loaded = false;
    return true;
  }

  /** Hand a job to the running thread. */
  post(job: BodyJob): void {
    this.thread?.port.postMessage(job);
  }

  /**
   * The next message already waiting on the port, read now: timers run before messages are read
   * when this thread was busy. Undefined when none waits (or no thread runs).
   */
  receive(): BodyAnswer | undefined {
    const m = this.thread && receiveMessageOnPort(this.thread.port);
    return m ? (m.message as BodyAnswer) : undefined;
  }

  /** Waiting for an answer keeps the process alive (a caller awaits it); an idle worker does not. */
  hold(waiting: boolean): void {
    if (waiting) this.thread?.port.ref();
    else this.thread?.port.unref();
  }

  /** Terminate the thread; its exit is not reported as lost. */
  async terminate(): Promise<void> {
    const thread = this.thread;
    this.thread = null;
    this.loaded = false;
    if (!thread) return;
    thread.port.close();
    await thread.worker.terminate();
  }

  private died(thread: Thread, message: string): void {
    if (this.thread !== thread) return; // one we terminated on purpose
    const wasReady = this.loaded;
    this.thread = null;
    this.loaded = false;
    thread.port.close();
    this.events.lost(message, wasReady);
  }
}
