// The chaos scenarios, shared by the short profile (test/chaos/*.test.ts, `npm run test:chaos`)
// and the long one (bench/chaos.ts, `npm run chaos`): each starts its own cluster, puts the checks,
// waits until every check is probed steadily, opens the measured window, injects its fault, waits
// for the cluster to settle, observes one gap bound more, and returns the invariant checker's row.

import { jetstreamManager } from '@nats-io/jetstream';
import { TIMING_PROFILES } from '../../runtime/config';
import * as F from './faults';
import { ChaosHarness, type Timers, type TimingProfile } from './harness';
import type { ChaosRow } from './invariants';

export interface ChaosProfile {
  timing: TimingProfile;
  checks: number;
  intervalMs: number;
  /** NATS servers for scenarios that do not need a cluster: 1, or 3 (the nats-cluster profile's setting). */
  natsServers: 1 | 3;
}

/** The short profile: every scenario in ~20–40 s on the test timers. */
export const SHORT: ChaosProfile = { timing: 'test', checks: 60, intervalMs: 1000, natsServers: 1 };

export interface ChaosScenario {
  name: string;
  /** The fault, in words (the table's legend). */
  what: string;
  move: 'crash' | 'planned';
  /** Needs a single server (a proxied link) or a cluster (loss of one server). */
  nats?: 1 | 3;
  /** Open the window when the checks are put (their first probes count), not once they run steadily. */
  windowAtPut?: boolean;
  /** Timers of every node that differ from the profile's, derived from them (e.g. a lease the fault must not outlast). */
  timers?: (t: Timers) => Partial<Timers>;
  /** Start the nodes (default: a, b, c) and wait until they have settled. */
  setup?: (h: ChaosHarness) => Promise<void>;
  fault: (h: ChaosHarness) => Promise<void>;
}

const ABC = ['a', 'b', 'c'];

async function startAll(h: ChaosHarness, ids: string[], skewed: Record<string, string> = {}, proxied: string[] = []): Promise<void> {
  for (const id of ids) await h.start(id, { ...(skewed[id] ? { skew: skewed[id] } : {}), viaProxy: proxied.includes(id) });
  if (!(await h.settled(ids))) throw new Error(`the cluster did not form: ${h.notes.at(-1)}`);
}

async function follower(h: ChaosHarness): Promise<string> {
  const leader = await h.leader();
  return h.liveIds().find((id) => id !== leader)!;
}

/** The NATS server (index) that leads the lease bucket's stream: losing it forces a JetStream re-election. */
async function leaseStreamLeader(h: ChaosHarness): Promise<number> {
  const jsm = await jetstreamManager(h.nc);
  const info = await jsm.streams.info('KV_lookout_leader');
  const m = /-(\d+)$/.exec(info.cluster?.leader ?? '');
  return m ? Number(m[1]) : 0;
}

