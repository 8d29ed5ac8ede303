// The one entry point the check runner calls: run a probe of the spec's kind.
import { probeHttp } from './http-probe';
import { FailureReason, type ProbeOutcome } from './outcome';
import { CheckKind, type NormalizedSpec } from './spec';
import { probeTcp } from './tcp-probe';

export { closeHttpPool, releaseHttpClient } from './http-probe';

/** Probe once. Never rejects: every failure, including an unknown kind, is an outcome. */
export function runProbe(spec: NormalizedSpec, signal?: AbortSignal): Promise<ProbeOutcome> {
  switch (spec.kind) {
    case CheckKind.http:
      return probeHttp(spec, signal);
    case CheckKind.tcp:
      return probeTcp(spec, signal);
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
