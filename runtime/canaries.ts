// Canaries (LOOKOUT_CANARIES): targets the operator knows should be reachable from every node,
// probed by every node at a fixed interval with its normal probe function (its address policy
// applies). A failing canary is confirmed by another node like a check (protocol/confirm.ts), and
// what it shows feeds self-quarantine (protocol/quarantine.ts). Each canary becomes a spec with
// the id `~canary.<n>` — never a check id (those have no `~`), so a confirmation request for it
// cannot be mistaken for a check's.

import { normalizeSpec, type NormalizedSpec } from '../checks/spec';
import { validateSpec } from '../checks/validate';

/** The most canaries a node takes (each costs one probe per interval). */
export const MAX_CANARIES = 16;
/** A canary's timeout: half its interval, at most this. */
export const CANARY_TIMEOUT_MAX_MS = 5_000;

const CANARY_ID = /^~canary\.\d+$/;

export function canaryId(n: number): string {
  return `~canary.${n}`;
}

export function isCanaryId(id: string): boolean {
  return CANARY_ID.test(id);
}

/** The spec a canary is probed with, or null when it is not an http(s) URL or host:port. */
function canarySpec(target: string, n: number, intervalMs: number): NormalizedSpec | null {
  const kind = /^https?:\/\//i.test(target) ? 'http' : 'tcp';
  const timeoutMs = Math.max(1, Math.min(CANARY_TIMEOUT_MAX_MS, Math.floor(intervalMs / 2)));
  // Validated as an ordinary check (so a canary obeys every rule a spec does), then renamed.
  const checked = validateSpec({ kind, target, intervalMs: Math.max(1000, intervalMs), timeoutMs }, `canary-${n}`);
  if (!checked.ok) return null;
  return { ...normalizeSpec(`canary-${n}`, checked.spec), id: canaryId(n), intervalMs, confirm: true };
}

export function isCanary(target: string): boolean {
  return canarySpec(target, 0, 10_000) !== null;
}

/** The canaries' specs, in the order given. */
export function canarySpecs(targets: readonly string[], intervalMs: number): NormalizedSpec[] {
  return targets.map((t, n) => canarySpec(t, n, intervalMs)).filter((s): s is NormalizedSpec => s !== null);
}
