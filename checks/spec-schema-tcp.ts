// The `tcp` section of CheckSpec v1 as data (read by checks/spec-schema.ts, which owns the rest of
// the spec and hands in the leaves it shares with http: tls, maxLatencyMs, maxBodyBytes). A tcp
// check connects, then either writes `send` and waits for `expect`, or runs a `dialog`: an ordered
// list of steps, each exactly one of `send`, `expect`, `expectRegex` and `starttls`
// (checks/tcp-dialog.ts); a dialog's send may fill in the groups of an expectRegex before it. Like
// the rest of the schema, property order is the validator's rule order (checks/validate-tcp.ts)
// and the descriptions are the README's reference.
import { Type, type TSchema } from '@sinclair/typebox';
import { SPEC_LIMITS } from './spec-limits';

/** Bounds of the tcp section's dialog: every step is work (a write, a search, a handshake) on every probe. */
export const TCP_LIMITS = {
  /** Steps in a dialog (an SMTP STARTTLS check needs 5). */
  dialogSteps: { max: 16 },
  /** One step's `send` or `expect`: 16 steps stay within 64 KiB, as the single `send` does. */
  stepMaxLength: 4096,
} as const;

export const DialogStepSchema = Type.Object(
  {
    send: Type.Optional(
      Type.String({
        maxLength: TCP_LIMITS.stepMaxLength,
        description:
          'Bytes (UTF-8) to write; write CR LF as "\\r\\n" in JSON. ${1} … ${9} (${0}: the whole match) and ${name} are the groups of the latest expectRegex step before it (a group that did not take part: empty); $$ is a literal $. At most 4096 characters after the groups are filled in (too_large otherwise, nothing sent).',
      }),
    ),
    expect: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: TCP_LIMITS.stepMaxLength,
        description:
          'A substring (not a regex) the peer must send next: read until it arrives, the peer closes (reason body), maxBodyBytes of the whole dialog are read (too_large) or the deadline.',
      }),
    ),
    expectRegex: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: SPEC_LIMITS.regexMaxLength,
        description:
          'An RE2 regex the peer must send next, matched line by line (multi-line: ^ and $ at line ends) on what came since the last expect, in the body worker: read until it matches, as for expect. Its groups serve the sends after it.',
      }),
    ),
    starttls: Type.Optional(
      Type.Literal(true, {
        description: 'Upgrade the connection to TLS here with the tls options (verify, servername, minDaysLeft); the rest of the dialog runs over TLS. At most one per dialog.',
      }),
    ),
  },
  { additionalProperties: false, description: 'One step of a tcp dialog: exactly one of send, expect, expectRegex and starttls.' },
);

/**
 * The tcp section over the leaves it shares with http (built in checks/spec-schema.ts): the tls
 * options, the latency bound and the body cap, and the lengths of the single send and expect.
 */
export function tcpOptionsSchema<T extends TSchema, L extends TSchema, B extends TSchema>(tls: T, maxLatencyMs: L, maxBodyBytes: B, sendMaxLength: number, expectMaxLength: number) {
  return Type.Object(
    {
      tls: Type.Optional(tls),
      send: Type.Optional(Type.String({ maxLength: sendMaxLength, description: 'Bytes (UTF-8) written after connect (the same as a dialog [send, expect]).' })),
      expect: Type.Optional(Type.String({ minLength: 1, maxLength: expectMaxLength, description: 'A substring the peer must send back before the deadline.' })),
      dialog: Type.Optional(
        Type.Array(DialogStepSchema, {
          minItems: 1,
          maxItems: TCP_LIMITS.dialogSteps.max,
          description:
            'Steps run in order after connect, in place of send and expect. With a starttls step the connection starts plain and tls configures the upgrade.',
        }),
      ),
      maxLatencyMs: Type.Optional(maxLatencyMs),
      maxBodyBytes: Type.Optional(maxBodyBytes),
    },
    { additionalProperties: false, description: 'Options of a tcp check (kind "tcp" only).' },
  );
}
