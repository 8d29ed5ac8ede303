// The faults the chaos harness injects, each a small function over a running ChaosHarness: SIGKILL,
// SIGSTOP/SIGCONT, a graceful SIGTERM restart, a frozen or cut NATS link (the node's TCP proxy), a
// NATS server restart or loss, a flapping node. Durations come from the timing profile (a pause
// must outlast the failure detector and the lease to matter), never from a guess per scenario.

import type { ChaosHarness, StartOptions } from './harness';

/** A fault's duration: long enough that every node's detector and the lease have given up. */
export function outageMs(h: ChaosHarness): number {
  return 2.5 * Math.max(h.timers.deadAfterMs, h.timers.leaseMs);
}

/** SIGKILL a node and wait until it is gone. */
export async function kill(h: ChaosHarness, id: string): Promise<void> {
  const n = h.node(id);
  n.signal('SIGKILL');
  await n.exited;
}

/** SIGSTOP a node for `ms`, then SIGCONT. */
export async function pause(h: ChaosHarness, id: string, ms = outageMs(h)): Promise<void> {
  const n = h.node(id);
  n.signal('SIGSTOP');
  await h.observe(ms);
  n.signal('SIGCONT');
}

/** SIGTERM a node and wait for it to leave and exit (SIGKILL if it has not after the leave timeout and a margin). */
export async function terminate(h: ChaosHarness, id: string): Promise<void> {
  const n = h.node(id);
  n.signal('SIGTERM');
  const timer = setTimeout(() => {
    h.note(`${id} did not exit after SIGTERM: SIGKILL`);
    n.signal('SIGKILL');
  }, h.timers.leaveTimeoutMs + 30_000);
  await n.exited;
  clearTimeout(timer);
}

/** Every node in turn: SIGTERM, start it again, wait until the cluster has settled with it. */
export async function rollingRestart(h: ChaosHarness, ids: string[], o: StartOptions = {}): Promise<void> {
  for (const id of ids) {
    await terminate(h, id);
    await h.start(id, o);
    await h.settled(ids);
  }
}

/** `id` crashes (SIGKILL) and restarts every `periodMs`, `times` times. */
export async function flap(h: ChaosHarness, id: string, times: number, periodMs = 2 * h.timers.deadAfterMs + 1000, o: StartOptions = {}): Promise<void> {
  for (let i = 0; i < times; i++) {
    await kill(h, id);
    await h.start(id, o);
    await h.observe(periodMs);
  }
}

/** Freeze `id`'s link to NATS for `ms` (nothing resets: bytes wait in the socket buffers), then thaw it. */
export async function freezeLink(h: ChaosHarness, id: string, ms = outageMs(h)): Promise<void> {
  const p = proxyOf(h, id);
  p.freeze();
  await h.observe(ms);
  p.thaw();
}

/** Cut `id`'s link to NATS for `ms` (connections reset, new ones refused), then heal it. */
export async function cutLink(h: ChaosHarness, id: string, ms = outageMs(h)): Promise<void> {
  const p = proxyOf(h, id);
  p.cut();
  await h.observe(ms);
  p.heal();
}

function proxyOf(h: ChaosHarness, id: string) {
  const p = h.proxies.get(id);
  if (!p) throw new Error(`${id} was not started with viaProxy`);
  return p;
}

/** Stop NATS server `i` (SIGTERM), keep it down for `downMs`, start it again on its port and store. */
export async function restartNats(h: ChaosHarness, i = 0, downMs = 2 * h.timers.deadAfterMs): Promise<void> {
  const s = h.servers[i]!;
  await s.stop();
  await h.observe(downMs);
  await s.restart();
}

/** SIGKILL NATS server `i` of a cluster and leave it down. */
export async function loseNats(h: ChaosHarness, i: number): Promise<void> {
  await h.servers[i]!.kill();
}
