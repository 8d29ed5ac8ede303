// The `push` section of CheckSpec v1 as data (read by checks/spec-schema.ts, which owns the rest of
// the spec): a push check (a dead-man's switch) probes nothing; the monitored job reports in on
// `<prefix>.push.<id>` or through a node's HTTP push endpoint, and the check fails when no report
// arrived within intervalMs + graceMs (checks/push-deadline.ts). Property order is the validator's
// rule order (checks/validate-push.ts); the descriptions are the README's reference.
import { Type } from '@sinclair/typebox';
import { SPEC_LIMITS } from './spec-limits';

/** Bounds of the push section and of the reports a job sends. */
export const PUSH_LIMITS = {
  /** graceMs: none at all up to the longest period a push check may have (SPEC_LIMITS.pushPeriodMs, 35 days). */
  graceMs: { min: 0, max: SPEC_LIMITS.pushPeriodMs.max },
  /**
   * checkEveryMs: how often the owner looks at the deadline (a slot: one evaluation, one result).
   * At least the shortest probe interval, at most the longest (an hour: slots, seq gaps and handover
   * due times are built for that), and at most the check's own intervalMs (validate-push.ts).
   */
  checkEveryMs: { min: SPEC_LIMITS.intervalMs.min, max: SPEC_LIMITS.intervalMs.max },
  /**
   * The default checkEveryMs is min(intervalMs, this): a missed deadline or a fail report is
   * published at most a minute late (healthchecks.io's own sweep runs about as often), and one
   * result a minute per push check keeps a large fleet's result volume modest (10 000 push checks:
   * 167 results/s). A shorter period is looked at once per period, as before.
   */
  defaultCheckEveryMs: 60_000,
  /** A token long enough not to be guessed, short enough for a URL query. */
  token: { minLength: 16, maxLength: 128 },
  /** Characters of a report's message kept (the rest cut; control characters become spaces). */
  messageMaxLength: 200,
} as const;

/** Token characters: URL-safe without escaping (RFC 3986 unreserved). */
export const PUSH_TOKEN_PATTERN = '^[A-Za-z0-9._~-]+$';

export const PushOptionsSchema = Type.Object(
  {
    graceMs: Type.Optional(
      Type.Integer({
        minimum: PUSH_LIMITS.graceMs.min,
        maximum: PUSH_LIMITS.graceMs.max,
        description:
          'How late a report may be: the check fails when no report arrived within intervalMs + graceMs, and a run begun with a start signal fails when it has not reported ok within graceMs. At most 35 days. Default: intervalMs.',
      }),
    ),
    checkEveryMs: Type.Optional(
      Type.Integer({
        minimum: PUSH_LIMITS.checkEveryMs.min,
        maximum: PUSH_LIMITS.checkEveryMs.max,
        description:
          'How often the owner evaluates the deadline and publishes a result: a missed deadline or a fail report is published within checkEveryMs. At most intervalMs and an hour. Default: min(intervalMs, 60000).',
      }),
    ),
    token: Type.Optional(
      Type.String({
        minLength: PUSH_LIMITS.token.minLength,
        maxLength: PUSH_LIMITS.token.maxLength,
        pattern: PUSH_TOKEN_PATTERN,
        description:
          'A shared secret every report must carry (JSON "token" on NATS; ?token= or the X-Lookout-Push-Token header over HTTP), compared in constant time; reports without it are ignored and counted. Never shown in results or logs. Default: none (anyone who may publish on the subject or reach the endpoint can report).',
      }),
    ),
  },
  { additionalProperties: false, description: 'Options of a push check (kind "push" only). A push check has no target, timeoutMs or preset, runs on one node (replicas 1) and is never confirmed from elsewhere.' },
);