export const SCENARIOS: ChaosScenario[] = [
  { name: 'formation', what: 'no fault: 3 nodes form, the checks are put and run (their first probes included)', move: 'crash', windowAtPut: true, fault: (h) => h.observe(5 * h.opts.intervalMs) },
  { name: 'kill-node', what: 'SIGKILL a follower node', move: 'crash', fault: async (h) => F.kill(h, await follower(h)) },
  { name: 'kill-leader', what: 'SIGKILL the leader', move: 'crash', fault: async (h) => F.kill(h, await h.leader()) },
  { name: 'pause-node', what: 'SIGSTOP a follower past the dead threshold and the lease, then SIGCONT', move: 'crash', fault: async (h) => F.pause(h, await follower(h)) },
  { name: 'pause-leader', what: 'SIGSTOP the leader past its lease, then SIGCONT', move: 'crash', fault: async (h) => F.pause(h, await h.leader()) },
  {
    name: 'pause-leader-short',
    what: 'SIGSTOP the leader past the dead threshold but not its lease (6 × dead), then SIGCONT: it wakes before any new map, its slots held provisionally by the others',
    move: 'crash',
    timers: (t) => ({ leaseMs: 6 * t.deadAfterMs }),
    fault: async (h) => F.pause(h, await h.leader(), 2 * h.timers.deadAfterMs),
  },
  {
    name: 'link-freeze',
    what: "freeze one node's NATS link (no reset) past the dead threshold, then thaw",
    move: 'crash',
    nats: 1,
    setup: (h) => startAll(h, ABC, {}, ['c']),
    fault: (h) => F.freezeLink(h, 'c'),
  },
  {
    name: 'link-cut',
    what: "cut one node's NATS link (connections reset) past the dead threshold, then heal",
    move: 'crash',
    nats: 1,
    setup: (h) => startAll(h, ABC, {}, ['c']),
    fault: (h) => F.cutLink(h, 'c'),
  },
  {
    name: 'skew-join',
    what: 'a node 30 s behind (libfaketime) joins a, b; then d joins and takes some of its checks',
    move: 'planned',
    setup: (h) => startAll(h, ['a', 'b']),
    fault: async (h) => {
      await h.start('c', { skew: '-30s' });
      await h.settled(ABC);
      await h.observe(3 * h.opts.intervalMs);
      await h.start('d');
      await h.settled([...ABC, 'd']);
    },
  },
  {
    name: 'skew-give',
    what: 'a, b and c 30 s behind (libfaketime) run; d joins and takes some of c\'s checks',
    move: 'planned',
    setup: (h) => startAll(h, ABC, { c: '-30s' }),
    fault: async (h) => {
      if ((await h.leader()) === 'c') h.note('the skewed node leads: its maps carry its own clock');
      await h.start('d');
      await h.settled([...ABC, 'd']);
    },
  },
  {
    name: 'skew-kill',
    what: 'a, b and c 30 s behind (libfaketime); SIGKILL the follower that is not skewed (the leader, not skewed, writes the next map)',
    move: 'crash',
    setup: (h) => startAll(h, ABC, { c: '-30s' }),
    fault: async (h) => {
      const leader = await h.leader();
      // A map's handover instant is its writer's wall clock: with the skewed node leading, the others
      // would start at once and only it would wait. Keep a leader whose clock is right.
      if (leader === 'c') h.note('the skewed node leads: its maps carry its own clock');
      await F.kill(h, ['a', 'b'].find((id) => id !== leader)!);
    },
  },
  { name: 'nats-restart', what: 'restart the NATS server (down twice the dead threshold)', move: 'crash', nats: 1, fault: (h) => F.restartNats(h, 0) },
  { name: 'nats-server-loss', what: "SIGKILL the NATS server leading the lease bucket's stream (of 3)", move: 'crash', nats: 3, fault: async (h) => F.loseNats(h, await leaseStreamLeader(h)) },
  { name: 'rolling-restart', what: 'SIGTERM and restart every node in turn, jitter at its maximum', move: 'planned', fault: (h) => F.rollingRestart(h, ABC) },
  { name: 'flapping', what: 'one node SIGKILLed and restarted every 2 × dead threshold + 1 s, 5 times', move: 'crash', fault: (h) => F.flap(h, 'c', 5) },
];

export function scenario(name: string): ChaosScenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (!s) throw new Error(`no chaos scenario ${name}`);
  return s;
}

export interface ChaosRun {
  row: ChaosRow;
  notes: string[];
  /** Every node's log of the run (kept). */
  runDir: string;
}

const open = new Set<ChaosHarness>();

/** Close every scenario world still open (a test stopped by its timeout, a benchmark interrupted). */
export async function closeOpenHarnesses(): Promise<void> {
  await Promise.all([...open].map((h) => h.close()));
  open.clear();
}

/** Run one scenario under a profile in a world of its own, and close that world whatever happens. */
export async function runScenario(s: ChaosScenario, p: ChaosProfile): Promise<ChaosRun> {
  const timers = s.timers?.(TIMING_PROFILES[p.timing]);
  const h = new ChaosHarness({ scenario: s.name, timing: p.timing, natsServers: s.nats ?? p.natsServers, checks: p.checks, intervalMs: p.intervalMs, move: s.move, ...(timers ? { timers } : {}) });
  open.add(h);
  try {
    await h.open();
    await (s.setup ?? ((x) => startAll(x, ABC)))(h);
    if (s.windowAtPut) {
      h.openWindow();
      await h.putChecks();
    } else {
      await h.putChecksAndSettle();
      h.openWindow();
    }
    await s.fault(h);
    await h.settled(h.liveIds());
    await h.tail();
    return { row: await h.finish(), notes: h.notes, runDir: h.runDir };
  } finally {
    open.delete(h);
    await h.close();
  }
}
