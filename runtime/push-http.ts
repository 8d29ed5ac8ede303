// The push endpoint on the node's HTTP port (README, *Push checks*): a job that cannot speak NATS
// reports in with `GET|POST /push/<id>`, `/push/<id>/fail` or `/push/<id>/start`. Any node will do:
// the report is published on `<prefix>.push.<id>`, which the check's owner hears wherever it runs.
// The node need not hold the spec (it holds only its shards'), so an unknown id is published too
// and answered 202 like any other: 202 means "handed to NATS", not "a check heard it".
//
// Hostile input: the id must be a check id (400 invalid_id); a POST body over LOOKOUT_PUSH_MAX_BYTES
// is refused before it is read whole (413 too_large); each id has a token bucket per node
// (LOOKOUT_PUSH_PER_SECOND, 429 rate_limited; the buckets are bounded and forgotten when full);
// without a NATS connection 503 unavailable. A POST body is the report's message (cut and
// sanitized as every message); the token comes from `?token=` or the X-Lookout-Push-Token header
// and travels in the report to the owner, which compares it (runtime/push-registry.ts).
import type http from 'node:http';
import { CHECK_ID_PATTERN } from '../checks/spec';
import { PushSignal } from '../checks/push-deadline';
import { sanitizeMessage } from '../checks/push-report';
import { fullBucket, takeToken, type TokenBucket } from '../protocol/token-bucket';
import type { Bus } from './bus';
import type { HttpRoute } from './http-endpoints';
import type { Subjects } from './subjects';

/** Ids whose HTTP rate this node remembers at once; past it the buckets start afresh. */
const MAX_BUCKETS = 10_000;
const PATH = /^\/push\/([^/]*)(?:\/(ok|fail|start))?\/?$/;

export interface PushHttpOptions {
  bus: Pick<Bus, 'publish'>;
  subjects: Pick<Subjects, 'push'>;
  maxBytes: number;
  perSecond: number;
  monotonic: () => number;
  connected: () => boolean;
  /** Each answer's status and code (metrics, logs). */
  onAnswer?: (status: number, code: string) => void;
}

export function pushRoute(o: PushHttpOptions): HttpRoute {
  const buckets = new Map<string, TokenBucket>();
  const take = (id: string): boolean => {
    const now = o.monotonic();
    if (!buckets.has(id) && buckets.size >= MAX_BUCKETS) buckets.clear();
    const b = buckets.get(id) ?? fullBucket(o.perSecond, now);
    buckets.set(id, b);
    return takeToken(b, o.perSecond, now);
  };
  return (req, res, path) => {
    const m = PATH.exec(path);
    if (!m) return false;
    const answer = (status: number, body: object, code: string) => {
      o.onAnswer?.(status, code);
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body) + '\n');
    };
    const refuse = (status: number, code: string, message: string) => answer(status, { ok: false, error: { code, message } }, code);
    const id = decodeSafe(m[1]!);
    if (id === null || !CHECK_ID_PATTERN.test(id)) return refuse(400, 'invalid_id', `the check id must match ${CHECK_ID_PATTERN.source}`), true;
    const signal = (m[2] ?? PushSignal.ok) as PushSignal;
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > o.maxBytes) return refuse(413, 'too_large', `the body is over ${o.maxBytes} bytes`), req.resume(), true;
    if (!take(id)) return refuse(429, 'rate_limited', `more than ${o.perSecond} reports a second for ${id} on this node`), req.resume(), true;
    const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? headerOf(req, 'x-lookout-push-token');
    readBody(req, o.maxBytes).then(
      (body) => {
        if (body === null) return refuse(413, 'too_large', `the body is over ${o.maxBytes} bytes`);
        if (!o.connected()) return refuse(503, 'unavailable', 'this node is not connected to NATS: try another node');
        const message = body.length > 0 ? sanitizeMessage(body.toString('utf8')) : null;
        o.bus.publish(o.subjects.push(id), { signal, ...(message !== null ? { message } : {}), ...(token !== null ? { token } : {}) });
        answer(202, { ok: true, id, signal }, 'published');
      },
      () => refuse(400, 'bad_request', 'the request body could not be read'),
    );
    return true;
  };
}

function decodeSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

function headerOf(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : null;
}

/** The body, or null when it passes `max` bytes (the rest is not read into memory). GET/HEAD: empty. */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | null> {
  if (req.method !== 'POST') return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        resolve(null);
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
