// The leader's assigner under a simulated clock with an in-memory map key, as its unit tests run
// it (assigner.test.ts, assigner-churn.test.ts): `start` builds it with the log lines and the
// announcements recorded, `run` steps the clock in small increments and lets promises settle.
import pino from 'pino';
import { createActor } from 'xstate';
import { assignerMachine, type AssignedMember } from '../../actors/assigner';
import type { ChurnConfig } from '../../protocol/churn';
import type { ReliefConfig } from '../../protocol/overload-relief';
import { ManualClock } from '../../runtime/clock';
import type { FakeMapKey } from './fake-kv';

/** Churn settings of the unit tests: damped at the 3rd return in 10 s, held 2 s, at most 8 s. */
export const TEST_CHURN: ChurnConfig = { windowMs: 10_000, threshold: 3, holdMs: 2_000, maxHoldMs: 8_000 };

export async function run(clock: ManualClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

export interface StartOptions {
  term?: number;
  live?: string[];
  members?: AssignedMember[];
  leaseValidUntil?: number;
  churn?: ChurnConfig;
  /** Overload relief (absent: nobody is relieved). */
  overloadRelief?: ReliefConfig;
  quarantineMaxFraction?: number;
}

export function start(store: FakeMapKey, opts: StartOptions = {}) {
  const clock = new ManualClock();
  const announced: Record<string, unknown>[] = [];
  const lines: any[] = [];
  const actor = createActor(assignerMachine, {
    clock,
    input: {
      term: opts.term ?? 7,
      node: 'a',
      store,
      shardCount: 16,
      vantagePoints: 1,
      quietMs: 300,
      maxDelayMs: 1000,
      clock,
      log: pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l)) }),
      live: opts.live ?? ['a', 'b', 'c'],
      members: opts.members,
      churn: opts.churn ?? TEST_CHURN,
      ...(opts.overloadRelief ? { overloadRelief: opts.overloadRelief } : {}),
      ...(opts.quarantineMaxFraction ? { quarantineMaxFraction: opts.quarantineMaxFraction } : {}),
      leaseValidUntil: opts.leaseValidUntil ?? Infinity,
      announce: (e) => announced.push(e),
    },
  });
  actor.start();
  const events = (event: string) => lines.filter((l) => l.event === event);
  return { clock, actor, announced, lines, events };
}
