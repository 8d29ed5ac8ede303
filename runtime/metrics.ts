// Prometheus metrics an operator watches. One registry per node process (tests create their own,
// so several nodes in one process do not collide).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LoadGauges } from './load-monitor';
import { createNotifyMetrics, type NotifyMetrics } from './notify-metrics';

export interface Metrics {
  registry: Registry;
  probes: Counter<'result' | 'reason' | 'kind'>;
  probeDuration: Histogram<'kind'>;
  lateness: Histogram;
  skippedRounds: Counter;
  inFlight: Gauge;
  published: Counter<'type'>;
  transitions: Counter<'to'>;
  natsConnected: Gauge;
  specRequests: Counter<'op' | 'outcome'>;
  specShed: Counter<'why'>;
  specBacklog: Gauge;
  isLeader: Gauge;
  leaderTerm: Gauge;
  assignmentEpoch: Gauge;
  members: Gauge<'state'>;
  /** Members the followed map holds out because they flap (protocol/churn.ts). */
  membersDamped: Gauge;
  duplicateRuns: Counter;
  /** Shared silences the failure detector found (protocol/shared-silence.ts). */
  sharedSilences: Counter;
  pauses: Counter<'source'>;
  pauseDropped: Counter<'type'>;
  publishesUnconfirmed: Counter<'type'>;
  confirmations: Counter<'peer' | 'outcome'>;
  pushReports: Counter<'outcome'>;
  pushOwned: Gauge;
  quarantined: Gauge;
  quarantines: Counter;
  quarantineEvidence: Counter<'kind' | 'source'>;
  quarantineRate: Gauge;
  canaryProbes: Counter<'canary' | 'result'>;
  panic: Gauge;
  panics: Counter;
  panicHeld: Counter;
  panicGroup: Gauge<'group'>;
  groupPanics: Counter;
  confirmAnswers: Counter<'answer'>;
  provisionalSlots: Gauge;
  bodyWorkerOverruns: Counter<'assertion' | 'why'>;
  /** Per peer: its clock minus this node's, as estimated from heartbeats (protocol/clock-offset.ts). */
  clockOffset: Gauge<'peer'>;
  /** This node's clock minus the median of the live members' clocks. */
  clockSkew: Gauge;
  /** The node's own lag and overload state (runtime/load-monitor.ts). */
  load: LoadGauges;
  /** What this node holds now (also in the heartbeat and cluster.status); lookout_checks_owned and lookout_shards_owned follow it. */
  held: { checks: number; shards: number };
  addChecks(n: number): void;
  setShards(n: number): void;
  /** Specs this node holds (the shards it serves, app/node-specs.ts), and how many shards' specs. */
  specsHeld: Gauge;
  specShardsHeld: Gauge;
  /** Live clients of the status page (runtime/status-events.ts), and those dropped for reading too slowly. */
  statusPageClients: Gauge;
  statusPageDropped: Counter<'why'>;
  /** Notifications: calls, dead letters, suppressed, routed, pending (runtime/notify-metrics.ts). */
  notify: NotifyMetrics;
  /** Resume lookups of gained checks (runtime/result-history.ts): time from asked to answered, and how many are outstanding. */
  resumeLookupSeconds: Histogram;
  resumeLookupsPending: Gauge;
}

