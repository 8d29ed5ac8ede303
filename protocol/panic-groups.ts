// Panic guard per labelled group (issue 13 §4): a fleet whose checks are grouped by a label (a
// region, a team, a shared front) can see one group fail wholesale — a checker-side fault that
// takes out one region's DNS, one front's certificate chain — while the fleet as a whole stays far
// below the panic fraction. With LOOKOUT_PANIC_GROUP_LABEL set, every node watches each group with
// its own PanicWatch (panic.ts, the same fraction, minimum, window and hold), beside the watch of
// the whole fleet:
//
//   group of a check   = its value of the label (absent, or longer than MAX_GROUP_VALUE: no group)
//   a group's size     = Σ over live members of their heartbeat `groups` (each member counts the
//                        specs of the shards it runs at rank 0, as `specs` does for the fleet; it
//                        names its MAX_PANIC_GROUPS largest groups: topGroups)
//   a group's downs    = status messages to down that carry the group (`group`, check-messages.ts)
//   a check's downs are held while the fleet or its group panics.
//
// Bounded whatever the specs say: a heartbeat names at most MAX_PANIC_GROUPS groups, a node watches
// at most MAX_WATCHED_GROUPS (a group nobody's heartbeat names, or one past the bound, is watched
// only as part of the fleet). Pure: times are monotonic ms passed in.

import type { NormalizedSpec } from '../checks/spec';
import { PanicWatch, type PanicChange, type PanicConfig } from './panic';

/** Groups a heartbeat names (its largest). */
export const MAX_PANIC_GROUPS = 32;
/** Longest group value a node names or watches. */
export const MAX_GROUP_VALUE = 64;
/** Groups one node watches at once. */
export const MAX_WATCHED_GROUPS = 64;

/** The group of a check: its value of `label`, when it has one that can be named. */
export function groupOf(labels: Readonly<Record<string, string>>, label: string): string | undefined {
  if (label === '') return undefined;
  const v = labels[label];
  return v !== undefined && v.length > 0 && v.length <= MAX_GROUP_VALUE ? v : undefined;
}

/** A status message names the check's group when the node groups by a label the check has. */
export function withGroup<M extends { group?: string }>(msg: M, spec: Pick<NormalizedSpec, 'labels'>, label: string | undefined): M {
  const group = label ? groupOf(spec.labels, label) : undefined;
  if (group !== undefined) msg.group = group;
  return msg;
}

/** What a heartbeat says of the sender's groups: the `max` largest (ties: by name), as a record. */
export function topGroups(counts: ReadonlyMap<string, number>, max = MAX_PANIC_GROUPS): Record<string, number> {
  const top = [...counts].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, max);
  return Object.fromEntries(top);
}

/** A received heartbeat's `groups`, checked: null when malformed (the heartbeat keeps its other fields). */
export function parseGroups(raw: unknown): Record<string, number> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_PANIC_GROUPS) return null;
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > MAX_GROUP_VALUE || typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) return null;
  }
  // fromEntries, not assignment: a group named "__proto__" stays a group.
  return Object.fromEntries(entries) as Record<string, number>;
}

/** The fleet's group sizes: the sum of the members' counts. */
export function fleetGroups(members: Iterable<Readonly<Record<string, number>> | undefined>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const g of members) if (g) for (const [k, n] of Object.entries(g)) sizes.set(k, (sizes.get(k) ?? 0) + n);
  return sizes;
}

export type GroupPanicChange = PanicChange & { group: string };

/** One PanicWatch per group, created on a group's first down, bounded (MAX_WATCHED_GROUPS). */
export class GroupPanics {
  private readonly watches = new Map<string, PanicWatch>();

  constructor(
    private readonly cfg: PanicConfig,
    private readonly maxWatched = MAX_WATCHED_GROUPS,
  ) {}

  /**
   * A status message to down of `group` was heard at `now`; `size`: the group's checks as the
   * members said (undefined or 0: a group nobody named — not watched on its own).
   */
  noteDown(group: string, now: number, size: number | undefined): GroupPanicChange | null {
    if (!size) return null;
    let w = this.watches.get(group);
    if (!w) {
      if (this.watches.size >= this.maxWatched) this.forgetIdle(now);
      if (this.watches.size >= this.maxWatched) return null;
      this.watches.set(group, (w = new PanicWatch(this.cfg)));
    }
    const c = w.noteDown(now, size);
    return c ? { ...c, group } : null;
  }

  /** Time passes: panics past their hold are released (one change per group). */
  tick(now: number): GroupPanicChange[] {
    const out: GroupPanicChange[] = [];
    for (const [group, w] of this.watches) {
      const c = w.tick(now);
      if (c) out.push({ ...c, group });
    }
    this.forgetIdle(now);
    return out;
  }

  /** True while `group` holds new downs. */
  panicking(group: string | undefined): boolean {
    return group !== undefined && this.watches.get(group)?.panicking() === true;
  }

  /** Groups in panic now, by name. */
  inPanic(): string[] {
    return [...this.watches].filter(([, w]) => w.panicking()).map(([g]) => g).sort();
  }

  /** Groups watched now (bounded by MAX_WATCHED_GROUPS). */
  get watched(): number {
    return this.watches.size;
  }

  /** Watches with nothing to remember (no down in the window, no panic, no cooling-off) are dropped. */
  private forgetIdle(now: number): void {
    for (const [group, w] of this.watches) if (w.idle(now)) this.watches.delete(group);
  }
}
