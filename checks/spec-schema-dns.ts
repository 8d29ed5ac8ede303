// The `dns` section of CheckSpec v1 as data (read by checks/spec-schema.ts, which owns the rest
// of the spec): the record types a query may ask for, the response codes a spec may expect, and
// the bounds on every value a spec can hand the DNS probe (checks/dns-probe.ts). Like the rest of
// the schema, property order is the validator's rule order (checks/validate-dns.ts) and the
// descriptions are the README's reference.
import { Type } from '@sinclair/typebox';

/** The record types a dns check may query: a closed list. */
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV'] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

/** The response codes a dns check may expect: a closed list. */
export const DNS_RCODES = ['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED'] as const;
export type DnsRcode = (typeof DNS_RCODES)[number];

/** Defaults of the dns section (normalizeSpec fills them). */
export const DNS_DEFAULTS = {
  type: 'A' as DnsRecordType,
  expectRcode: 'NOERROR' as DnsRcode,
  /** minAnswers: 1 when the expected rcode is NOERROR (an empty answer is a failure), else 0. */
  minAnswersNoError: 1,
  port: 53,
} as const;

/** Bounds of the dns section. */
export const DNS_LIMITS = {
  /** Expected values per list: each is compared with every answer on every probe. */
  values: { max: 16 },
  /** One expected value: a TXT record's text (several 255-byte strings) fits. */
  valueMaxLength: 1024,
  minAnswers: { max: 64 },
  /** A query name: 253 characters of text is 255 bytes on the wire (RFC 1035 §3.1). */
  nameMaxLength: 253,
  /** A server: "[IPv6]:port" or a host name and port. */
  serverMaxLength: 260,
} as const;

/** A DNS name (labels of letters, digits, _ and -, at most 63 each), optional trailing dot. */
export const DNS_NAME_PATTERN = '^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\\.?$';

const valueList = (description: string) =>
  Type.Optional(
    Type.Array(Type.String({ minLength: 1, maxLength: DNS_LIMITS.valueMaxLength }), {
      minItems: 1,
      maxItems: DNS_LIMITS.values.max,
      description,
    }),
  );

/** The dns section's schema; `serverPattern` is the host:port syntax of spec-schema.ts (SPEC_PATTERNS.tcpTarget). */
export function dnsOptionsSchema(serverPattern: string) {
  return Type.Object(
    {
      type: Type.Optional(
        Type.Union(
          DNS_RECORD_TYPES.map((t) => Type.Literal(t)),
          { description: 'The record type to query.', default: DNS_DEFAULTS.type },
        ),
      ),
      server: Type.Optional(
        Type.String({
          minLength: 1,
          maxLength: DNS_LIMITS.serverMaxLength,
          pattern: serverPattern,
          description:
            "The DNS server to ask, host:port or [IPv6]:port (UDP, TCP when the answer is truncated); decided by the node's address policy like any target. Default: the node's system resolver.",
        }),
      ),
      expectRcode: Type.Optional(
        Type.Union(
          DNS_RCODES.map((r) => Type.Literal(r)),
          { description: 'The response code that passes.', default: DNS_DEFAULTS.expectRcode },
        ),
      ),
      answersContain: valueList(
        'Values the answers of the queried type must include (A/AAAA: addresses; CNAME/NS: names; MX: "preference name"; SRV: "priority weight port target"; TXT: the text).',
      ),
      answersEqual: valueList('The exact set of values the answers of the queried type must have (order and repeats ignored); not with answersContain.'),
      minAnswers: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: DNS_LIMITS.minAnswers.max,
          description: 'The fewest answers of the queried type that pass. Default: 1 when expectRcode is NOERROR, else 0.',
        }),
      ),
      maxLatencyMs: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'Fail a probe slower than this many milliseconds; must be less than timeoutMs.' })),
    },
    { additionalProperties: false, description: 'Options of a dns check (kind "dns" only).' },
  );
}
