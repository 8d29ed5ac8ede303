// A shifted wall clock for one spawned process: libfaketime preloaded into node itself (what
// `faketime -f <offset>` does, without its wrapper process, which would take the signals a test or
// the chaos harness sends — SIGTERM, SIGKILL, SIGSTOP — instead of the node). Only the wall clock
// (Date.now) moves; the monotonic clock stays true (FAKETIME_DONT_FAKE_MONOTONIC), as with a
// skewed NTP clock. Used by test/helpers/processes.ts and testkit/chaos/node.ts.

import { existsSync } from 'node:fs';

/** libfaketime, multi-threaded flavour (node runs threads), from Debian's faketime package (.ci/run installs it). */
export const LIBFAKETIME = process.env.LIBFAKETIME ?? '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';

/** The environment that runs a process with its wall clock shifted by `offset` (libfaketime syntax: '-30s', '+2m'). */
export function fakeTimeEnv(offset: string): Record<string, string> {
  if (!existsSync(LIBFAKETIME)) throw new Error(`${LIBFAKETIME} is missing: install Debian's faketime (.ci/run does), or set LIBFAKETIME`);
  return { LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_NO_CACHE: '1' };
}
