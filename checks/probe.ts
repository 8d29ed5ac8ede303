// The one entry point the check runner calls: run a probe of the spec's kind (and what a node
// needs to build and close the ProbeEnv it passes).
import { probeDns } from './dns-probe';
import { probeGrpc } from './grpc-probe';
import { leanEligible, probeHttpLean } from './http-lean';
import { probeHttp } from './http-probe';
import { FailureReason, type ProbeOutcome } from './outcome';
import { DIRECT_PROBE_ENV, type ProbeEnv } from './probe-env';
import { CheckKind, type NormalizedSpec } from './spec';
import { probeTcpLean, tcpLeanTarget } from './tcp-lean';
import { probeTcp } from './tcp-probe';
import type { StopSignal } from './probe-stop';

export { bodyWorker } from './body-worker';
export { HttpClientPool } from './http-pool';
export { closeProbeEnv, type ProbeEnv, type PushEvaluator } from './probe-env';

/** A probe as the node's parts call it (runners, the confirm responder, the quarantine guard): runProbe bound to the node's probe environment, or the bench's synthetic probe. */
export type ProbeFn = (spec: NormalizedSpec, signal: StopSignal) => Promise<ProbeOutcome>;

/**
 * Probe once. Never rejects: every failure, including an unknown kind or a denied address, is an
 * outcome. `env` carries the node's address policy, resolver, result detail, pool and body worker.
 */
export function runProbe(spec: NormalizedSpec, signal?: StopSignal, env: ProbeEnv = DIRECT_PROBE_ENV): Promise<ProbeOutcome> {
  switch (spec.kind) {
    case CheckKind.http:
      // The simplest specs (GET/HEAD, no body, no redirects, fresh connection) skip undici.
      return leanEligible(spec) ? probeHttpLean(spec, signal, env) : probeHttp(spec, signal, env);
    case CheckKind.tcp: {
      // A connect-only spec (no dialog) skips the probe envelope.
      const target = tcpLeanTarget(spec);
      return target ? probeTcpLean(spec, signal, env, target) : probeTcp(spec, signal, env);
    }
    case CheckKind.dns:
      return probeDns(spec, signal, env);
    case CheckKind.grpc:
      return probeGrpc(spec, signal, env);
    case CheckKind.push:
      // Nothing goes over a network: the owner's evaluation of what it heard (checks/push-deadline.ts).
      return Promise.resolve(
        env.push?.evaluate(spec) ?? { ok: false, reason: FailureReason.error, message: 'this caller keeps no push deadlines (only a node does)', latencyMs: 0, timings: { total: 0 } },
      );
    default: {
      // Fails to compile when a kind is added without a probe.
      const unknown: never = spec.kind;
      return Promise.resolve({
        ok: false,
        reason: FailureReason.error,
        message: `unknown check kind ${JSON.stringify(unknown)}`,
        latencyMs: 0,
        timings: { total: 0 },
      });
    }
  }
}
