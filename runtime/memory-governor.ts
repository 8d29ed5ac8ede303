// The node keeps its memory within LOOKOUT_MEMORY_MB (runtime/memory-budget.ts has the what and
// why): it samples the heap after every collection and sets the V8 flags the plan asks for, from
// the first line of `lookout node` on (bin/lookout.ts) — so `npm start`, `lookout node` and the
// Docker image behave alike, with no flag from the user. Node flags the user did give that size
// the heap (NODE_OPTIONS, the command line) win over the setting.
//
// Gauges (on the node's registry): lookout_memory_budget_bytes, lookout_heap_growing_percent,
// lookout_heap_live_bytes, lookout_young_generation_target_bytes, lookout_memory_over_budget,
// lookout_heap_size_limit_bytes.
// Logs: memory_budget (once, at start), memory_over_budget / memory_within_budget (on a change).

import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger';
import { FRAGMENTATION_INITIAL, heapFlags, planHeap, userHeapFlags, type HeapPlan, type HeapSample, type UserHeapFlags } from './memory-budget';
import { releaseYoungGeneration } from './young-generation-hold';

export interface MemoryGovernor {
  readonly budgetMb: number;
  /** The plan in force (null: the governor is off). */
  plan(): HeapPlan | null;
  /** Publish the gauges on a node's registry. */
  register(registry: Registry): void;
  stop(): void;
}

/** The heap now: the spaces' sizes, and the old generation's objects and memory. */
interface Spaces {
  youngCommitted: number;
  semiSpace: number;
  oldUsed: number;
  oldCommitted: number;
}

function spaces(): Spaces {
  const out = { youngCommitted: 0, semiSpace: 0, oldUsed: 0, oldCommitted: 0 };
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space') {
      out.youngCommitted += s.space_size;
      out.semiSpace = s.space_size / 2;
    } else if (s.space_name === 'new_large_object_space') out.youngCommitted += s.space_size;
    else if (s.space_name !== 'read_only_space') {
      out.oldUsed += s.space_used_size;
      out.oldCommitted += s.space_size;
    }
  }
  return out;
}

/**
 * Keep this process within `budgetMb` (0: leave V8 alone). Applies a first plan at once, then after
 * every collection. `user` defaults to the flags this process was started with.
 */
export function startMemoryGovernor(budgetMb: number, log: Logger, user: UserHeapFlags = userHeapFlags(process.execArgv, process.env.NODE_OPTIONS)): MemoryGovernor {
  const gauges: { registry: Registry; set: (p: HeapPlan | null, live: number) => void }[] = [];
  let current: HeapPlan | null = null;
  let applied = '';
  let live: number | null = null;
  let liveShown = 0;
  let fragmentation = FRAGMENTATION_INITIAL;
  let last: Spaces | null = null;
  const apply = (now: Spaces) => {
    last = now;
    const sample: HeapSample = { rss: process.memoryUsage.rss(), heapCommitted: v8.getHeapStatistics().total_heap_size, youngCommitted: now.youngCommitted, semiSpace: now.semiSpace, oldLive: live ?? now.oldUsed, fragmentation };
    const plan = planHeap(budgetMb, sample, user);
    liveShown = sample.oldLive;
    const flags = heapFlags(plan).join(' ');
    if (flags !== applied) v8.setFlagsFromString(flags);
    applied = flags;
    if (current && plan.overBudget !== current.overBudget) {
      const fields = { budgetMb, liveMb: Math.round(sample.oldLive / 2 ** 20), roomMb: Math.round(plan.oldRoom / 2 ** 20), fragmentation: Math.round(fragmentation * 100) / 100 };
      if (plan.overBudget) log.warn({ event: 'memory_over_budget', ...fields }, 'the live heap leaves no room within LOOKOUT_MEMORY_MB: collecting as often as allowed');
      else log.info({ event: 'memory_within_budget', ...fields }, 'the live heap fits LOOKOUT_MEMORY_MB again');
    }
    current = plan;
    for (const g of gauges) g.set(plan, sample.oldLive);
  };
  if (budgetMb <= 0) {
    releaseYoungGeneration();
    log.info({ event: 'memory_budget', budgetMb: 0 }, 'memory budget off (LOOKOUT_MEMORY_MB=0): V8 sizes the heap');
    return { budgetMb, plan: () => null, register: (r) => void gaugesOn(r, 0).set(null, 0), stop: () => {} };
  }
  apply(spaces());
  log.info({ event: 'memory_budget', budgetMb, flags: applied, userOldGeneration: user.oldGeneration, userYoungGeneration: user.youngGeneration }, 'memory budget applied');
  // After a full collection the old generation's size is the live set (a scavenge leaves it as it
  // was); the sample before it (the last one, at a scavenge) shows the old generation at its fullest.
  const observer = new PerformanceObserver((list) => {
    const now = spaces();
    if (list.getEntries().some((e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR)) {
      if (last && last.oldUsed > 0) fragmentation = last.oldCommitted / last.oldUsed;
      live = now.oldUsed;
    }
    apply(now);
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    budgetMb,
    plan: () => current,
    register(registry) {
      const g = gaugesOn(registry, budgetMb);
      gauges.push(g);
      g.set(current, liveShown);
    },
    stop: () => observer.disconnect(),
  };
}

function gaugesOn(registry: Registry, budgetMb: number) {
  const budget = new Gauge({ name: 'lookout_memory_budget_bytes', help: 'LOOKOUT_MEMORY_MB: the memory (RSS) this node keeps its heap within; 0: off, V8 sizes the heap.', registers: [registry] });
  const growing = new Gauge({ name: 'lookout_heap_growing_percent', help: 'How far (%) the old generation may grow past the last full collection\'s live set before the next one (V8 --heap-growing-percent, set by the node from LOOKOUT_MEMORY_MB; 0: V8\'s own).', registers: [registry] });
  const liveG = new Gauge({ name: 'lookout_heap_live_bytes', help: 'Old generation size after the last full collection: the live heap the budget must hold.', registers: [registry] });
  const young = new Gauge({ name: 'lookout_young_generation_target_bytes', help: 'The semi-space size the young generation stops growing at (from LOOKOUT_MEMORY_MB; 0: V8\'s own).', registers: [registry] });
  const limit = new Gauge({ name: 'lookout_heap_size_limit_bytes', help: 'V8\'s hard heap limit (v8.getHeapStatistics().heap_size_limit): set only by node flags (--max-old-space-size); the budget works below it.', registers: [registry] });
  const over = new Gauge({ name: 'lookout_memory_over_budget', help: '1 while the live heap leaves no room within LOOKOUT_MEMORY_MB (the node collects as often as allowed).', registers: [registry] });
  budget.set(budgetMb * 2 ** 20);
  limit.set(v8.getHeapStatistics().heap_size_limit);
  return {
    registry,
    set(p: HeapPlan | null, liveBytes: number) {
      growing.set(p?.growingPercent ?? 0);
      young.set(p?.semiSpaceTarget ?? 0);
      over.set(p?.overBudget ? 1 : 0);
      liveG.set(liveBytes);
    },
  };
}
