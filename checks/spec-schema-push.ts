// The `push` section of CheckSpec v1 as data (read by checks/spec-schema.ts, which owns the rest of
// the spec): a push check (a dead-man's switch) probes nothing; the monitored job reports in on
// `<prefix>.push.<id>` or through a node's HTTP push endpoint, and the check fails when no report
// arrived within intervalMs + graceMs (checks/push-deadline.ts). Property order is the validator's
// rule order (checks/validate-push.ts); the descriptions are the README's reference.
import { Type } from '@sinclair/typebox';

/** Bounds of the push section and of the reports a job sends. */
export const PUSH_LIMITS = {
  /** graceMs: none at all up to an hour (the longest intervalMs). */
  graceMs: { min: 0, max: 3_600_000 },
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
          'How late a report may be: the check fails when no report arrived within intervalMs + graceMs, and a run begun with a start signal fails when it has not reported ok within graceMs. Default: intervalMs.',
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
