// Every NATS subject, bucket and stream name Lookout uses is built here (DESIGN.md §2).
// Public contract: spec.*, state.*, notify.*, result.<id>, status.<id>, push.<id>, cluster.*. Internal: _node.> (node to node)
// and _resume.<id>.<rank> (each vantage's resume state, kept by a stream of its own), _rollup.<id>
// and _rollup_fine.<id> (per-period rollups of a check's probes, hourly and fine), _notify.job.<notifier>.<check> (delivery jobs of notifications).

import { CHECK_ID_PATTERN } from '../checks/spec';

export const DEFAULT_PREFIX = 'lookout';

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** A prefix is one or more dot-separated tokens (e.g. "lookout" or "acme.lookout"). */
export function isValidPrefix(prefix: string): boolean {
  return prefix.length > 0 && prefix.length <= 64 && prefix.split('.').every((t) => TOKEN.test(t));
}

export function isValidCheckId(id: string): boolean {
  return CHECK_ID_PATTERN.test(id);
}

export type SpecOp = 'put' | 'delete' | 'get';
export type NotifyOp = SpecOp;

export interface Subjects {
  readonly prefix: string;
  specPut(id: string): string;
  specDelete(id: string): string;
  specGet(id: string): string;
  specList(): string;
  /** Request: the CheckSpec JSON Schema. */
  specSchema(): string;
  specRejected(id: string): string;
  /** Wildcards the spec API subscribes to (`>`, so a malformed id still gets an answer). */
  specOpWildcard(op: SpecOp): string;
  /** The spec op and id (everything after the op, unvalidated) of a spec subject, or null. */
  parseSpecSubject(subject: string): { op: SpecOp; id: string } | null;
  result(id: string): string;
  resultWildcard(): string;
  status(id: string): string;
  statusWildcard(): string;
  /** `<prefix>.cluster.<event>`: leader, member, assignment events (public). */
  cluster(event: string): string;
  /** Every `<prefix>.cluster.>` subject: the cluster's events (and cluster.status requests). */
  clusterWildcard(): string;
  clusterStatus(): string;
  /** `<prefix>.cluster.member.quarantined`: a node entered or left self-quarantine (public; protocol/quarantine.ts). */
  memberQuarantined(): string;
  /** Request: a new owner claims (shard, rank) from its holder (protocol/handover.ts). */
  shardClaim(shard: number, rank: number): string;
  /** A holder's release of (shard, rank). */
  shardRelease(shard: number, rank: number): string;
  /** Internal node-to-node traffic. */
  internal(...tokens: string[]): string;
  /** `<prefix>._node.down`: a node announced a check down (every panic guard counts these, runtime/panic-guard.ts). */
  panicDowns(): string;
  /** Request: probe a check once to confirm a failure (protocol/confirm.ts); `node` answers. */
  confirm(node: string): string;
  /** `<prefix>._resume.<id>.<rank>`: the resume state of one vantage of a check (replicas > 1). */
  resumeState(id: string, rank: number): string;
  /** `<prefix>._resume.<id>.quorum`: the combined verdict of a check with replicas > 1 (protocol/quorum-record.ts). */
  quorumState(id: string): string;
  /** Every vantage's resume state of check `id`, and its combined verdict (a purge filter). */
  resumeStatesOf(id: string): string;
  /** Every resume state: the resume stream's subjects. */
  resumeWildcard(): string;
  /** `<prefix>.push.<id>`: a job reports in for push check `id` (public; checks/push-report.ts). */
  push(id: string): string;
  /** Every push subject: the one subscription of each node (runtime/push-registry.ts). */
  pushWildcard(): string;
  /** Check id of a `<prefix>.push.<id>` subject (unvalidated: everything after the base), or null. */
  pushIdOf(subject: string): string | null;
  /** Check id of a `<prefix>.result.<id>` or `<prefix>.status.<id>` subject, or null. */
  checkIdOf(subject: string): string | null;
  /** JetStream KV bucket `<prefix with _>_<purpose>`, e.g. lookout_specs. */
  bucket(purpose: 'specs' | 'leader' | 'assignment' | 'members' | 'notifiers'): string;
  /** The result history stream. */
  resultStream(): string;
  /** The stream of resume states per vantage (`<prefix with _>_resume`). */
  resumeStream(): string;
  /** The stream of verdict changes (`<prefix with _>_transitions`, over `<prefix>.status.>`). */
  transitionStream(): string;
  /** The stream of per-period rollups (`<prefix with _>_rollups`, over `<prefix>._rollup.>`). */
  rollupStream(): string;
  /** `<prefix>._rollup.<id>`: the rollups of check `id` (protocol/rollup.ts). */
  rollup(id: string): string;
  rollupWildcard(): string;
  /** The stream of fine-grained rollups (`<prefix with _>_rollups_fine`, over `<prefix>._rollup_fine.>`). */
  fineRollupStream(): string;
  /** `<prefix>._rollup_fine.<id>`: the fine rollups of check `id` (LOOKOUT_ROLLUP_FINE_PERIOD_MS). */
  fineRollup(id: string): string;
  fineRollupWildcard(): string;
  /** Request: the current state of check `id` (actors/state-api.ts). */
  stateGet(id: string): string;
  /** Request: the states of many checks (filtered by id prefix or labels, paged). */
  stateList(): string;
  /** Request: the uptime and verdict changes of check `id`. */
  stateHistory(id: string): string;
  /** Wildcards the state API subscribes to (`>`, so a malformed id still gets an answer). */
  stateOpWildcard(op: 'get' | 'history'): string;
  /** Request: store notifier `id` (runtime/notify-api.ts). */
  notifyPut(id: string): string;
  notifyDelete(id: string): string;
  notifyGet(id: string): string;
  /** Request: every notifier's summary (no URL, headers or template) and its silences. */
  notifyList(): string;
  /** Wildcards the notifier API subscribes to (`>`, so a malformed id still gets an answer). */
  notifyOpWildcard(op: NotifyOp): string;
  /** `<prefix>.notify.dead.<notifier>`: a delivery given up on (public; kept by the dead-letter stream). */
  notifyDead(notifier: string): string;
  notifyDeadWildcard(): string;
  /** `<prefix>._notify.job.<notifier>.<check>`: a delivery job (internal). */
  notifyJob(notifier: string, check: string): string;
  notifyJobWildcard(): string;
  /** The work-queue stream of delivery jobs (`<prefix with _>_notify_jobs`). */
  notifyJobStream(): string;
  /** The stream that keeps dead letters (`<prefix with _>_notify_dead`). */
  notifyDeadStream(): string;
  /** Durable consumers every node shares: routing transitions into jobs, and delivering jobs. */
  notifyConsumer(stage: 'route' | 'deliver'): string;
}

