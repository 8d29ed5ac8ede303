// The lean HTTP probe: the simplest and most common spec — GET or HEAD, no request body, no
// redirects followed, no body or header assertion, a fresh connection — answered from the response
// head and the body's framing, on a socket from connectTimed (so the address policy is applied at connect, as for
// every probe), without an undici Client, an AbortController or a Promise.race per probe.
// Every other spec goes to undici (checks/http-probe.ts); runProbe picks (leanEligible).
//
// What it keeps of the undici path: the address policy and timings of checks/connector.ts; the
// request undici would send (method, path, host, the spec's headers, the node's User-Agent, but
// `connection: close`, as the connection is never reused); the response head read as strictly
// and with the same header-size limit (checks/http-lean-parse.ts); interim (1xx) heads skipped;
// one deadline for everything, with the same `timeout` / `aborted` failures (checks/deadline.ts
// stopFailure); the same result fields (httpStatus once a head arrived) and the latency bound.
//
// The body is read as the undici path reads it without assertions (README "Truncated
// responses"): only when its end is declared (Content-Length, chunked), the status passed and
// maxBodyBytes is not 0; counted, never kept, up to its end or past maxBodyBytes. A connection
// that closes before that end is `reset`; chunk framing llhttp would refuse is `protocol`.
//
// The connect, the one timer, the caller's signal and settling the outcome are the lean frame's
// (checks/lean-connect.ts); this file is what an HTTP probe does on the connected socket.
import { maxHeaderSize } from 'node:http';
import type { Socket } from 'node:net';
import { msSince, type ConnectTarget } from './connector';
import type { Failure, OutcomeExtra } from './failures';
import { CHUNKED_START, readChunked, type ChunkedState } from './http-chunked';
import { bodyFraming, finalHeadVersion, HEAD_START, parseResponseHead, type Head, type HeadProgress } from './http-lean-parse';
import { closedEarly, statusFailure, truncatedBody, unaskedUpgrade, versionFailure } from './http-failures';
import { tlsProfileFor, withUserAgent } from './http-probe';
import { LeanConnect } from './lean-connect';
import { FailureReason, type ProbeOutcome } from './outcome';
import type { ProbeEnv } from './probe-env';
import type { NormalizedSpec } from './spec';
import type { StopSignal } from './probe-stop';

/** Whether the lean path can probe `spec` exactly as undici would (the rest goes to undici). */
export function leanEligible(spec: NormalizedSpec): boolean {
  const h = spec.http;
  return (
    (h.method === 'GET' || h.method === 'HEAD') &&
    h.body === undefined &&
    h.maxRedirects === 0 && // and so never `cookies`, which needs a redirect
    !h.reuseConnection &&
    h.bodyContains === undefined &&
    h.bodyRegex === undefined &&
    h.bodyNotContains === undefined &&
    h.bodyNotRegex === undefined &&
    h.json.length === 0 &&
    h.expectHeaders.length === 0 &&
    // Without redirects the final response is the target's: requireTls holds exactly for https:.
    (!h.requireTls || /^https:/i.test(spec.target))
  );
}

/** The body being counted: the bytes of a Content-Length left, or where a chunked body is. */
type BodyLeft = { kind: 'length'; remaining: number } | { kind: 'chunked'; chunk: ChunkedState };

/**
 * Where and what to send, worked out per probe. Not kept per spec: a WeakMap from spec to plan held
 * ~200 B a check (the entry, the plan, its target, endpoint and head; its head as a pooled Buffer
 * pinned an 8 KiB pool slab each) — at 100k HTTP checks the node's RSS went over its 256 MiB — for
 * a URL parse and a string per probe, ~0.5 µs (BENCHMARKS.md §2).
 */
interface LeanPlan {
  target: ConnectTarget;
  /** "host:port", for messages (as the undici path names it). */
  endpoint: string;
  /** The request head, written as latin1 (the bytes Buffer.from(head, 'latin1') would hold). */
  request: string;
}

