// The panic guard's I/O (protocol/panic.ts has the rule): every node listens to all status
// messages, counts the downs in its PanicWatch, ticks it once a second, and tells its runners
// whether to hold new downs (`panicking`). The leader announces a panic and its release on
// `<prefix>.cluster.panic`; every node logs them (`panic_entered` / `panic_released`) and shows
// them in `lookout_panic`.

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
  /** How many checks the fleet has (this node's spec catalog). */
  checks(): number;
  /** True while this node leads (it announces). */
  leading(): boolean;
  nodeId: string;
  metrics: Metrics;
  log: Logger;
}

export interface PanicGuard {
  panicking(): boolean;
  stop(): void;
}

export function startPanicGuard(o: PanicGuardOptions): PanicGuard {
  if (o.cfg.fraction <= 0) return { panicking: () => false, stop: () => {} };
  const watch = new PanicWatch(o.cfg);
  const announce = (c: PanicChange) => {
    const at = new Date(o.clock.now()).toISOString();
    if (c.type === 'entered') {
      o.metrics.panic.set(1);
      o.metrics.panics.inc();
      o.log.warn({ event: 'panic_entered', downs: c.downs, checks: c.checks, threshold: c.threshold, holdMs: o.cfg.holdMs }, 'panic: too many checks went down at once; new downs are held');
      if (o.leading()) o.bus.publish(o.subjects.cluster('panic'), { active: true, downs: c.downs, checks: c.checks, threshold: c.threshold, windowMs: o.cfg.windowMs, holdMs: o.cfg.holdMs, node: o.nodeId, at });
    } else {
      o.metrics.panic.set(0);
      o.log.info({ event: 'panic_released', heldMs: c.heldMs }, 'panic released: downs are announced again');
      if (o.leading()) o.bus.publish(o.subjects.cluster('panic'), { active: false, heldMs: c.heldMs, node: o.nodeId, at });
    }
  };
  const unsubscribe = o.bus.subscribe(o.subjects.statusWildcard(), (m) => {
    const msg = m.json() as { to?: unknown } | undefined;
    if (typeof msg !== 'object' || msg === null || msg.to !== 'down') return;
    const c = watch.noteDown(o.clock.monotonic(), o.checks());
    if (c) announce(c);
  });
  let timer: TimerHandle | null = null;
  const tick = () => {
    const c = watch.tick(o.clock.monotonic());
    if (c) announce(c);
    timer = o.clock.setTimeout(tick, PANIC_TICK_MS);
  };
  timer = o.clock.setTimeout(tick, PANIC_TICK_MS);
  return {
    panicking: () => watch.panicking(),
    stop: () => {
      unsubscribe();
      if (timer !== null) o.clock.clearTimeout(timer);
    },
  };
}
