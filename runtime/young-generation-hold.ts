// Imported first by bin/lookout.ts, before any other module: the young generation stops growing
// (--semi-space-growth-factor=1) until the node's memory governor (runtime/memory-governor.ts) has
// read LOOKOUT_MEMORY_MB and decides how far it may grow. Loading the node's modules alone grows it
// from 1 to 16 MiB of semi-space (32 MiB resident) with V8's default, and V8 does not shrink it again
// while the node allocates; every other command releases the hold (releaseYoungGeneration).
// Node flags of the user that size the young generation are left alone.
import v8 from 'node:v8';
import { userHeapFlags } from './memory-budget';

const held = !userHeapFlags(process.execArgv, process.env.NODE_OPTIONS).youngGeneration;
if (held) v8.setFlagsFromString('--semi-space-growth-factor=1');

/** V8's own growth of the young generation again (a command that is not a node). */
export function releaseYoungGeneration(): void {
  if (held) v8.setFlagsFromString('--semi-space-growth-factor=2');
}
