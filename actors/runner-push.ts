// A check runner's side of push checks (checks/push-deadline.ts): the runner that schedules a push
// check owns its deadline in the node's push registry (runtime/push-registry.ts), so the registry
// holds exactly the push checks this node runs. Owned from the moment the table takes the check
// (fresh, from the stream, or from a release whose carry it continues) until the release carries
// it away, the check is removed, or the runner stops. The runner's generation is the owner: a
// releasing runner never drops what a newer runner of the same check on this node owns.

import { CheckKind, type NormalizedSpec } from '../checks/spec';
import { agedCarry, type PushCarry } from '../checks/push-deadline';
import type { ReleasedCheck } from '../protocol/records';
import type { RunnerContext } from './runner-ports';

/** The table took `spec` (set, loaded, continued): keep its deadline if it is a push check, else drop any. */
export function pushOwn(ctx: RunnerContext, spec: NormalizedSpec, carry?: PushCarry): void {
  const { push } = ctx.ports;
  if (!push) return;
  if (spec.kind === CheckKind.push) push.own(spec, ctx.gen, carry);
  else push.disown(spec.id, ctx.gen);
}

/** `id` left the runner. */
export function pushDisown(ctx: RunnerContext, id: string): void {
  ctx.ports.push?.disown(id, ctx.gen);
}

/** The runner stops or has released: every check it had leaves the registry (if it still owns it). */
export function pushDisownAll(ctx: RunnerContext): void {
  if (!ctx.ports.push) return;
  for (const id of ctx.table.ids()) ctx.ports.push.disown(id, ctx.gen);
}

/** Each released push check with its deadline's ages, measured now (the release goes out next). */
export function withPushCarry(ctx: RunnerContext, checks: ReleasedCheck[]): ReleasedCheck[] {
  const { push } = ctx.ports;
  if (!push) return checks;
  return checks.map((c) => {
    const carry = push.carry(c.id);
    return carry ? { ...c, push: carry } : c;
  });
}

/** A kept release answered `elapsed` ms after it was made: its push ages grow by that. */
export function agedPush(c: ReleasedCheck, elapsed: number): ReleasedCheck {
  return c.push ? { ...c, push: agedCarry(c.push, elapsed) } : c;
}
