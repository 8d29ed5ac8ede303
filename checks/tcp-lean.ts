// The lean TCP probe: a connect-only spec (no dialog; TLS at once when `tls` is set) — the most
// common TCP check — on the lean frame (checks/lean-connect.ts): a connect that completes (and its
// handshake, with `tls`) passes, then the certificate's days left and the latency bound. It gives
// what checks/tcp-probe.ts gives for such a spec (test/integration/tcp-lean-diff.test.ts), without
// the envelope's Deadline, AbortController, Promise.race and closures per probe. A spec with
// dialog steps goes to checks/tcp-probe.ts; runProbe picks (tcpLeanEligible).
import type { Socket } from 'node:net';
import { splitHostPort } from './address-policy';
import type { ConnectTarget } from './connector';
import { LeanConnect } from './lean-connect';
import type { ProbeOutcome } from './outcome';
import type { ProbeEnv } from './probe-env';
import type { NormalizedSpec } from './spec';
import type { StopSignal } from './probe-stop';

/** Where to connect, worked out once per spec object; null: not a `host:port` (the full path reports it). */
const targets = new WeakMap<NormalizedSpec, ConnectTarget | null>();

function targetOf(spec: NormalizedSpec): ConnectTarget | null {
  let target = targets.get(spec);
  if (target !== undefined) return target;
  const endpoint = splitHostPort(spec.target);
  target = endpoint && (spec.tcp.tls ? { ...endpoint, tls: spec.tcp.tls } : endpoint);
  targets.set(spec, target);
  return target;
}

/** Whether the lean path probes `spec` exactly as checks/tcp-probe.ts would: a connect with no dialog. */
export function tcpLeanEligible(spec: NormalizedSpec): boolean {
  return spec.tcp.dialog.length === 0 && targetOf(spec) !== null;
}

/** One lean TCP probe. Never rejects. `spec` must be tcpLeanEligible. */
export function probeTcpLean(spec: NormalizedSpec, signal: StopSignal | undefined, env: ProbeEnv): Promise<ProbeOutcome> {
  return new Promise((resolve) => new LeanTcp(spec, signal, env, resolve).begin(targetOf(spec)!));
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