export function createMetrics(opts: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) {
    collectDefaultMetrics({ register: registry, prefix: 'lookout_' });
    // prom-client names these gauges *_total, which the exposition format reserves for counters
    // (promtool rejects them); their unsuffixed twins carry the same numbers.
    for (const name of ['lookout_nodejs_active_handles_total', 'lookout_nodejs_active_requests_total', 'lookout_nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const r = [registry];
  const checksOwned = new Gauge({ name: 'lookout_checks_owned', help: 'Checks this node runs.', registers: r });
  const shardsOwned = new Gauge({ name: 'lookout_shards_owned', help: 'Shard slots (shard, rank) assigned to this node.', registers: r });
  const held = { checks: 0, shards: 0 };
  const specsHeld = new Gauge({ name: 'lookout_specs_held', help: 'Specs this node holds in memory: those of the shards it serves at any rank (not the whole bucket).', registers: r });
  const specShardsHeld = new Gauge({ name: 'lookout_spec_shards_held', help: 'Shards whose specs this node holds (one filtered spec watch each).', registers: r });
  const specShed = new Counter({
    name: 'lookout_spec_requests_shed_total',
    help: 'Spec API requests answered `unavailable` at once because the API was over its rate (why=rate) or backlog (why=backlog) bound.',
    labelNames: ['why'],
    registers: r,
  });
  for (const why of ['rate', 'backlog']) specShed.inc({ why }, 0); // the series exist from the start
  const bodyWorkerOverruns = new Counter({
    name: 'lookout_body_worker_overruns_total',
    help: 'Body and header assertions (assertion=bodyRegex|bodyNotRegex|json|expectHeaders|expectRegex, the last a tcp dialog step) the body worker stopped at its budget (why=budget), or refused without running because the same work overran recently (why=remembered) or costly work had its share of the worker (why=rationed); each such probe is down.',
    labelNames: ['assertion', 'why'],
    registers: r,
  });
  for (const assertion of ['bodyRegex', 'bodyNotRegex', 'json', 'expectHeaders', 'expectRegex']) for (const why of ['budget', 'remembered', 'rationed']) bodyWorkerOverruns.inc({ assertion, why }, 0);
  const overloaded = new Gauge({
    name: 'lookout_overloaded',
    help: '1 while this node is overloaded: its event loop lag stayed at or above LOOKOUT_OVERLOAD_LAG_MS for LOOKOUT_OVERLOAD_HOLD_MS (cleared below half of it for as long). The heartbeat says so, and the leader gives the node fewer primary shards.',
    registers: r,
  });
  const loopLag = new Histogram({
    name: 'lookout_event_loop_lag_seconds',
    help: 'How late the node\'s lag sampler fired (every 20 ms): how long the event loop could not run (busy, or waiting for the CPU).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: r,
  });
  const loopLagWindow = new Gauge({
    name: 'lookout_event_loop_lag_window_seconds',
    help: 'The worst event-loop lag of the last second (the sampler, and how late the timer queue handed probes out): what the overload state reads.',
    registers: r,
  });
  const loopStall = new Counter({
    name: 'lookout_event_loop_stall_seconds_total',
    help: 'Event-loop lag summed: its rate is the fraction of time the loop could not run. A probe that timed out while the loop stalled for more than a quarter of its timeout is published as inconclusive.',
    registers: r,
  });
  return {
    load: {
      observeLag(seconds) {
        loopLag.observe(seconds);
        if (seconds > 0) loopStall.inc(seconds);
      },
      setLoad(lagSeconds, isOverloaded) {
        loopLagWindow.set(lagSeconds);
        overloaded.set(isOverloaded ? 1 : 0);
      },
    },
    bodyWorkerOverruns,
    held,
    specsHeld,
    specShardsHeld,
    addChecks(n) {
      held.checks += n;
      checksOwned.set(held.checks);
    },
    setShards(n) {
      held.shards = n;
      shardsOwned.set(n);
    },
    registry,
    probes: new Counter({ name: 'lookout_probes_total', help: 'Probes run, by result (ok|fail|inconclusive), failure reason and kind. inconclusive: the node\'s own stall, not the target, may have failed the probe (it does not count against the verdict).', labelNames: ['result', 'reason', 'kind'], registers: r }),
    probeDuration: new Histogram({
      name: 'lookout_probe_duration_seconds',
      help: 'Probe wall time (dns + connect + tls + request + body).',
      labelNames: ['kind'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: r,
    }),
    lateness: new Histogram({
      name: 'lookout_schedule_lateness_seconds',
      help: 'How late a probe started after its due time (slot + jitter). Never negative.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: r,
    }),
    resumeLookupSeconds: new Histogram({
      name: 'lookout_resume_lookup_seconds',
      help: "From a gained check's resume lookup being asked to its answer (queue wait included). Its first results are held back until then: a slow queue shows as a failover gap.",
      buckets: [0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: r,
    }),
    resumeLookupsPending: new Gauge({ name: 'lookout_resume_lookups_pending', help: 'Resume lookups asked and not yet answered (queued or out).', registers: r }),
    skippedRounds: new Counter({ name: 'lookout_skipped_rounds_total', help: 'Rounds skipped because the previous probe of the check was still running.', registers: r }),
    inFlight: new Gauge({ name: 'lookout_probes_in_flight', help: 'Probes running now.', registers: r }),
    published: new Counter({ name: 'lookout_published_total', help: 'Messages published, by type (result|status).', labelNames: ['type'], registers: r }),
    transitions: new Counter({ name: 'lookout_transitions_total', help: 'Published verdict changes, by new verdict (up, degraded, down, flapping).', labelNames: ['to'], registers: r }),
    natsConnected: new Gauge({ name: 'lookout_nats_connected', help: '1 while the NATS connection is up.', registers: r }),
    isLeader: new Gauge({ name: 'lookout_leader', help: '1 while this node acts as leader.', registers: r }),
    leaderTerm: new Gauge({ name: 'lookout_leader_term', help: 'Highest leader term this node has seen.', registers: r }),
    assignmentEpoch: new Gauge({ name: 'lookout_assignment_epoch', help: 'Epoch of the assignment this node follows.', registers: r }),
    members: new Gauge({ name: 'lookout_members', help: 'Cluster members by state, as this node sees them.', labelNames: ['state'], registers: r }),
    membersDamped: new Gauge({ name: 'lookout_members_damped', help: 'Members the followed assignment holds out because they flap (restart again and again); they get shards once stable.', registers: r }),
    provisionalSlots: new Gauge({
      name: 'lookout_provisional_slots',
      help: 'Slots (shard, rank) this node runs only because its failure detector holds an owner dead, before a map confirms it (provisional takeover).',
      registers: r,
    }),
    sharedSilences: new Counter({
      name: 'lookout_shared_silences_total',
      help: 'Times most of the members this node hears went silent together (the NATS server or this node\'s link delayed every heartbeat, rather than members dying): each silent member got LOOKOUT_SHARED_SILENCE_GRACE_MS more before it could be suspected. Counted when a tick marks a member not already marked.',
      registers: r,
    }),
    duplicateRuns: new Counter({
      name: 'lookout_duplicate_runs_total',
      help: 'Probes that ran twice: results a previous holder published past the seq this node resumed from, counted when its late release arrives (it learned of the new map late: partition, pause). Each counted once, by the node that took over.',
      registers: r,
    }),
    pauses: new Counter({
      name: 'lookout_pauses_total',
      help: 'Pauses of this node past the pause threshold (stopped, stalled, or cut off from NATS), by how it was noticed (ticks|timer|nats).',
      labelNames: ['source'],
      registers: r,
    }),
    pauseDropped: new Counter({
      name: 'lookout_pause_dropped_total',
      help: 'Results and transitions of probes that spanned a pause, not published (their outcome measured the pause), by type (result|status).',
      labelNames: ['type'],
      registers: r,
    }),
    publishesUnconfirmed: new Counter({
      name: 'lookout_publishes_unconfirmed_total',
      help: 'Results and transitions written into a NATS link that dropped before a round trip confirmed them (runtime/publish-confirm.ts): an upper bound on what the link lost, by type (result|status).',
      labelNames: ['type'],
      registers: r,
    }),
    pushReports: new Counter({
      name: 'lookout_push_reports_total',
      help: 'Reports of push checks heard by this node, by outcome: accepted (it owns the check), not_owned (another node keeps that deadline; every node hears every report), rate_limited (past LOOKOUT_PUSH_PER_SECOND for the check, dropped unread), too_large, invalid (not a report), bad_token (the spec wants a token the report lacks or gets wrong).',
      labelNames: ['outcome'],
      registers: r,
    }),
    pushOwned: new Gauge({ name: 'lookout_push_checks', help: 'Push checks whose deadline this node keeps (it owns them).', registers: r }),
    confirmations: new Counter({
      name: 'lookout_confirmations_total',
      help: 'Failures of single-vantage checks confirmed by another node before going down, by the node asked and outcome (agreed: it failed there too; disagreed: healthy there, the verdict held; unconfirmed: no view from elsewhere, the failure counted).',
      labelNames: ['peer', 'outcome'],
      registers: r,
    }),
    quarantined: new Gauge({ name: 'lookout_quarantined', help: '1 while this node is in self-quarantine (protocol/quarantine.ts: its probes disagree with the other nodes\'): it announces no verdict change and the leader moves its shards away (unless refused by the bound).', registers: r }),
    quarantines: new Counter({ name: 'lookout_quarantines_total', help: 'Self-quarantines this node entered.', registers: r }),
    quarantineEvidence: new Counter({
      name: 'lookout_quarantine_evidence_total',
      help: 'Observations counted towards self-quarantine, by kind (disagreed: a failure another node saw healthy; agreed: a failure it saw too; healthy: a passing probe) and source (check, canary, witness: a check probed again while quarantined, vantage: a failure of a replicas > 1 check against its other vantages\' last results).',
      labelNames: ['kind', 'source'],
      registers: r,
    }),
    quarantineRate: new Gauge({ name: 'lookout_quarantine_disagreement_rate', help: 'Fraction of the self-quarantine window that disagreed with other nodes (0..1).', registers: r }),
    canaryProbes: new Counter({ name: 'lookout_canary_probes_total', help: 'Probes of the canaries (LOOKOUT_CANARIES), by canary target and result (ok|fail).', labelNames: ['canary', 'result'], registers: r }),
    panic: new Gauge({ name: 'lookout_panic', help: '1 while this node is in panic (protocol/panic.ts: too many checks went down at once) and holds new downs.', registers: r }),
    panics: new Counter({ name: 'lookout_panics_total', help: 'Panics this node entered (downs within LOOKOUT_PANIC_WINDOW_MS past LOOKOUT_PANIC_PERCENT of all checks).', registers: r }),
    panicGroup: new Gauge({ name: 'lookout_panic_group', help: '1 while a group of checks (their value of LOOKOUT_PANIC_GROUP_LABEL) is in panic on this node and its new downs are held; the series goes when the panic is released (at most 64 groups watched).', labelNames: ['group'], registers: r }),
    groupPanics: new Counter({ name: 'lookout_group_panics_total', help: 'Group panics this node entered (downs of one group within LOOKOUT_PANIC_WINDOW_MS past LOOKOUT_PANIC_PERCENT of its checks).', registers: r }),
    panicHeld: new Counter({ name: 'lookout_panic_held_total', help: 'Failures that would have turned a check down, held by the panic guard (published with held "panic", the verdict as it was).', registers: r }),
    confirmAnswers: new Counter({
      name: 'lookout_confirm_answers_total',
      help: "This node's answers to other nodes' confirmation requests (probed: a probe ran; reused: a probe of the last half interval answered; busy, unknown_check, inconclusive, malformed: no probe).",
      labelNames: ['answer'],
      registers: r,
    }),
    specRequests: new Counter({ name: 'lookout_spec_requests_total', help: 'Spec API requests, by op and outcome (ok or error code).', labelNames: ['op', 'outcome'], registers: r }),
    specShed,
    clockOffset: new Gauge({
      name: 'lookout_clock_offset_seconds',
      help: "A peer's wall clock minus this node's, estimated from its heartbeats (the least-delayed of the last 16): display and alerting only, no decision reads it. The series goes when the peer is forgotten.",
      labelNames: ['peer'],
      registers: r,
    }),
    clockSkew: new Gauge({
      name: 'lookout_clock_skew_seconds',
      help: "This node's wall clock minus the median of the live members' clocks (itself included), estimated from heartbeats; alert when its absolute value passes LOOKOUT_CLOCK_SKEW_WARN_MS.",
      registers: r,
    }),
    specBacklog: new Gauge({ name: 'lookout_spec_api_backlog', help: 'Spec API requests admitted and not yet answered.', registers: r }),
    statusPageClients: new Gauge({ name: 'lookout_status_page_clients', help: 'Live-update (Server-Sent Events) clients of this node\'s status page.', registers: r }),
    statusPageDropped: new Counter({ name: 'lookout_status_page_dropped_total', help: 'Status page live-update clients dropped, by why (slow: more unread events buffered than the bound).', labelNames: ['why'], registers: r }),
    notify: createNotifyMetrics(r),
  };
}
