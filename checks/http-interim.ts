// Interim (1xx) responses kept away from undici. RFC 9110 §15.2: "A client MUST be able to parse
// one or more 1xx responses received prior to a final response, even if the client does not
// expect one"; Go's client (blackbox_exporter's) skips them. undici 7 skips 102 and 103 but
// destroys the connection on a `100 Continue` it did not ask for (it never sends `Expect`):
// lib/dispatcher/client-h1.js onHeadersComplete, `SocketError('bad response')` — so a server or
// proxy that answers 100 before its final response failed every probe.
//
// The filter sits between the socket and undici's parser: undici pulls bytes with `socket.read()`
// (Parser.readMore), and skipInterimResponses wraps that one method of one socket. At the start of
// each response it holds the bytes until the head is complete (checks/http-lean-parse.ts, the
// parser the lean path uses), drops the interim heads before the final one and hands undici the
// rest unchanged; then it follows the body's framing (Content-Length, chunked —
// checks/http-chunked.ts) to the next response on a kept-alive connection. Anything it cannot read
// (a malformed head, a 101, a body until close) goes through untouched from then on, for undici to
// judge as before. Holding a head costs nothing extra: undici could not act on half a head either.
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import { CHUNKED_START, readChunked, type ChunkedState } from './http-chunked';
import { finalHeadVersion, HEAD_START, parseResponseHead, type Head, type HeadProgress } from './http-lean-parse';

type State =
  | { kind: 'head'; progress: HeadProgress }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; chunk: ChunkedState }
  | { kind: 'through' };

const AT_HEAD: State = { kind: 'head', progress: HEAD_START };
const THROUGH: State = { kind: 'through' };
const EMPTY = Buffer.alloc(0);
/** A head still incomplete past this goes through as it is (undici's own limit refuses it). */
const HOLD_LIMIT = 2 * maxHeaderSize + 64;

/** The bytes of one connection's responses, with interim heads taken out. Pure but for its state. */
export class InterimFilter {
  /** `onHead`: told the HTTP version of each final head (`1.0`, `1.1`) as it is read. */
  constructor(private readonly onHead?: (version: string) => void) {}

  private state: State = AT_HEAD;
  /** The bytes of the head being read (`used` of them), grown by doubling. */
  private held = EMPTY;
  private used = 0;

  /** What undici should read of `chunk` (null: nothing yet). */
  push(chunk: Buffer): Buffer | null {
    const out: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      const s = this.state;
      if (s.kind === 'through') {
        out.push(rest);
        break;
      }
      if (s.kind === 'length') {
        const n = Math.min(s.remaining, rest.length);
        out.push(rest.subarray(0, n));
        rest = rest.subarray(n);
        this.state = n === s.remaining ? AT_HEAD : { kind: 'length', remaining: s.remaining - n };
      } else if (s.kind === 'chunked') {
        const step = readChunked(rest, 0, s.chunk);
        const end = step.kind === 'done' ? step.end : rest.length;
        out.push(rest.subarray(0, end));
        rest = rest.subarray(end);
        this.state = step.kind === 'done' ? AT_HEAD : step.kind === 'more' ? { kind: 'chunked', chunk: step.state } : THROUGH;
      } else {
        rest = this.readHead(s.progress, rest, out);
      }
    }
    if (out.length === 0) return null;
    return out.length === 1 ? out[0]! : Buffer.concat(out);
  }

  /** Add `bytes` to the head being read; once it is complete, put the final head in `out` and return what follows it. */
  private readHead(progress: HeadProgress, bytes: Buffer, out: Buffer[]): Buffer {
    // Most heads arrive whole in one read: they are parsed where they are, and copied only when not.
    const all = this.used === 0 ? bytes : this.hold(bytes);
    const parsed = parseResponseHead(all, progress, maxHeaderSize);
    if (parsed.kind === 'partial' && all.length <= HOLD_LIMIT) {
      if (this.used === 0) this.hold(bytes);
      this.state = { kind: 'head', progress: parsed.progress };
      return EMPTY;
    }
    // The held bytes are never written again (the next head starts a new buffer): `all` stays valid.
    this.used = 0;
    this.held = EMPTY;
    if (parsed.kind !== 'head') {
      this.state = THROUGH;
      out.push(all);
      return EMPTY;
    }
    out.push(all.subarray(parsed.start, parsed.end));
    if (this.onHead) this.onHead(finalHeadVersion(all, parsed)!);
    this.state = next(parsed);
    return all.subarray(parsed.end);
  }

  /** The head's bytes so far, `bytes` appended (copied: the buffer is reused). */
  private hold(bytes: Buffer): Buffer {
    if (this.used + bytes.length > this.held.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.held.length, this.used + bytes.length, 1024));
      this.held.copy(grown, 0, 0, this.used);
      this.held = grown;
    }
    bytes.copy(this.held, this.used);
    this.used += bytes.length;
    return this.held.subarray(0, this.used);
  }
}

/**
 * Where the filter goes after a final head. The request's method is not known here: the answer to
 * a HEAD is taken at its Content-Length, which does no harm, as undici closes a connection after a
 * HEAD request.
 */
function next(head: Head): State {
  if (head.status === 204 || head.status === 304) return AT_HEAD;
  switch (head.framing.kind) {
    case 'none':
      return AT_HEAD;
    case 'length':
      return { kind: 'length', remaining: head.framing.length };
    case 'chunked':
      return { kind: 'chunked', chunk: CHUNKED_START };
    case 'close':
      return THROUGH;
  }
}

/** Put the filter in front of undici's reads of `socket` (its one `read` method, on this socket only). */
export function skipInterimResponses<S extends Socket>(socket: S, onHead?: (version: string) => void): S {
  const filter = new InterimFilter(onHead);
  const read = socket.read;
  socket.read = function filteredRead(this: S, size?: number) {
    for (;;) {
      const chunk = read.call(this, size) as Buffer | string | null;
      if (chunk === null || typeof chunk === 'string') return chunk;
      const out = filter.push(chunk);
      if (out !== null) return out;
    }
  } as S['read'];
  return socket;
}
