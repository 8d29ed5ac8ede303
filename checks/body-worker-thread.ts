// The body worker's program: runs inside the worker thread that checks/body-thread-host.ts starts (never
// import it elsewhere: loading it starts listening on the parent port). One job at a time:
//
//   regex  RE2 (re2js) match of a pattern, compiled once and cached (least recently used out)
//   json   JSON.parse of the body and the spec's path assertions (checks/json-path.ts); only a
//          summary of a failing value goes back (its kind and an 80-character preview)
//
// The parent times each job and terminates this thread when one runs past its budget.
import { workerData } from 'node:worker_threads';
import { RE2JS } from 're2js';
import type { BodyAnswer, BodyJob } from './body-job';
import type { BodyWorkerData } from './body-thread-host';
import { evaluateJsonAssertions } from './json-path';

const { patternCacheLimit, port } = (workerData ?? {}) as Partial<BodyWorkerData>;
if (!port || patternCacheLimit === undefined) throw new Error('checks/body-worker-thread runs only as the body worker thread');
const patterns = new Map<string, RE2JS>();

function compiled(pattern: string): RE2JS {
  let re = patterns.get(pattern);
  if (re) patterns.delete(pattern);
  else re = RE2JS.compile(pattern);
  patterns.set(pattern, re);
  if (patterns.size > patternCacheLimit!) patterns.delete(patterns.keys().next().value!);
  return re;
}

function answer(job: BodyJob): BodyAnswer {
  try {
    switch (job.kind) {
      case 'regex':
        return { id: job.id, matched: compiled(job.pattern).test(job.text) };
      case 'json':
        return { id: job.id, json: evaluateJsonAssertions(job.text, job.assertions) };
      default: {
        const unknown: never = job;
        return { id: (unknown as { id: number }).id, error: 'unknown job kind' };
      }
    }
  } catch (err) {
    return { id: job.id, error: err instanceof Error ? err.message : String(err) };
  }
}

RE2JS.compile('(a|b)+c').test('abc'); // load and warm the engine before saying ready
port.on('message', (job: BodyJob) => port.postMessage(answer(job)));
port.postMessage({ ready: true } satisfies BodyAnswer);
