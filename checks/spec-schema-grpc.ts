// The `grpc` section of CheckSpec v1 as data (read by checks/spec-schema.ts, which owns the rest of
// the spec): the service whose health the probe asks for (grpc.health.v1.Health/Check), TLS, and
// the latency bound. Like the rest of the schema, property order is the validator's rule order
// (checks/validate-grpc.ts) and the descriptions are the README's reference.
import { Type, type TSchema } from '@sinclair/typebox';

/** Bounds of the grpc section and of what the probe accepts from a target. */
export const GRPC_LIMITS = {
  /** A service name: fully-qualified proto names are far shorter. */
  serviceMaxLength: 256,
  /** The largest message the probe's channel accepts (a HealthCheckResponse is 2 bytes). */
  maxResponseBytes: 4096,
} as const;

/**
 * A service name as the health service knows it: a fully-qualified proto service name
 * ("grpc.health.v1.Health", "pkg.v2.Orders") or any name of letters, digits and `_ . - /`.
 */
export const GRPC_SERVICE_PATTERN = '^[A-Za-z0-9_./-]+$';

/** The grpc section's schema; `tls` is the TLS schema the http and tcp sections share. */
export function grpcOptionsSchema<T extends TSchema>(tls: T) {
  return Type.Object(
    {
      service: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: GRPC_LIMITS.serviceMaxLength,
          pattern: GRPC_SERVICE_PATTERN,
          description:
            'The service whose health is asked for (HealthCheckRequest.service), e.g. "pkg.v1.Orders"; letters, digits and _ . - /. Default: the server as a whole (the empty name).',
        }),
      ),
      tls: Type.Optional(tls),
      maxLatencyMs: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Fail a probe slower than this many milliseconds; must be less than timeoutMs.' })),
    },
    { additionalProperties: false, description: 'Options of a grpc check (kind "grpc" only). Without tls the call is plaintext HTTP/2 (h2c).' },
  );
}
