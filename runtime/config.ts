// Configuration: every setting has a name, an environment variable, a command-line flag, a
// default and a line of documentation. Flags win over the environment, the environment over the
// default. A value that does not parse is a ConfigError naming the setting, what was expected and
// what was given; the process exits with code 2 and starts nothing.

import { hostname } from 'node:os';
import { parseCidrList } from '../checks/address-policy';
import { ResultDetail } from '../checks/result-detail';
import { SPEC_PATTERNS } from '../checks/spec-schema';
import { CLOCK_SKEW_WARN_MS } from '../protocol/clock-offset';
import { ErrorCode, LookoutError } from '../protocol/errors';
import { readArgv } from './argv';
import { DEFAULT_MEMORY_MB, MIN_MEMORY_MB } from './memory-budget';
import { isValidPrefix } from './subjects';
import { QUARANTINE_DEFAULTS } from '../protocol/quarantine';
import { QUARANTINE_MAX_FRACTION } from '../protocol/quarantine-bound';
import { isCanary, MAX_CANARIES } from './canaries';

export class ConfigError extends LookoutError {
  readonly code = ErrorCode.config_invalid;
}

type Parser<T> = (raw: string) => T;

export interface SettingDef<T> {
  env: string;
  flag: string;
  default: T | (() => T);
  parse: Parser<T>;
  doc: string;
}

const int =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer from ${min} to ${max}`);
    const n = Number(raw);
    if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`);
    return n;
  };

const memoryMb: Parser<number> = (raw) => {
  const n = int(0, 1_048_576)(raw);
  if (n !== 0 && n < MIN_MEMORY_MB) throw new Error(`expected 0 (off) or an integer from ${MIN_MEMORY_MB} to 1048576`);
  return n;
};

/** Comma-separated canaries: http(s) URLs, or host:port for a TCP connect. */
/** 0 (off), or an integer from `min` to `max`. */
const offOrAtLeast =
  (min: number, max: number): Parser<number> =>
  (raw) => {
    const n = int(0, max)(raw);
    if (n !== 0 && n < min) throw new Error(`expected 0 (off) or an integer from ${min} to ${max}`);
    return n;
  };

const canaryList: Parser<string[]> = (raw) => {
  const items = raw.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (items.length > MAX_CANARIES) throw new Error(`expected at most ${MAX_CANARIES} canaries`);
  for (const c of items) if (!isCanary(c)) throw new Error(`expected http(s) URLs or host:port, comma-separated (${JSON.stringify(c)} is neither)`);
  return items;
};

const optional: Parser<string | undefined> = (raw) => (raw === '' ? undefined : raw);

/** A spec label name (checks/spec-schema.ts), or '' for none. */
const labelNameOrNone: Parser<string> = (raw) => {
  if (raw !== '' && !new RegExp(SPEC_PATTERNS.labelName).test(raw)) throw new Error('expected a label name (1–64 of A–Z a–z 0–9 _ . -) or nothing (off)');
  return raw;
};

const oneOf =
  <T extends string>(...values: T[]): Parser<T> =>
  (raw) => {
    if (!values.includes(raw as T)) throw new Error(`expected one of ${values.join(', ')}`);
    return raw as T;
  };

const natsUrls: Parser<string> = (raw) => {
  const urls = raw.split(',').map((u) => u.trim());
  for (const u of urls) {
    const withScheme = /^[a-z]+:\/\//.test(u) ? u : `nats://${u}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw new Error('expected a NATS URL such as nats://127.0.0.1:4222 (comma-separated for several)');
    }
    if (!['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) || !url.hostname) {
      throw new Error('expected a NATS URL such as nats://127.0.0.1:4222 (comma-separated for several)');
    }
  }
  return urls.join(',');
};

const nodeId: Parser<string> = (raw) => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(raw)) throw new Error('expected 1-64 characters from A-Z a-z 0-9 _ -');
  return raw;
};

const prefix: Parser<string> = (raw) => {
  if (!isValidPrefix(raw)) throw new Error('expected dot-separated tokens of A-Z a-z 0-9 _ -');
  return raw;
};

/** Default node id: host name and pid, reduced to subject-token characters. */
export function defaultNodeId(): string {
  const host = hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 48) || 'node';
  return `${host}-${process.pid}`;
}

/** How to reach NATS: the node and the client commands (cli/) read these the same way. */
export const NATS_SETTINGS = {
  natsUrl: { env: 'NATS_URL', flag: 'nats-url', default: 'nats://127.0.0.1:4222', parse: natsUrls, doc: 'NATS server URL(s), comma-separated.' },
  natsCreds: { env: 'NATS_CREDS', flag: 'creds', default: undefined, parse: optional, doc: 'Path of a NATS .creds file (JWT + nkey seed).' },
  natsUser: { env: 'NATS_USER', flag: 'user', default: undefined, parse: optional, doc: 'NATS user name (with NATS_PASSWORD).' },
  natsPassword: { env: 'NATS_PASSWORD', flag: 'password', default: undefined, parse: optional, doc: 'NATS password.' },
  natsToken: { env: 'NATS_TOKEN', flag: 'token', default: undefined, parse: optional, doc: 'NATS authentication token.' },
  natsNkey: { env: 'NATS_NKEY', flag: 'nkey', default: undefined, parse: optional, doc: 'Path of an nkey seed file.' },
  natsCa: { env: 'NATS_CA', flag: 'tlsca', default: undefined, parse: optional, doc: 'CA certificate file to verify the NATS server.' },
  natsCert: { env: 'NATS_CERT', flag: 'tlscert', default: undefined, parse: optional, doc: 'Client certificate file for NATS TLS.' },
  natsKey: { env: 'NATS_KEY', flag: 'tlskey', default: undefined, parse: optional, doc: 'Client key file for NATS TLS.' },
} satisfies Record<string, SettingDef<unknown>>;

