// The lean TCP probe: a connect-only spec (no dialog; TLS at once when `tls` is set) — the most
// common TCP check — on the lean frame (checks/lean-connect.ts): a connect that completes (and its
// handshake, with `tls`) passes, then the certificate's days left and the latency bound. It gives
// what checks/tcp-probe.ts gives for such a spec (test/integration/tcp-lean-diff.test.ts), without
// the envelope's Deadline, AbortController, Promise.race and closures per probe. A spec with
// dialog steps goes to checks/tcp-probe.ts; runProbe picks (tcpLeanTarget).
import type { Socket } from 'node:net';
import { splitHostPort } from './address-policy';
import type { ConnectTarget } from './connector';
import { LeanConnect } from './lean-connect';
import type { ProbeOutcome } from './outcome';
import type { ProbeEnv } from './probe-env';
import type { NormalizedSpec } from './spec';
import type { StopSignal } from './probe-stop';

/**
 * Where a connect-only spec connects, worked out per probe; null: the spec has dialog steps, or its
 * target is not a `host:port` (the full path runs it, and reports the latter). Not kept per spec: a
 * WeakMap from spec to target held ~90 B a check (the entry, the target, its host string) for a
 * parse that costs a regex match per probe (BENCHMARKS.md §2).
 */
export function tcpLeanTarget(spec: NormalizedSpec): ConnectTarget | null {
  if (spec.tcp.dialog.length > 0) return null;
  const endpoint = splitHostPort(spec.target);
  return endpoint && (spec.tcp.tls ? { host: endpoint.host, port: endpoint.port, tls: spec.tcp.tls } : endpoint);
}

/** Whether the lean path probes `spec` exactly as checks/tcp-probe.ts would: a connect with no dialog. */
export function tcpLeanEligible(spec: NormalizedSpec): boolean {
  return tcpLeanTarget(spec) !== null;
}

/** One lean TCP probe to `target` (tcpLeanTarget(spec), which must not be null). Never rejects. */
export function probeTcpLean(spec: NormalizedSpec, signal: StopSignal | undefined, env: ProbeEnv, target: ConnectTarget = tcpLeanTarget(spec)!): Promise<ProbeOutcome> {
  return new Promise((resolve) => new LeanTcp(spec, signal, env, resolve).begin(target));
}

class LeanTcp extends LeanConnect {
  constructor(spec: NormalizedSpec, signal: StopSignal | undefined, env: ProbeEnv, resolve: (outcome: ProbeOutcome) => void) {
    super({ timeoutMs: spec.timeoutMs, maxLatencyMs: spec.tcp.maxLatencyMs, minDaysLeft: spec.tcp.tls?.minDaysLeft }, spec.target, signal, env, resolve);
  }

  /** Connected (and handshaken): the probe passed. */
  protected opened(_socket: Socket): void {
    this.finish(null);
  }
}
