// The node's probing, wired: the target address policy (what a spec may reach from this node: not
// link-local or metadata addresses, not the operator's denied ranges, not this node's own HTTP
// port or its NATS servers), the probe environment (kept-alive connections per check, the body
// worker, the user agent) and the probe function the runners, the confirm responder and the
// quarantine guard call — the synthetic probe instead when the bench asks for it.

import { bodyWorker, closeProbeEnv, HttpClientPool, runProbe, type ProbeEnv, type PushEvaluator } from '../checks/probe';
import { systemLookup } from '../checks/connector';
import type { NormalizedSpec } from '../checks/spec';
import type { AddressPolicy } from '../checks/address-policy';
import type { Config } from '../runtime/config';
import type { Logger } from '../runtime/logger';
import type { Metrics } from '../runtime/metrics';
import { probeOrSynthetic } from '../runtime/synthetic-probe';
import { describePolicy, nodeTargetPolicy, type NatsServerAddress } from '../runtime/target-policy';
import { VERSION } from '../runtime/version';
import type { StopSignal } from '../checks/probe-stop';
import type { ProbeFn } from '../checks/probe';

export interface NodeProbing {
  targetPolicy: AddressPolicy;
  probe: ProbeFn;
  /** Drop the kept-alive connections of a deleted (or moved) check. */
  release(id: string): void;
  /** Close every kept-alive connection and the body worker (shutdown). */
  close(): Promise<void>;
}

/**
 * `httpPort`: this node's /metrics port; `natsServers`: the servers it is connected to (both are
 * denied to probes); `push`: the deadlines of the push checks it owns (their probe evaluates them).
 */
export async function startProbing(cfg: Config, httpPort: number, natsServers: readonly NatsServerAddress[], metrics: Metrics, log: Logger, push?: PushEvaluator): Promise<NodeProbing> {
  const targetPolicy = await nodeTargetPolicy(cfg, httpPort, natsServers);
  log.info({ event: 'target_policy', ...describePolicy(targetPolicy) }, 'target address policy');
  const env: ProbeEnv = {
    policy: targetPolicy,
    lookup: systemLookup,
    detail: cfg.resultDetail,
    // This node's kept-alive connections (released per deleted check, closed at shutdown).
    httpPool: new HttpClientPool(),
    bodyWorker,
    userAgent: `lookout/${VERSION} (node ${cfg.nodeId})`,
    onWorkerOverrun: (assertion, why) => metrics.bodyWorkerOverruns.inc({ assertion, why }),
    ...(push ? { push } : {}),
  };
  return {
    targetPolicy,
    probe: probeOrSynthetic(process.env, (spec: NormalizedSpec, signal: StopSignal) => runProbe(spec, signal, env), log),
    release: (id) => void env.httpPool.release(id),
    close: () => closeProbeEnv(env),
  };
}
