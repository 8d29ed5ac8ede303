// The body worker's program: runs inside the worker thread that checks/body-thread-host.ts starts (never
// import it elsewhere: loading it starts listening on the parent port). One job at a time:
//
//   regex  RE2 (re2js) match of a pattern, compiled once and cached (least recently used out)
//   json   JSON.parse of the body and the spec's path assertions (checks/json-path.ts); only a
//          summary of a failing value goes back (its kind and an 80-character preview)
//   capture  a tcp expectRegex: the first match in the peer's bytes, multi-line (^ and $ at line
//          ends; the CR of a CR LF left out, checks/crlf-lines.ts), its end as an offset in the
//          bytes received and groups 0 … 9 and the named ones, each cut to `groupChars` characters
//
// The parent times each job and terminates this thread when one runs past its budget.
import { workerData } from 'node:worker_threads';
import { RE2JS } from 're2js';
import type { BodyAnswer, BodyJob, CaptureFound } from './body-job';
import type { BodyWorkerData } from './body-thread-host';
import { receivedOffset, withoutCrBeforeLf } from './crlf-lines';
import { evaluateJsonAssertions } from './json-path';

const { patternCacheLimit, port } = (workerData ?? {}) as Partial<BodyWorkerData>;
if (!port || patternCacheLimit === undefined) throw new Error('checks/body-worker-thread runs only as the body worker thread');
const patterns = new Map<string, RE2JS>();

/** `pattern` compiled with `flags` (0, or RE2JS.MULTILINE), from the cache when it is there. */
function compiled(pattern: string, flags = 0): RE2JS {
  const key = `${flags}\u0000${pattern}`;
  let re = patterns.get(key);
  if (re) patterns.delete(key);
  else re = RE2JS.compile(pattern, flags);
  patterns.set(key, re);
  if (patterns.size > patternCacheLimit!) patterns.delete(patterns.keys().next().value!);
  return re;
}

/** The first match of `pattern` in `bytes` (multi-line), or null. */
function capture(pattern: string, bytes: Uint8Array, groupChars: number): CaptureFound | null {
  const re = compiled(pattern, RE2JS.MULTILINE);
  const text = withoutCrBeforeLf(bytes);
  const m = re.matcher(text.bytes);
  if (!m.find()) return null;
  const cut = (g: string | null): string | null => (g === null ? null : g.slice(0, groupChars));
  const groups = Array.from({ length: Math.min(re.groupCount(), 9) + 1 }, (_, i) => cut(m.group(i)));
  const named = Object.fromEntries(Object.entries(m.getNamedGroups()).map(([name, g]) => [name, cut(g)]));
  return { end: receivedOffset(text, m.end()), captures: { groups, named } };
}

function answer(job: BodyJob): BodyAnswer {
  try {
    switch (job.kind) {
      case 'regex':
        return { id: job.id, matched: compiled(job.pattern).test(job.text) };
      case 'json':
        return { id: job.id, json: evaluateJsonAssertions(job.text, job.assertions) };
      case 'capture':
        return { id: job.id, found: capture(job.pattern, job.bytes, job.groupChars) };
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
