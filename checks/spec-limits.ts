// The numbers of CheckSpec v1: documented defaults of optional fields and the limits validation
// enforces. checks/spec-schema.ts builds the schema from them (minimum, maximum, maxLength,
// maxItems, maxProperties, default), and the validator reads them back from the schema; the
// jsonEquals bounds, which JSON Schema cannot state for an arbitrary value, are read from here.
import type { HttpMethod, StatusMatcher } from './spec-schema';

/** Named, documented defaults for optional spec fields (normalizeSpec fills them). */
export const SPEC_DEFAULTS = {
  intervalMs: 5_000, // Varnish default interval
  timeoutMs: 2_000, // Varnish default timeout
  replicas: 1,
  method: 'GET' as HttpMethod,
  expectStatus: ['2xx'] as StatusMatcher[],
  maxRedirects: 0,
  maxBodyBytes: 64 * 1024,
  tlsVerify: true,
  window: 8, // Varnish defaults: window 8, threshold 3, initial threshold - 1
  threshold: 3,
  rise: 2, // HAProxy defaults: rise 2, fall 3
  fall: 3,
  // Flap damping (protocol/flapping.ts), when a spec sets `flap` without thresholds: flapping starts
  // at a weighted state change of 30% of the last 21 results and ends at 20% (the gap is the
  // hysteresis; Nagios ships 20/30 as its host thresholds' example).
  flapLow: 20,
  flapHigh: 30,
} as const;

/** Limits enforced by validation. */
export const SPEC_LIMITS = {
  /** Every kind's probe interval (and the state-dependent intervals); a push check's intervalMs is its job's period: pushPeriodMs. */
  intervalMs: { min: 1_000, max: 3_600_000 },
  /**
   * kind push: intervalMs is the job's expected period, not a probe interval, so it may be as long
   * as a monthly cron job's (31 days) with room for a late month: 35 days. push.graceMs has the
   * same bound. How often the deadline is looked at is push.checkEveryMs (at most intervalMs.max),
   * so no slot, seq gap or handover due time ever spans more than an hour.
   */
  pushPeriodMs: { min: 1_000, max: 35 * 86_400_000 },
  timeoutMs: { min: 1 },
  replicas: { min: 1, max: 5 },
  window: { min: 1, max: 64 },
  rise: { min: 1, max: 64 },
  fall: { min: 1, max: 64 },
  maxRedirects: { max: 10 },
  /** tls.minDaysLeft: a day to ten years. */
  minDaysLeft: { min: 1, max: 3650 },
  /** tls.degradedDaysLeft: the same range; more than minDaysLeft when both are set. */
  degradedDaysLeft: { min: 1, max: 3650 },
  /** degradedAfterMs: at least 1 ms; less than timeoutMs and any maxLatencyMs (checked against them). */
  degradedAfterMs: { min: 1 },
  /** flap.low / flap.high: percent state change (protocol/flapping.ts), low < high. */
  flapPercent: { min: 0, max: 100 },
  /** tls.ca: PEM text of at most this many certificates (each is parsed at put, and a TLS context is built from them). */
  tlsCa: { maxLength: 16 * 1024, maxCertificates: 4 },
  // Every byte kept is decoded, searched and maybe JSON-parsed on the event loop: at 16 MiB one
  // JSON check stalled every other check for 0.2-1.1 s per probe; at 1 MiB a typical body costs
  // ~5 ms (BENCHMARKS.md §6). 1 MiB still holds any health document and most /metrics pages.
  maxBodyBytes: { max: 1024 * 1024 },
  /** Label names: SPEC_PATTERNS.labelName. */
  labels: { max: 32, valueMaxLength: 256 },
  headers: { max: 64, valueMaxLength: 8192 },
  // Every list and map a spec can hold is capped: each entry is work on every probe.
  expectStatus: { max: 32 },
  bodyMaxLength: 64 * 1024,
  regexMaxLength: 1024,
  stringMaxLength: 4096,
  jsonAssertions: { max: 16 },
  /** `http.expectHeaders`: assertions, and the longest header name one may name. */
  headerAssertions: { max: 16, nameMaxLength: 256 },
  /** A json assertion's `equals`: containers nested at most `maxDepth` deep, each with at most `maxMembers`. */
  jsonEquals: { maxDepth: 32, maxMembers: 256 },
} as const;