export function subjects(prefix = DEFAULT_PREFIX): Subjects {
  if (!isValidPrefix(prefix)) throw new Error(`invalid subject prefix ${JSON.stringify(prefix)}`);
  const p = prefix;
  const name = prefix.replace(/[.-]/g, '_');
  const specBase = `${p}.spec.`;
  const ops: SpecOp[] = ['put', 'delete', 'get'];
  return {
    prefix,
    specPut: (id) => `${p}.spec.put.${id}`,
    specDelete: (id) => `${p}.spec.delete.${id}`,
    specGet: (id) => `${p}.spec.get.${id}`,
    specList: () => `${p}.spec.list`,
    specSchema: () => `${p}.spec.schema`,
    specRejected: (id) => `${p}.spec.rejected.${id}`,
    specOpWildcard: (op) => `${p}.spec.${op}.>`,
    parseSpecSubject(subject) {
      if (!subject.startsWith(specBase)) return null;
      const rest = subject.slice(specBase.length);
      const dot = rest.indexOf('.');
      if (dot < 0) return null;
      const op = rest.slice(0, dot) as SpecOp;
      const id = rest.slice(dot + 1);
      if (!ops.includes(op) || id.length === 0) return null;
      return { op, id };
    },
    result: (id) => `${p}.result.${id}`,
    resultWildcard: () => `${p}.result.>`,
    status: (id) => `${p}.status.${id}`,
    statusWildcard: () => `${p}.status.>`,
    cluster: (event) => `${p}.cluster.${event}`,
    clusterWildcard: () => `${p}.cluster.>`,
    clusterStatus: () => `${p}.cluster.status`,
    memberQuarantined: () => `${p}.cluster.member.quarantined`,
    shardClaim: (shard, rank) => `${p}._node.shard.${shard}.${rank}.claim`,
    shardRelease: (shard, rank) => `${p}._node.shard.${shard}.${rank}.release`,
    internal: (...tokens) => [`${p}._node`, ...tokens].join('.'),
    panicDowns: () => `${p}._node.down`,
    confirm: (node) => `${p}._node.confirm.${node}`,
    resumeState: (id, rank) => `${p}._resume.${id}.${rank}`,
    quorumState: (id) => `${p}._resume.${id}.quorum`,
    resumeStatesOf: (id) => `${p}._resume.${id}.*`,
    resumeWildcard: () => `${p}._resume.>`,
    push: (id) => `${p}.push.${id}`,
    pushWildcard: () => `${p}.push.>`,
    pushIdOf: (subject) => (subject.startsWith(`${p}.push.`) ? subject.slice(p.length + 6) : null),
    checkIdOf(subject) {
      for (const kind of ['result', 'status']) {
        const base = `${p}.${kind}.`;
        if (subject.startsWith(base)) {
          const id = subject.slice(base.length);
          return isValidCheckId(id) ? id : null;
        }
      }
      return null;
    },
    bucket: (purpose) => `${name}_${purpose}`,
    resultStream: () => `${name}_results`,
    resumeStream: () => `${name}_resume`,
    transitionStream: () => `${name}_transitions`,
    rollupStream: () => `${name}_rollups`,
    rollup: (id) => `${p}._rollup.${id}`,
    rollupWildcard: () => `${p}._rollup.>`,
    fineRollupStream: () => `${name}_rollups_fine`,
    fineRollup: (id) => `${p}._rollup_fine.${id}`,
    fineRollupWildcard: () => `${p}._rollup_fine.>`,
    stateGet: (id) => `${p}.state.get.${id}`,
    stateList: () => `${p}.state.list`,
    stateHistory: (id) => `${p}.state.history.${id}`,
    stateOpWildcard: (op) => `${p}.state.${op}.>`,
    notifyPut: (id) => `${p}.notify.put.${id}`,
    notifyDelete: (id) => `${p}.notify.delete.${id}`,
    notifyGet: (id) => `${p}.notify.get.${id}`,
    notifyList: () => `${p}.notify.list`,
    notifyOpWildcard: (op) => `${p}.notify.${op}.>`,
    notifyDead: (notifier) => `${p}.notify.dead.${notifier}`,
    notifyDeadWildcard: () => `${p}.notify.dead.>`,
    notifyJob: (notifier, check) => `${p}._notify.job.${notifier}.${check}`,
    notifyJobWildcard: () => `${p}._notify.job.>`,
    notifyJobStream: () => `${name}_notify_jobs`,
    notifyDeadStream: () => `${name}_notify_dead`,
    notifyConsumer: (stage) => `${name}_notify_${stage}`,
  };
}
