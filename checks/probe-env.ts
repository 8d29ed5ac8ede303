// What the node gives every probe besides the spec: the address policy, the resolver, how much
// of a target's answer a result may quote, the pool of kept-alive HTTP connections, the body
// worker, and where to report body work the worker stopped. The node builds one from its settings
// (runtime/target-policy.ts), its metrics and a pool of its own, and closes it at shutdown
// (app/start-node.ts); direct callers (tests, benchmarks, tools) get DIRECT_PROBE_ENV.
import { buildAddressPolicy, type AddressPolicy } from './address-policy';
import type { BodyAssertion } from './body-job';
import { bodyWorker, type BodyWorker } from './body-worker';
import { systemLookup, type LookupFn } from './connector';
import { HttpClientPool } from './http-pool';
import type { ProbeOutcome } from './outcome';
import { ResultDetail } from './result-detail';
import type { NormalizedSpec } from './spec';

/**
 * Body work (a bodyRegex match, a check's json assertions) the body worker stopped at its budget
 * (`budget`), or refused without running because the same work overran recently (`remembered`)
 * or because costly work had its share of the worker (`rationed`). The probe is down either way.
 */
export type WorkerOverrunReport = (assertion: BodyAssertion, why: 'budget' | 'remembered' | 'rationed') => void;

export interface ProbeEnv {
  policy: AddressPolicy;
  lookup: LookupFn;
  detail: ResultDetail;
  /** The Clients of `reuseConnection` checks: released per deleted check, closed at shutdown. */
  httpPool: HttpClientPool;
  /** Where bodyRegex and json assertions run (the process's one `bodyWorker` unless a test makes its own). */
  bodyWorker: BodyWorker;
  /**
   * The `User-Agent` every HTTP probe sends unless its spec sets one: a node sends
   * `lookout/<version> (node <id>)`, so a target (or a test) can tell the vantages apart. Absent: none.
   */
  userAgent?: string;
  /** The node counts these in lookout_body_worker_overruns_total; direct callers may omit it. */
  onWorkerOverrun?: WorkerOverrunReport;
  /**
   * The deadlines of the push checks this node owns (runtime/push-registry.ts): a push check's
   * "probe" is their evaluation, no I/O. Absent (a direct caller): a push probe is an `error` outcome.
   */
  push?: PushEvaluator;
}

/** Evaluates a push check's deadline from what this node heard (checks/push-deadline.ts). */
export interface PushEvaluator {
  evaluate(spec: NormalizedSpec): ProbeOutcome;
}

/**
 * For a probe called directly rather than by a node: the built-in deny rules only, the system
 * resolver, and `full` detail (the caller reads its own results; a node's default is `redacted`),
 * a pool of its own and the process's body worker. Close it with closeProbeEnv when done.
 */
export const DIRECT_PROBE_ENV: ProbeEnv = {
  policy: buildAddressPolicy(),
  lookup: systemLookup,
  detail: ResultDetail.full,
  httpPool: new HttpClientPool(),
  bodyWorker,
};

/** Destroy the env's pooled connections and stop its body worker (at shutdown). */
export async function closeProbeEnv(env: ProbeEnv): Promise<void> {
  await Promise.all([env.httpPool.close(), env.bodyWorker.close()]);
}
