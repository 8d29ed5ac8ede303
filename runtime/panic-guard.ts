// The panic guard's I/O (protocol/panic.ts has the rule, protocol/panic-groups.ts the groups): every
// node listens to the down notices (`<prefix>._node.down`: a node that publishes a status message
// saying `down` publishes one beside it, downNoticeOf), counts them in its PanicWatch (and, with a
// group label, in the watch of the notice's `group`), ticks them once a second, and tells its
// runners whether to hold new downs (`panicking`, for the fleet or for a check's group).
//
// Not every status message: every node heard each of them until 2026-12-08, and at a start every
// check's first verdict (`unknown → up`) is one — at 1M checks and 60 s, 16,667 a second delivered
// to each of ten nodes to find none that says down. The notice goes through the same publish gate
// as its status (PublishKind.down), so a down dropped unheard is not counted either; only nodes
// may publish under `_node.>` (examples/nats/lookout-permissions.conf), so a client that may
// publish status messages cannot start a panic with forged downs. The leader announces a
// panic and its release on `<prefix>.cluster.panic` (`group` names a group's); every node logs
// them (`panic_entered` / `panic_released`) and shows them in `lookout_panic` /
// `lookout_panic_group{group}`.

import { MAX_GROUP_VALUE, GroupPanics, type GroupPanicChange } from '../protocol/panic-groups';
import { PanicWatch, type PanicChange, type PanicConfig } from '../protocol/panic';
import type { Bus } from './bus';
import type { Clock, TimerHandle } from './clock';
import type { Logger } from './logger';
import type { Metrics } from './metrics';
import type { Subjects } from './subjects';

/** How often a panic is looked at for its release, ms. */
export const PANIC_TICK_MS = 1000;

export interface PanicGuardOptions {
  bus: Bus;
  subjects: Subjects;
  clock: Clock;
  cfg: PanicConfig;
  /** How many checks the fleet has (the members' heartbeats). */
  checks(): number;
  /** With LOOKOUT_PANIC_GROUP_LABEL: each group's checks (the members' heartbeats). Absent: no groups. */
  groupSizes?(): ReadonlyMap<string, number>;
  /** True while this node leads (it announces). */
  leading(): boolean;
  nodeId: string;
  metrics: Metrics;
  log: Logger;
}

export interface PanicGuard {
  /** The fleet panics, or `group` does. */
  panicking(group?: string): boolean;
  stop(): void;
}

/** The `group` of a notice (or a status message), when it names one that can be watched. */
function groupOfMessage(msg: { group?: unknown }): string | undefined {
  const g = msg.group;
  return typeof g === 'string' && g.length > 0 && g.length <= MAX_GROUP_VALUE ? g : undefined;
}

/** What a node publishes on `<prefix>._node.down` beside a status message that says down. */
export interface DownNotice {
  checkId: string;
  /** The check's panic group (the status message's `group`), when it has one. */
  group?: string;
}

/** The down notice of a status message a node publishes: null unless it says `down`. */
export function downNoticeOf(status: unknown): DownNotice | null {
  if (typeof status !== 'object' || status === null) return null;
  const m = status as { checkId?: unknown; to?: unknown; group?: unknown };
  if (m.to !== 'down' || typeof m.checkId !== 'string') return null;
  const group = groupOfMessage(m);
  return group === undefined ? { checkId: m.checkId } : { checkId: m.checkId, group };
}

export function startPanicGuard(o: PanicGuardOptions): PanicGuard {
  if (o.cfg.fraction <= 0) return { panicking: () => false, stop: () => {} };
  const watch = new PanicWatch(o.cfg);
  const groups = o.groupSizes ? new GroupPanics(o.cfg) : null;
  const announce = (c: PanicChange | GroupPanicChange) => {
    const at = new Date(o.clock.now()).toISOString();
    const group = 'group' in c ? c.group : undefined;
    const named = group !== undefined ? { group } : {};
    if (c.type === 'entered') {
      if (group !== undefined) {
        o.metrics.panicGroup.set({ group }, 1);
        o.metrics.groupPanics.inc();
      } else {
        o.metrics.panic.set(1);
        o.metrics.panics.inc();
      }
      o.log.warn({ event: 'panic_entered', ...named, downs: c.downs, checks: c.checks, threshold: c.threshold, holdMs: o.cfg.holdMs }, group !== undefined ? 'panic: too many checks of one group went down at once; its new downs are held' : 'panic: too many checks went down at once; new downs are held');
      if (o.leading()) o.bus.publish(o.subjects.cluster('panic'), { active: true, ...named, downs: c.downs, checks: c.checks, threshold: c.threshold, windowMs: o.cfg.windowMs, holdMs: o.cfg.holdMs, node: o.nodeId, at });
    } else {
      if (group !== undefined) o.metrics.panicGroup.remove({ group });
      else o.metrics.panic.set(0);
      o.log.info({ event: 'panic_released', ...named, heldMs: c.heldMs }, 'panic released: downs are announced again');
      if (o.leading()) o.bus.publish(o.subjects.cluster('panic'), { active: false, ...named, heldMs: c.heldMs, node: o.nodeId, at });
    }
  };
  const unsubscribe = o.bus.subscribe(o.subjects.panicDowns(), (m) => {
    const msg = m.json() as { group?: unknown } | undefined;
    if (typeof msg !== 'object' || msg === null) return;
    const now = o.clock.monotonic();
    const c = watch.noteDown(now, o.checks());
    if (c) announce(c);
    const group = groups ? groupOfMessage(msg) : undefined;
    if (group === undefined) return;
    const g = groups!.noteDown(group, now, o.groupSizes!().get(group));
    if (g) announce(g);
  });
  let timer: TimerHandle | null = null;
  const tick = () => {
    const now = o.clock.monotonic();
    const c = watch.tick(now);
    if (c) announce(c);
    for (const g of groups?.tick(now) ?? []) announce(g);
    timer = o.clock.setTimeout(tick, PANIC_TICK_MS);
  };
  timer = o.clock.setTimeout(tick, PANIC_TICK_MS);
  return {
    panicking: (group) => watch.panicking() || (groups?.panicking(group) ?? false),
    stop: () => {
      unsubscribe();
      if (timer !== null) o.clock.clearTimeout(timer);
    },
  };
}
