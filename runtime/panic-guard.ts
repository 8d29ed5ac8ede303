// The panic guard's I/O (protocol/panic.ts has the rule, protocol/panic-groups.ts the groups): every
// node listens to all status messages, counts the downs in its PanicWatch (and, with a group label,
// in the watch of the message's `group`), ticks them once a second, and tells its runners whether
// to hold new downs (`panicking`, for the fleet or for a check's group). The leader announces a
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

/** The `group` of a status message, when it names one that can be watched. */
function groupOfMessage(msg: { group?: unknown }): string | undefined {
  const g = msg.group;
  return typeof g === 'string' && g.length > 0 && g.length <= MAX_GROUP_VALUE ? g : undefined;
}

const TO_DOWN = Buffer.from('"to":"down"');

/** Whether a status message's bytes hold `"to":"down"` (false: it announces no down; true: decode and look). */
export function saysDown(data: Uint8Array): boolean {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(TO_DOWN) >= 0;
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
  const unsubscribe = o.bus.subscribe(o.subjects.statusWildcard(), (m) => {
    // Most changes are not downs (a start: one `unknown → up` per check, heard by every node): only
    // a message whose bytes can say down is decoded (a node's encode writes `"to":"down"` exactly).
    if (!saysDown(m.data)) return;
    const msg = m.json() as { to?: unknown; group?: unknown } | undefined;
    if (typeof msg !== 'object' || msg === null || msg.to !== 'down') return;
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
