// One webhook call: POST the rendered body to the notifier's URL and classify what happened
// (protocol/notify-attempt.ts CallOutcome). The connection goes through the probes' connector
// (checks/connector.ts), so the node's address policy (LOOKOUT_TARGET_ALLOW / _DENY, the built-in
// rules, the node's own endpoints) is applied to every address it dials: a notifier cannot reach
// what a check may not. A refused address is a permanent failure (no retry: the policy will not
// change its mind); so is a 4xx other than 408, 425 and 429. A fresh connection per call, TLS
// verified, one deadline (timeoutMs) for connect, request and the first KiB of the answer.

import { Client } from 'undici';
import { systemLookup, undiciConnector, type ConnectContext, type LookupFn } from '../checks/connector';
import { UNDICI_TIMERS_OFF } from '../checks/http-pool';
import type { AddressPolicy } from '../checks/address-policy';
import { retryableStatus, type CallOutcome } from '../protocol/notify-attempt';

export interface WebhookCall {
  url: string;
  body: string;
  /** The notifier's own headers, then Lookout's (content-type, user-agent, Lookout-Delivery, Lookout-Attempt). */
  headers: Record<string, string>;
  timeoutMs: number;
  /** The node stops: abandon the call. */
  signal?: AbortSignal;
}

export interface WebhookEnv {
  policy: AddressPolicy;
  lookup?: LookupFn;
}

/** Bytes of the answer read (for the error message); the rest is dropped with the connection. */
const ANSWER_BYTES = 1024;

const cut = (s: string, n = 200) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

export async function callWebhook(call: WebhookCall, env: WebhookEnv): Promise<CallOutcome> {
  const url = new URL(call.url);
  const deadline = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([deadline, call.signal]) : deadline;
  const ctx: ConnectContext = { timings: {}, signal, policy: env.policy, lookup: env.lookup ?? systemLookup };
  const client = new Client(url.origin, { ...UNDICI_TIMERS_OFF, connect: undiciConnector({ verify: true }, () => ctx) });
  try {
    const res = await client.request({ path: `${url.pathname}${url.search}`, method: 'POST', headers: call.headers, body: call.body, signal });
    const answer = await readSome(res.body, ANSWER_BYTES);
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, httpStatus: res.statusCode };
    const error = `the receiver answered HTTP ${res.statusCode}${answer ? `: ${cut(answer)}` : ''}`;
    return { ok: false, retryable: retryableStatus(res.statusCode), httpStatus: res.statusCode, error };
  } catch (err) {
    return failed(err, call, deadline);
  } finally {
    void client.destroy().catch(() => {});
  }
}

function failed(err: unknown, call: WebhookCall, deadline: AbortSignal): CallOutcome {
  const e = err as { code?: string; message?: string; name?: string } | null;
  if (e?.code === 'LOOKOUT_ADDRESS_DENIED') return { ok: false, retryable: false, httpStatus: null, error: `refused by this node's address policy: ${e.message}` };
  if (deadline.aborted) return { ok: false, retryable: true, httpStatus: null, error: `no answer within timeoutMs (${call.timeoutMs} ms)` };
  if (call.signal?.aborted) return { ok: false, retryable: true, httpStatus: null, error: 'the node stopped during the call' };
  return { ok: false, retryable: true, httpStatus: null, error: cut(`${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(err)}`) };
}

/** Up to `max` bytes of a body as text; the rest is not read. */
async function readSome(body: AsyncIterable<Buffer> & { destroy?: () => void }, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    n += chunk.length;
    if (n >= max) break;
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8').trim();
}