export const SETTINGS = {
  ...NATS_SETTINGS,
  nodeId: { env: 'LOOKOUT_NODE_ID', flag: 'node-id', default: defaultNodeId, parse: nodeId, doc: 'Name of this node; default <host>-<pid>.' },
  prefix: { env: 'LOOKOUT_PREFIX', flag: 'prefix', default: 'lookout', parse: prefix, doc: 'Subject prefix; buckets are named <prefix>_<purpose>.' },
  shards: { env: 'LOOKOUT_SHARDS', flag: 'shards', default: 256, parse: int(1, 4096), doc: 'Number of shards checks hash to. Fixed for the life of a cluster.' },
  kvReplicas: { env: 'LOOKOUT_KV_REPLICAS', flag: 'kv-replicas', default: 1, parse: int(1, 5), doc: 'Replicas of the KV buckets and result stream when Lookout creates them (3 on a NATS cluster).' },
  resultsMaxAgeMs: { env: 'LOOKOUT_RESULTS_MAX_AGE_MS', flag: 'results-max-age-ms', default: 3_600_000, parse: int(1_000, 365 * 86_400_000), doc: 'How long the result stream keeps results.' },
  resultsPerCheck: { env: 'LOOKOUT_RESULTS_PER_CHECK', flag: 'results-per-check', default: 10, parse: int(1, 10_000), doc: 'Results kept per check in the result stream (the newest is used for handover).' },
  specsMaxBytes: { env: 'LOOKOUT_SPECS_MAX_BYTES', flag: 'specs-max-bytes', default: 128 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size limit of the spec bucket (all revisions kept). When full, puts fail with storage_full and deletes still work; the lease and assignment buckets have limits of their own, so leadership survives.' },
  maxSpecs: { env: 'LOOKOUT_MAX_SPECS', flag: 'max-specs', default: 100_000, parse: int(1, 100_000_000), doc: 'Most checks the cluster stores; a put of a new id beyond it fails with code limit (updates and deletes still work). Judged on the cluster\'s spec count as the members\' heartbeats last said (it lags writes by a heartbeat and misses a dead node\'s shards until they are assigned again), so concurrent puts may overshoot.' },
  resultsMaxBytes: { env: 'LOOKOUT_RESULTS_MAX_BYTES', flag: 'results-max-bytes', default: 256 * 1024 * 1024, parse: int(1024 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the result stream; oldest results go first.' },
  resumeMaxBytes: { env: 'LOOKOUT_RESUME_MAX_BYTES', flag: 'resume-max-bytes', default: 64 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the resume stream (<prefix>_resume): the last state (seq, verdict) of each vantage of each check with replicas > 1, one small record each (about 200 bytes: 64 MiB holds ~300k). Beyond it the states of the vantages silent longest go first, and such a vantage restarts its seq when it runs again.' },
  transitionsMaxAgeMs: { env: 'LOOKOUT_TRANSITIONS_MAX_AGE_MS', flag: 'transitions-max-age-ms', default: 30 * 86_400_000, parse: int(60_000, 3650 * 86_400_000), doc: 'How long the transition stream (<prefix>_transitions, every verdict change published on <prefix>.status.>) keeps a change: the uptime and history the state API reports (lookout status, lookout history) reach back this far.' },
  transitionsPerCheck: { env: 'LOOKOUT_TRANSITIONS_PER_CHECK', flag: 'transitions-per-check', default: 500, parse: int(1, 100_000), doc: 'Verdict changes kept per check in the transition stream (a flapping check keeps its newest); a history request reads at most this many per check.' },
  transitionsMaxBytes: { env: 'LOOKOUT_TRANSITIONS_MAX_BYTES', flag: 'transitions-max-bytes', default: 64 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the transition stream: a change is ~250–400 bytes (64 MiB holds ~200k); beyond it the oldest changes of any check go first.' },
  rollupPeriodMs: { env: 'LOOKOUT_ROLLUP_PERIOD_MS', flag: 'rollup-period-ms', default: 3_600_000, parse: offOrAtLeast(1_000, 86_400_000), doc: '0: off (no rollups: lookout history has no probe counts or latency; saves ~90 bytes per check a node runs). Otherwise each node sums the probes of every check it runs over this period (count, failures, inconclusive, a latency histogram) and publishes one record per check at its end to <prefix>_rollups: the latency and probe counts lookout history reports. The current period is in them once it ends (and when a node stops: its partial period).' },
  rollupsMaxAgeMs: { env: 'LOOKOUT_ROLLUPS_MAX_AGE_MS', flag: 'rollups-max-age-ms', default: 31 * 86_400_000, parse: int(60_000, 3650 * 86_400_000), doc: 'How long the rollup stream keeps a record.' },
  rollupsPerCheck: { env: 'LOOKOUT_ROLLUPS_PER_CHECK', flag: 'rollups-per-check', default: 800, parse: int(1, 100_000), doc: 'Rollup records kept per check (one per period per node that probed it: 800 hold 31 days of hours plus the extra partial periods of checks that moved); a history request reads at most this many.' },
  rollupsMaxBytes: { env: 'LOOKOUT_ROLLUPS_MAX_BYTES', flag: 'rollups-max-bytes', default: 256 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the rollup stream: a record is ~300 bytes, so 256 MiB hold 30 days of hourly records for ~1,200 checks; beyond it the oldest records of any check go first (raise it, or accept shorter latency history, for larger fleets).' },
  rollupFinePeriodMs: { env: 'LOOKOUT_ROLLUP_FINE_PERIOD_MS', flag: 'rollup-fine-period-ms', default: 60_000, parse: offOrAtLeast(1_000, 3_600_000), doc: 'The fine grain of the rollups, beside LOOKOUT_ROLLUP_PERIOD_MS: each node also sums the probes of every check it runs more often than once a period over this shorter period (a check probed once a period or less often gets no fine records: each would hold one probe) and publishes one record per check at its end to <prefix>_rollups_fine, kept a shorter time (LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS): the minute-by-minute series of lookout history --grain fine. Costs ~150 bytes per check it counts (88 in typed arrays plus its map entry and the room the arrays keep to grow, measured at 100k checks; checks at this interval or longer cost nothing), one record per such check per period (at 100k checks at 10 s and a minute: ~1,700 records a second into JetStream). 0: off.' },
  rollupsFineMaxAgeMs: { env: 'LOOKOUT_ROLLUPS_FINE_MAX_AGE_MS', flag: 'rollups-fine-max-age-ms', default: 86_400_000, parse: int(60_000, 31 * 86_400_000), doc: 'How long the fine rollup stream (<prefix>_rollups_fine) keeps a record: how far back a fine series reaches.' },
  rollupsFinePerCheck: { env: 'LOOKOUT_ROLLUPS_FINE_PER_CHECK', flag: 'rollups-fine-per-check', default: 1600, parse: int(1, 100_000), doc: 'Fine rollup records kept per check (one per fine period per node that probed it: 1600 hold 24 hours of minutes plus the partial periods of checks that moved); a fine history request reads at most this many.' },
  rollupsFineMaxBytes: { env: 'LOOKOUT_ROLLUPS_FINE_MAX_BYTES', flag: 'rollups-fine-max-bytes', default: 256 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the fine rollup stream: a stored record is ~250–300 bytes, so 256 MiB hold 24 hours of minutes for ~700 checks (10k checks: ~1.7 hours; 100k: ~10 minutes); beyond it the oldest fine records of any check go first (the hourly ones are kept apart and are not touched).' },
  apiRate: { env: 'LOOKOUT_API_RATE', flag: 'api-rate', default: 1000, parse: int(1, 1_000_000), doc: 'Spec API work a node admits per second, in tokens: a request costs one token per started 4 KiB of payload. Beyond it a request gets `unavailable` with retryAfterMs at once, so a flood never delays probes or the lease.' },
  apiBurst: { env: 'LOOKOUT_API_BURST', flag: 'api-burst', default: 2000, parse: int(1, 1_000_000), doc: 'Spec API tokens a node admits at once after a quiet period (see LOOKOUT_API_RATE).' },
  apiMaxPending: { env: 'LOOKOUT_API_MAX_PENDING', flag: 'api-max-pending', default: 2000, parse: int(1, 1_000_000), doc: 'Admitted spec API requests waiting to be answered; beyond it requests are answered `unavailable` at once.' },
  maxSpecBytes: { env: 'LOOKOUT_MAX_SPEC_BYTES', flag: 'max-spec-bytes', default: 256 * 1024, parse: int(1024, 1024 * 1024), doc: 'Largest spec payload accepted (NATS max_payload is 1 MiB by default).' },
  jitterMs: { env: 'LOOKOUT_JITTER_MS', flag: 'jitter-ms', default: 100, parse: int(0, 10_000), doc: 'Upper bound of the random delay added to each probe start (never more than 1% of the interval).' },
  confirmPerSecond: { env: 'LOOKOUT_CONFIRM_PER_SECOND', flag: 'confirm-per-second', default: 100, parse: int(1, 1_000_000), doc: 'Confirm from elsewhere (spec `confirm`, on for replicas 1): at most this many confirmation requests per second from this node, and as many confirming probes for others (more: the failure counts unconfirmed, or the asker is told busy).' },
  pushMaxBytes: { env: 'LOOKOUT_PUSH_MAX_BYTES', flag: 'push-max-bytes', default: 4096, parse: int(64, 64 * 1024), doc: 'Push checks: the largest report accepted, on <prefix>.push.<id> and in the body of an HTTP push; larger ones are refused before they are decoded (counted: lookout_push_reports_total{outcome="too_large"}; HTTP 413).' },
  pushPerSecond: { env: 'LOOKOUT_PUSH_PER_SECOND', flag: 'push-per-second', default: 5, parse: int(1, 10_000), doc: 'Push checks: reports one check may make a second, on average, at its owner (a burst of twice as many is let through); more are dropped unread and counted (outcome "rate_limited"), so a flood on one id costs a bounded amount of work. Also the HTTP endpoint\'s rate per check id on each node.' },
  panicPercent: { env: 'LOOKOUT_PANIC_PERCENT', flag: 'panic-percent', default: 50, parse: int(0, 100), doc: 'Panic guard (protocol/panic.ts): when at least this percent of all checks (and at least LOOKOUT_PANIC_MIN_DOWNS) went down within LOOKOUT_PANIC_WINDOW_MS, no node announces a new down for LOOKOUT_PANIC_HOLD_MS (the failures are published with held "panic"). 0: off.' },
  panicMinDowns: { env: 'LOOKOUT_PANIC_MIN_DOWNS', flag: 'panic-min-downs', default: 10, parse: int(1, 1_000_000_000), doc: 'Panic guard: never fewer downs than this within the window, whatever the percent (a small fleet\'s few downs are no panic).' },
  panicWindowMs: { env: 'LOOKOUT_PANIC_WINDOW_MS', flag: 'panic-window-ms', default: 60_000, parse: int(1000, 3_600_000), doc: 'Panic guard: the window the downs are counted in; also how long after a panic is released no new one starts (the held downs arrive then).' },
  panicGroupLabel: { env: 'LOOKOUT_PANIC_GROUP_LABEL', flag: 'panic-group-label', default: '', parse: labelNameOrNone, doc: 'Panic guard per group (protocol/panic-groups.ts): checks with the same value of this spec label are also watched as a group, with the same percent, minimum, window and hold as the whole fleet — a group whose checks go down together panics on its own and holds its downs. Empty: the fleet only.' },
  panicHoldMs: { env: 'LOOKOUT_PANIC_HOLD_MS', flag: 'panic-hold-ms', default: 120_000, parse: int(1000, 3_600_000), doc: 'Panic guard: how long new downs are held once a panic starts (the bound on how late a real mass outage is announced).' },
  quarantinePercent: { env: 'LOOKOUT_QUARANTINE_PERCENT', flag: 'quarantine-percent', default: QUARANTINE_DEFAULTS.rate * 100, parse: int(0, 100), doc: 'Self-quarantine (protocol/quarantine.ts): a node whose observations over the last LOOKOUT_QUARANTINE_WINDOW disagree with other nodes at least this percent of the time (failures another node saw healthy, against failures it saw too and probes that passed) quarantines itself: it announces no verdict change, says quarantined in its heartbeat, and the leader moves its shards away. 0: off.' },
  quarantineWindow: { env: 'LOOKOUT_QUARANTINE_WINDOW', flag: 'quarantine-window', default: QUARANTINE_DEFAULTS.window, parse: int(1, 100_000), doc: 'Self-quarantine: how many recent observations (probe passes, confirmed failures, canary probes) the disagreement rate is taken over. Counted in observations, not time.' },
  quarantineMinDisagreements: { env: 'LOOKOUT_QUARANTINE_MIN_DISAGREEMENTS', flag: 'quarantine-min-disagreements', default: QUARANTINE_DEFAULTS.minDisagreements, parse: int(1, 100_000), doc: 'Self-quarantine: never with fewer disagreements than this in the window, whatever the rate.' },
  quarantineMinSubjects: { env: 'LOOKOUT_QUARANTINE_MIN_SUBJECTS', flag: 'quarantine-min-subjects', default: QUARANTINE_DEFAULTS.minSubjects, parse: int(1, 100_000), doc: 'Self-quarantine: the disagreements must name at least this many distinct checks or canaries (one target unreachable from this node alone is not its network).' },
  quarantineHoldMs: { env: 'LOOKOUT_QUARANTINE_HOLD_MS', flag: 'quarantine-hold-ms', default: QUARANTINE_DEFAULTS.holdMs, parse: int(0, 86_400_000), doc: 'Self-quarantine: a quarantined node rejoins once it has seen no disagreement this long and at least LOOKOUT_QUARANTINE_MIN_HEALTHY passing probes (canaries, and the checks that disagreed last, probed again every LOOKOUT_CANARY_INTERVAL_MS) since the last one.' },
  quarantineMinHealthy: { env: 'LOOKOUT_QUARANTINE_MIN_HEALTHY', flag: 'quarantine-min-healthy', default: QUARANTINE_DEFAULTS.minHealthy, parse: int(0, 100_000), doc: 'Self-quarantine: passing probes needed since the last disagreement before a quarantined node rejoins (with nothing left to probe, the hold alone).' },
  quarantineMaxPercent: { env: 'LOOKOUT_QUARANTINE_MAX_PERCENT', flag: 'quarantine-max-percent', default: QUARANTINE_MAX_FRACTION * 100, parse: int(0, 100), doc: 'Self-quarantine (protocol/quarantine-bound.ts): the leader holds at most this percent of the live members out of the map for quarantine, and never a majority (at most (members - 1) / 2): when more disagree, the targets are failing, not the nodes. The rest keep their shards (`quarantine refused`). 0: nobody is held out.' },
  canaries: { env: 'LOOKOUT_CANARIES', flag: 'canaries', default: [] as string[], parse: canaryList, doc: 'Canary targets every node probes every LOOKOUT_CANARY_INTERVAL_MS (comma-separated http(s) URLs or host:port for TCP; the address policy applies): a failing canary is confirmed by another node, and what it shows counts towards self-quarantine. Default none.' },
  canaryIntervalMs: { env: 'LOOKOUT_CANARY_INTERVAL_MS', flag: 'canary-interval-ms', default: 10_000, parse: int(100, 3_600_000), doc: 'How often canaries (and, while quarantined, the checks that disagreed last) are probed.' },
  catchUpPerSecond: { env: 'LOOKOUT_CATCHUP_PER_SECOND', flag: 'catchup-per-second', default: 1000, parse: int(1, 1_000_000), doc: 'After a failover, overdue checks get an early catch-up probe; at most this many per second per node.' },
  loadSliceMs: { env: 'LOOKOUT_LOAD_SLICE_MS', flag: 'load-slice-ms', default: 0, parse: int(0, 1_000), doc: 'Bulk work at a start — turning a spec snapshot\'s entries into specs, starting the loaded shards\' runners — in slices of this many ms per turn of the event loop, shared by all of it (runtime/turn-budget.ts), with runner starts after the loads under way: at 1M checks over 10 nodes the whole load in a few turns stalled every node ~3 s and the leader lost its lease; with 5 no node paused while loading. 0 (the default): off — each shard\'s feed yields every 256 entries, runners start as their shards load; at 100k on one node the slices cost 1–5 s of start and up to 30 MiB of peak RSS (BENCHMARKS.md §16).' },
  memoryMb: { env: 'LOOKOUT_MEMORY_MB', flag: 'memory-mb', default: DEFAULT_MEMORY_MB, parse: memoryMb, doc: 'Memory (RSS, MiB) the node keeps its V8 heap within: it sets how far the heap may grow between full collections and how large the young generation gets, from the heap it measures (runtime/memory-budget.ts) — no node flag needed. At 100k checks a node ends at ~256–271 MiB (BENCHMARKS.md §2), at or a little over the default. A live heap that needs more is logged (memory_over_budget) and the node carries on, collecting more often. Node flags that size the heap (NODE_OPTIONS=--max-old-space-size=…, --max-semi-space-size=…) win over it. 0: off (V8\'s own sizing, which may let the heap grow to several times what is live).' },
  shutdownGraceMs: { env: 'LOOKOUT_SHUTDOWN_GRACE_MS', flag: 'shutdown-grace-ms', default: 5_000, parse: int(0, 600_000), doc: 'On SIGTERM/SIGINT, how long in-flight probes may finish before they are abandoned.' },
  httpHost: { env: 'LOOKOUT_HTTP_HOST', flag: 'http-host', default: '0.0.0.0', parse: (raw: string) => raw, doc: 'Address of the /metrics, /healthz, /readyz endpoints and the status page. 0.0.0.0: every interface (metrics are readable by anyone who reaches the port; bind 127.0.0.1 or firewall it). Probes may never connect to this port on any local address.' },
  httpPort: { env: 'LOOKOUT_HTTP_PORT', flag: 'http-port', default: 9464, parse: int(0, 65535), doc: 'Port of the /metrics, /healthz, /readyz endpoints (0: any free port, logged at start).' },
  targetAllow: { env: 'LOOKOUT_TARGET_ALLOW', flag: 'target-allow', default: undefined as string[] | undefined, parse: parseCidrList, doc: 'CIDR ranges probes may connect to (comma-separated). Unset: every address not denied. Set: only these; denied ranges still win. Checked after DNS, on every connect and redirect hop.' },
  targetDeny: { env: 'LOOKOUT_TARGET_DENY', flag: 'target-deny', default: undefined as string[] | undefined, parse: parseCidrList, doc: 'CIDR ranges probes may not connect to, added to the built-in ones (link-local and cloud metadata, 0.0.0.0/8, ::, this node\'s HTTP port, its NATS servers). Deny wins over allow.' },
  checkMetrics: { env: 'LOOKOUT_CHECK_METRICS', flag: 'check-metrics', default: 'off' as 'off' | 'on', parse: oneOf<'off' | 'on'>('off', 'on'), doc: 'on: serve per-check metrics for the checks this node runs at /metrics/checks on the HTTP port (lookout_check_up, lookout_check_probe_success, lookout_check_probe_duration_seconds, lookout_check_interval_seconds, lookout_check_last_transition_timestamp_seconds, by check and vantage), like blackbox_exporter\'s probe_success; off: that path answers 404 and the runners keep nothing for it. Kept apart from /metrics, which stays small at 100k checks.' },
  notify: { env: 'LOOKOUT_NOTIFY', flag: 'notify', default: 'on' as 'off' | 'on', parse: oneOf<'off' | 'on'>('off', 'on'), doc: 'on: this node serves the notifier API (<prefix>.notify.*) and takes its share of routing verdict changes to notifiers and calling their webhooks (each change is handled by one node of the cluster: README, Notifications); off: none of it (notifications still go out while any node has it on).' },
  maxNotifiers: { env: 'LOOKOUT_MAX_NOTIFIERS', flag: 'max-notifiers', default: 1000, parse: int(1, 100_000), doc: 'Most notifiers the cluster stores; a put of a new id beyond it fails with code limit.' },
  notifiersMaxBytes: { env: 'LOOKOUT_NOTIFIERS_MAX_BYTES', flag: 'notifiers-max-bytes', default: 16 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size limit of the notifier bucket (<prefix>_notifiers, a document is at most 64 KiB); when full, puts fail with storage_full.' },
  notifyConcurrency: { env: 'LOOKOUT_NOTIFY_CONCURRENCY', flag: 'notify-concurrency', default: 8, parse: int(1, 256), doc: 'Webhook calls this node makes at once (each holds one delivery job; the others wait in the jobs stream for any node).' },
  notifyAckWaitMs: { env: 'LOOKOUT_NOTIFY_ACK_WAIT_MS', flag: 'notify-ack-wait-ms', default: 30_000, parse: int(1_000, 600_000), doc: 'A verdict change being routed, or a delivery job being called, stays with the node that took it this long without word from it (a call in progress says so every third of it); then JetStream gives it to another node: how long a node that died mid-call delays its chain.' },
  notifyJobsMax: { env: 'LOOKOUT_NOTIFY_JOBS_MAX', flag: 'notify-jobs-max', default: 100_000, parse: int(100, 10_000_000), doc: 'Delivery jobs the jobs stream (<prefix>_notify_jobs) holds at most: pending calls, retries waiting their backoff and reminder chains. Beyond it new jobs are refused and the verdict change is routed again later (notify_route_failed).' },
  notifyJobsMaxBytes: { env: 'LOOKOUT_NOTIFY_JOBS_MAX_BYTES', flag: 'notify-jobs-max-bytes', default: 64 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the jobs stream (a job is ~0.5–2 KiB).' },
  notifyDeadMaxAgeMs: { env: 'LOOKOUT_NOTIFY_DEAD_MAX_AGE_MS', flag: 'notify-dead-max-age-ms', default: 7 * 86_400_000, parse: int(60_000, 3650 * 86_400_000), doc: 'How long the dead-letter stream (<prefix>_notify_dead, over <prefix>.notify.dead.>) keeps a delivery given up on.' },
  notifyDeadMaxBytes: { env: 'LOOKOUT_NOTIFY_DEAD_MAX_BYTES', flag: 'notify-dead-max-bytes', default: 16 * 1024 * 1024, parse: int(64 * 1024, Number.MAX_SAFE_INTEGER), doc: 'Size cap of the dead-letter stream; beyond it the oldest dead letters go first.' },
  statusPage: { env: 'LOOKOUT_STATUS_PAGE', flag: 'status-page', default: 'on' as 'off' | 'on', parse: oneOf<'off' | 'on'>('off', 'on'), doc: 'on: serve a read-only status page at / on the HTTP port (the cluster\'s members, leader and term; every check\'s verdict, uptime, latency and last failure; live updates), with its JSON under /api/ and Server-Sent Events at /api/events, read from the state API and cluster.status over this node\'s NATS connection. Anyone who reaches the port reads check ids, verdicts and failure messages: bind LOOKOUT_HTTP_HOST to 127.0.0.1, firewall the port, or turn it off. off: / and /api/ answer 404.' },
  resultDetail: { env: 'LOOKOUT_RESULT_DETAIL', flag: 'result-detail', default: ResultDetail.redacted as ResultDetail, parse: oneOf<ResultDetail>('redacted', 'full'), doc: 'How much of what a target returned a result message quotes: redacted (nothing: the kind of value, the headline of an error) or full (at most 80 characters). Results go to every subscriber.' },
  logLevel: { env: 'LOOKOUT_LOG_LEVEL', flag: 'log-level', default: 'info', parse: oneOf('trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'), doc: 'pino log level.' },
  vantagePoints: { env: 'LOOKOUT_VANTAGE_POINTS', flag: 'vantage-points', default: 3, parse: int(1, 5), doc: 'Ranks per shard: how many owner nodes each shard has (rank 0 = primary). A check with replicas k runs on ranks 0..k-1, so this caps k.' },
  clockSkewWarnMs: { env: 'LOOKOUT_CLOCK_SKEW_WARN_MS', flag: 'clock-skew-warn-ms', default: CLOCK_SKEW_WARN_MS, parse: int(1, 86_400_000), doc: 'A node whose wall clock is further than this from the median of the members\' clocks (estimated from heartbeats) is logged (clock_skew, clock_skew_cleared) and shown in `lookout cluster`. Display and alerting only: no decision reads clocks of two nodes.' },
  timing: { env: 'LOOKOUT_TIMING', flag: 'timing', default: 'production', parse: oneOf('production', 'nats-cluster', 'test'), doc: 'Profile for the protocol timers below: production (one NATS server), nats-cluster (rides out JetStream re-elections), test (fast).' },
  heartbeatMs: { env: 'LOOKOUT_HEARTBEAT_MS', flag: 'heartbeat-ms', default: undefined, parse: int(10, 60_000), doc: 'Heartbeat period. Profile: 500 / 500 / 100.' },
  suspectAfterMs: { env: 'LOOKOUT_SUSPECT_AFTER_MS', flag: 'suspect-after-ms', default: undefined, parse: int(10, 600_000), doc: 'Silence before a member is suspect. Profile: 1500 / 1500 / 400.' },
  deadAfterMs: { env: 'LOOKOUT_DEAD_AFTER_MS', flag: 'dead-after-ms', default: undefined, parse: int(20, 600_000), doc: 'Silence before a suspect member is dead (includes the suspicion window). Profile: 3500 / 3500 / 1000.' },
  leaseMs: { env: 'LOOKOUT_LEASE_MS', flag: 'lease-ms', default: undefined, parse: int(50, 600_000), doc: 'Leader lease. Profile: 4000 / 15000 / 1200.' },
  renewMs: { env: 'LOOKOUT_RENEW_MS', flag: 'renew-ms', default: undefined, parse: int(10, 300_000), doc: 'Leader renewal period (at most half the lease). Profile: 1000 / 3000 / 250.' },
  leasePollMs: { env: 'LOOKOUT_LEASE_POLL_MS', flag: 'lease-poll-ms', default: undefined, parse: int(10, 60_000), doc: 'How often followers read the lease. Profile: 250 / 1000 / 100.' },
  takeoverMarginMs: { env: 'LOOKOUT_TAKEOVER_MARGIN_MS', flag: 'takeover-margin-ms', default: undefined, parse: int(0, 60_000), doc: 'Extra wait before taking over an expired lease. Profile: 200 / 1000 / 100.' },
  rebalanceQuietMs: { env: 'LOOKOUT_REBALANCE_QUIET_MS', flag: 'rebalance-quiet-ms', default: undefined, parse: int(0, 60_000), doc: 'Membership must be quiet this long before the leader rebalances. Profile: 300 / 500 / 100.' },
  rebalanceMaxDelayMs: { env: 'LOOKOUT_REBALANCE_MAX_DELAY_MS', flag: 'rebalance-max-delay-ms', default: undefined, parse: int(0, 300_000), doc: 'A rebalance waits at most this long for quiet. Profile: 1000 / 2000 / 300.' },
  handoverMs: { env: 'LOOKOUT_HANDOVER_MS', flag: 'handover-ms', default: undefined as number | undefined, parse: int(0, 60_000), doc: 'Deprecated and ignored: a moved shard changes hands by message (claim and release), not at a wall-clock instant. Accepted so old deployments still start; a warning is logged when set.' },
  claimWaitMs: { env: 'LOOKOUT_CLAIM_WAIT_MS', flag: 'claim-wait-ms', default: undefined as number | undefined, parse: int(10, 600_000), doc: 'A node that gains a shard claims it from its previous holder; if the holder stays silent this long, the node starts the shard from the result stream (claim_unanswered). Default: LOOKOUT_DEAD_AFTER_MS of the profile.' },
  natsPingMs: { env: 'LOOKOUT_NATS_PING_MS', flag: 'nats-ping-ms', default: undefined, parse: int(100, 600_000), doc: 'How often the node pings its NATS server and judges its link (runtime/link-watch.ts): three periods in a row in which nothing came from the server (no PONG, no message), judged after the node has read its socket, mark the connection dead (found 2–3 periods after it froze), so results are not written into a frozen connection for long; a node busy with a backlog, or a server slow to answer PINGs while it delivers, is not taken for a dead link. nats.js pings on its own 10 times slower as a backstop. Profile: 1000 / 2000 / 250.' },
  overloadGraceMs: { env: 'LOOKOUT_OVERLOAD_GRACE_MS', flag: 'overload-grace-ms', default: undefined, parse: int(0, 600_000), doc: 'Extra silence the failure detector tolerates before it suspects (and declares dead) a member whose last heartbeat said it is overloaded, or any member while this node says so itself: an overloaded node heartbeats late. A dead overloaded node is dead within LOOKOUT_DEAD_AFTER_MS plus this. At most LOOKOUT_DEAD_AFTER_MS (a larger value is taken as that). Profile: 2000 / 2000 / 600.' },
  sharedSilenceGraceMs: { env: 'LOOKOUT_SHARED_SILENCE_GRACE_MS', flag: 'shared-silence-grace-ms', default: undefined, parse: int(0, 600_000), doc: 'Extra silence the failure detector tolerates for each member that went silent while most of the members this node hears did too (at least two, and more than half, silent past LOOKOUT_SUSPECT_AFTER_MS at once): every heartbeat passes the same NATS server and this node\'s link, so a slow server or a frozen link silences everyone together, while members die one at a time (protocol/shared-silence.ts). Logged as shared_silence and counted in lookout_shared_silences_total. A majority that really crashed together is found this much later. At most LOOKOUT_DEAD_AFTER_MS; 0 turns the rule off. Profile: 2000 / 2000 / 600.' },
  leaveTimeoutMs: { env: 'LOOKOUT_LEAVE_TIMEOUT_MS', flag: 'leave-timeout-ms', default: undefined, parse: int(0, 600_000), doc: 'On SIGTERM, how long to keep probing while waiting for the cluster to take over. Profile: 5000 / 20000 / 3000.' },
  overloadLagMs: { env: 'LOOKOUT_OVERLOAD_LAG_MS', flag: 'overload-lag-ms', default: 250, parse: int(10, 600_000), doc: 'A node whose event loop lags this much (the worst of each second: its lag sampler, and how late the timer queue hands probes out) for LOOKOUT_OVERLOAD_HOLD_MS is overloaded: it says so in its heartbeat, lookout_overloaded and `lookout cluster`, and the leader gives it fewer primary shards. It is clear again once the lag stays below half of this for as long.' },
  publishBatchMs: { env: 'LOOKOUT_PUBLISH_BATCH_MS', flag: 'publish-batch-ms', default: 0, parse: int(-1, 100), doc: 'Results, verdict changes and resume records produced together go to NATS in one socket write (runtime/publish-batcher.ts): 0 writes them at the end of the event-loop turn that produced them (no timer: latency grows by microseconds); N > 0 waits up to N ms after the first of a batch (fewer writes at low rates, up to N ms more fan-out latency); -1 writes each message on its own. The publish gate is asked again when a batch is written: a batch pending when the node holds its results after a pause is dropped and counted (lookout_pause_dropped_total).' },
  timerGrainMs: { env: 'LOOKOUT_TIMER_GRAIN_MS', flag: 'timer-grain-ms', default: 4, parse: int(0, 50), doc: 'Slot timers (runtime/timer-queue.ts) wake the node at multiples of this many ms: checks due within one grain are probed in one wakeup instead of one each. Never early; adds at most this much to scheduling lateness. At 1,500 probes/s a 4 ms grain cut the CPU per probe by ~10–15% (BENCHMARKS.md §1). 0: every slot at its own time.' },
  overloadHoldMs: { env: 'LOOKOUT_OVERLOAD_HOLD_MS', flag: 'overload-hold-ms', default: 5_000, parse: int(0, 3_600_000), doc: 'How long the lag must stay past LOOKOUT_OVERLOAD_LAG_MS before a node is overloaded, and below half of it before it is clear again.' },
  overloadReliefMs: { env: 'LOOKOUT_OVERLOAD_RELIEF_MS', flag: 'overload-relief-ms', default: undefined, parse: int(0, 86_400_000), doc: 'The leader keeps an overloaded node\'s share of primary shards down until it has reported clear this long; doubled each time it is relieved again within ten times this (at most ten times this), so a node that overloads whenever it gets its full share does not flap. Also how long a node must have run (its slots running, as the failure detector heard) before its overload relieves it or makes it hand over or defer the lease: the lag right after a start is the start\'s. Profile: 60000 / 60000 / 5000.' },
  churnThreshold: { env: 'LOOKOUT_CHURN_THRESHOLD', flag: 'churn-threshold', default: 3, parse: int(2, 1000), doc: 'Churn damping (protocol/churn.ts): a member that comes back this many times (a restart, or back from dead) within LOOKOUT_CHURN_WINDOW_MS is flapping and the leader holds it out of the assignment. At least 2: a first join and one restart are never delayed.' },
  churnWindowMs: { env: 'LOOKOUT_CHURN_WINDOW_MS', flag: 'churn-window-ms', default: undefined, parse: int(1000, 3_600_000), doc: 'Window in which a member\'s returns are counted. Profile: 60000 / 120000 / 15000.' },
  churnHoldMs: { env: 'LOOKOUT_CHURN_HOLD_MS', flag: 'churn-hold-ms', default: undefined, parse: int(0, 3_600_000), doc: 'A flapping member gets shards again once alive (one instance, not suspect) this long; doubled with each further damping. Profile: 30000 / 60000 / 3000.' },
  churnMaxHoldMs: { env: 'LOOKOUT_CHURN_MAX_HOLD_MS', flag: 'churn-max-hold-ms', default: undefined, parse: int(0, 86_400_000), doc: 'Bound of the growing hold; a member with no return for this long is forgiven (its next damping holds LOOKOUT_CHURN_HOLD_MS again). Profile: 300000 / 600000 / 30000.' },
} satisfies Record<string, SettingDef<unknown>>;

/** Protocol timer defaults per profile (memberlist ships DefaultLANConfig / DefaultLocalConfig the same way). */
export const TIMING_PROFILES = {
  // One NATS server: a SIGKILLed node's checks run again within interval + ~4.5 s.
  production: { heartbeatMs: 500, suspectAfterMs: 1500, deadAfterMs: 3500, leaseMs: 4000, renewMs: 1000, leasePollMs: 250, takeoverMarginMs: 200, rebalanceQuietMs: 300, rebalanceMaxDelayMs: 1000, leaveTimeoutMs: 5000, overloadGraceMs: 2000, sharedSilenceGraceMs: 2000, churnWindowMs: 60_000, churnHoldMs: 30_000, churnMaxHoldMs: 300_000, natsPingMs: 1000, overloadReliefMs: 60_000 },
  // A NATS cluster re-elects a JetStream leader in 4–9 s; the lease must outlast that or it flaps.
  // The failure detector need not: heartbeats are core NATS, and a node on a lost server reconnects
  // to another within a second; a dead node's checks are taken over at its dead threshold, so it is
  // production's (with 6 s, a dead node's checks went 8.0–8.5 s unprobed at a 2 s interval).
  'nats-cluster': { heartbeatMs: 500, suspectAfterMs: 1500, deadAfterMs: 3500, leaseMs: 15000, renewMs: 3000, leasePollMs: 1000, takeoverMarginMs: 1000, rebalanceQuietMs: 500, rebalanceMaxDelayMs: 2000, leaveTimeoutMs: 20000, overloadGraceMs: 2000, sharedSilenceGraceMs: 2000, churnWindowMs: 120_000, churnHoldMs: 60_000, churnMaxHoldMs: 600_000, natsPingMs: 2000, overloadReliefMs: 60_000 },
  // Tests: the same protocol, ten times faster (nats-server's own tests shorten timers this way) —
  // except the churn window, which counts process restarts, and those take 1–2 s in a test too.
  test: { heartbeatMs: 100, suspectAfterMs: 400, deadAfterMs: 1000, leaseMs: 1200, renewMs: 250, leasePollMs: 100, takeoverMarginMs: 100, rebalanceQuietMs: 100, rebalanceMaxDelayMs: 300, leaveTimeoutMs: 3000, overloadGraceMs: 600, sharedSilenceGraceMs: 600, churnWindowMs: 15_000, churnHoldMs: 3_000, churnMaxHoldMs: 30_000, natsPingMs: 250, overloadReliefMs: 5_000 },
} as const;

type TimerName = keyof (typeof TIMING_PROFILES)['production'];

/** The values a table of settings resolves to. */
export type SettingValues<D> = { [K in keyof D]: D[K] extends SettingDef<infer T> ? T : never };

type Settings = typeof SETTINGS;
export type Config = Omit<SettingValues<Settings>, TimerName | 'claimWaitMs'> & Record<TimerName, number> & { claimWaitMs: number };

/** Parse `--flag value` / `--flag=value` pairs of the settings table; unknown flags are an error. */
export function parseFlags(argv: readonly string[]): Map<string, string> {
  const defs = Object.fromEntries(Object.values(SETTINGS).map((s) => [s.flag, { type: 'string' as const }]));
  const { flags } = readArgv(
    argv,
    defs,
    (p) =>
      new ConfigError(
        p.kind === 'unexpected-positional' ? `unexpected argument ${JSON.stringify(p.value)}` : p.kind === 'missing-value' ? `flag ${p.flag} needs a value` : `unknown flag ${p.flag} (see --help)`,
      ),
    0,
  );
  return flags as Map<string, string>;
}

/**
 * Each setting of `defs` from its flag (by `def.flag`), then the environment, then its default.
 * A value that does not parse is a ConfigError naming where it came from. The node reads the whole
 * table (loadConfig); the client commands read NATS_SETTINGS and the prefix under their own flags.
 */
export function resolveSettings<D extends Record<string, SettingDef<unknown>>>(defs: D, env: NodeJS.ProcessEnv, flags: ReadonlyMap<string, string | true>): SettingValues<D> {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(defs)) {
    const flagged = flags.get(def.flag);
    const fromFlag = typeof flagged === 'string' ? flagged : undefined;
    const raw = fromFlag ?? env[def.env];
    if (raw === undefined) {
      out[key] = typeof def.default === 'function' ? (def.default as () => unknown)() : def.default;
      continue;
    }
    try {
      out[key] = def.parse(raw);
    } catch (err) {
      const source = fromFlag !== undefined ? `--${def.flag}` : def.env;
      throw new ConfigError(`${source}: ${(err as Error).message}, got ${JSON.stringify(raw)}`);
    }
  }
  return out as SettingValues<D>;
}

/** What no single NATS setting can say alone: a user name needs its password. */
export function checkNatsAuth(cfg: Pick<SettingValues<typeof NATS_SETTINGS>, 'natsUser' | 'natsPassword'>): void {
  if ((cfg.natsUser === undefined) !== (cfg.natsPassword === undefined)) {
    throw new ConfigError('NATS_USER and NATS_PASSWORD must be set together');
  }
}

/** Build the config from flags, then environment, then defaults. Throws ConfigError. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const out: Record<string, unknown> = resolveSettings(SETTINGS, env, parseFlags(argv));
  const profile = TIMING_PROFILES[out.timing as keyof typeof TIMING_PROFILES];
  for (const [k, v] of Object.entries(profile)) if (out[k] === undefined) out[k] = v;
  out.claimWaitMs ??= out.deadAfterMs;
  const cfg = out as Config;
  checkNatsAuth(cfg);
  if (cfg.suspectAfterMs >= cfg.deadAfterMs) throw new ConfigError('LOOKOUT_SUSPECT_AFTER_MS must be less than LOOKOUT_DEAD_AFTER_MS');
  // Bounded, so a dead overloaded node is still found: a profile's grace never breaks a short LOOKOUT_DEAD_AFTER_MS.
  cfg.overloadGraceMs = Math.min(cfg.overloadGraceMs, cfg.deadAfterMs);
  cfg.sharedSilenceGraceMs = Math.min(cfg.sharedSilenceGraceMs, cfg.deadAfterMs);
  if (cfg.heartbeatMs * 2 > cfg.suspectAfterMs) throw new ConfigError('LOOKOUT_HEARTBEAT_MS must be at most half of LOOKOUT_SUSPECT_AFTER_MS');
  if (cfg.renewMs * 2 > cfg.leaseMs) throw new ConfigError('LOOKOUT_RENEW_MS must be at most half of LOOKOUT_LEASE_MS');
  if (cfg.churnHoldMs > cfg.churnMaxHoldMs) throw new ConfigError('LOOKOUT_CHURN_HOLD_MS must be at most LOOKOUT_CHURN_MAX_HOLD_MS');
  if (cfg.leasePollMs > cfg.leaseMs) throw new ConfigError('LOOKOUT_LEASE_POLL_MS must be shorter than LOOKOUT_LEASE_MS');
  return cfg;
}

/** The settings table as text, for --help and the README. */
export function describeSettings(): string {
  return Object.values(SETTINGS as Record<string, SettingDef<unknown>>)
    .map((d) => {
      const def = typeof d.default === 'function' ? '(derived)' : d.default === undefined ? (d.doc.includes('Profile:') ? '(profile)' : '(unset)') : String(d.default);
      return `  --${d.flag.padEnd(22)} ${d.env.padEnd(28)} default ${def}\n      ${d.doc}`;
    })
    .join('\n');
}