function planFor(spec: NormalizedSpec, userAgent: string | undefined): LeanPlan {
  const url = new URL(spec.target);
  const https = url.protocol === 'https:';
  const port = Number(url.port) || (https ? 443 : 80);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  let head = `${spec.http.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${spec.http.host ?? url.host}\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(withUserAgent(spec.http.headers, userAgent))) head += `${name}: ${value}\r\n`;
  return {
    target: { host, port, ...(https ? { tls: tlsProfileFor(spec, url), alpn: ['http/1.1'] } : {}) },
    endpoint: `${url.hostname}:${port}`,
    request: `${head}\r\n`,
  };
}

/**
 * The longest incomplete line kept. Header names and values count toward maxHeaderSize as undici
 * counts them; this bounds what undici does not count (a status reason, whitespace around a value).
 */
const MAX_LINE_BYTES = 2 * maxHeaderSize;

/** One lean probe. Never rejects. `spec` must be leanEligible. */
export function probeHttpLean(spec: NormalizedSpec, signal: StopSignal | undefined, env: ProbeEnv): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const plan = planFor(spec, env.userAgent);
    new LeanProbe(spec, plan, signal, env, resolve).begin(plan.target);
  });
}

class LeanProbe extends LeanConnect {
  /** The bytes of the response head not yet read as whole lines, and how far the head has been read. */
  private pending: Buffer | undefined;
  private progress: HeadProgress = HEAD_START;
  private status: number | undefined;
  /** The final head's HTTP version (read only when the spec has expectVersions). */
  private version: string | undefined;
  /** Set once the head passed and its body is being read. */
  private body: BodyLeft | undefined;
  private bodyBytes = 0;

  constructor(
    private readonly spec: NormalizedSpec,
    private readonly plan: LeanPlan,
    signal: StopSignal | undefined,
    env: ProbeEnv,
    resolve: (outcome: ProbeOutcome) => void,
  ) {
    super({ timeoutMs: spec.timeoutMs, maxLatencyMs: spec.http.maxLatencyMs, minDaysLeft: spec.http.tls.minDaysLeft }, plan.endpoint, signal, env, resolve);
  }

  protected opened(socket: Socket): void {
    socket.on('data', this.onData).on('end', this.onEnd).on('close', this.onEnd).on('error', this.onError);
    socket.write(this.plan.request, 'latin1');
  }

  protected override extra(): OutcomeExtra {
    return this.status !== undefined ? { httpStatus: this.status } : {};
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.body) return this.onBody(chunk, 0);
    // Only the incomplete line is kept between reads: complete lines are parsed once.
    const rest = this.pending?.subarray(this.progress.at);
    const bytes = rest && rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    const parsed = parseResponseHead(bytes, { ...this.progress, at: 0 }, maxHeaderSize);
    if (this.version === undefined && this.spec.http.expectVersions) this.version = finalHeadVersion(bytes, parsed);
    switch (parsed.kind) {
      case 'partial':
        this.pending = bytes;
        this.progress = parsed.progress;
        // A line past any header budget (a status reason, or whitespace, that never ends).
        if (bytes.length - parsed.progress.at > MAX_LINE_BYTES) this.finish(this.protocol('Headers Overflow Error'));
        return;
      case 'head':
        return this.onHead(parsed, bytes);
      case 'upgrade':
        return this.finish(unaskedUpgrade(this.endpoint));
      case 'invalid':
        return this.finish(this.protocol(`Response does not match the HTTP/1.1 protocol (${parsed.message})`));
      case 'overflow':
        return this.finish(this.protocol('Headers Overflow Error'));
    }
  };

  /** The final head: its status decides, then its body is counted to its declared end (or past the cap). */
  private onHead(head: Head, bytes: Buffer): void {
    this.status = head.status;
    this.timings.firstByte = msSince(this.start);
    const wrongStatus = statusFailure(this.spec.http, head.status) ?? versionFailure(this.spec.http, this.version);
    const framing = bodyFraming(head, this.spec.http.method);
    if (wrongStatus || this.spec.http.maxBodyBytes === 0) return this.finish(wrongStatus);
    if (framing.kind === 'length') this.body = { kind: 'length', remaining: framing.length };
    else if (framing.kind === 'chunked') this.body = { kind: 'chunked', chunk: CHUNKED_START };
    else return this.finish(null); // no body, or one that ends only at close: nothing to cut short
    this.pending = undefined;
    this.onBody(bytes, head.end);
  }

  private onBody(bytes: Buffer, from: number): void {
    const body = this.body!;
    let ended: boolean;
    if (body.kind === 'length') {
      const n = Math.min(body.remaining, bytes.length - from);
      body.remaining -= n;
      this.bodyBytes += n;
      ended = body.remaining === 0;
    } else {
      const step = readChunked(bytes, from, body.chunk);
      if (step.kind === 'invalid') return this.finish(this.protocol(`Response does not match the HTTP/1.1 protocol (${step.message})`));
      this.bodyBytes += step.data;
      if (step.kind === 'more') body.chunk = step.state;
      ended = step.kind === 'done';
    }
    if (ended || this.bodyBytes > this.spec.http.maxBodyBytes) this.finish(null);
  }

  private readonly onEnd = (): void => this.finish(this.body ? truncatedBody(this.endpoint) : closedEarly(this.endpoint));

  private protocol(message: string): Failure {
    return { reason: FailureReason.protocol, message: `invalid HTTP response from ${this.endpoint}: ${message}` };
  }
}
