// What the compose run (test/compose/run.sh) expects, as pure decisions over what the system
// published: the NATS servers' monitoring pages, `lookout cluster --json`, `lookout status --json`
// and `lookout spec ls --json`. Each returns pass (with what it saw) or fail (with why: what it
// saw instead), so a deadline that runs out reports the last answer. No clocks: results are
// ordered by (epoch, seq), which the cluster stamps on every result.

export type Verdict = { ok: true; detail: string } | { ok: false; why: string };
const pass = (detail: string): Verdict => ({ ok: true, detail });
const fail = (why: string): Verdict => ({ ok: false, why });

/** One NATS server as its monitoring port shows it (/healthz status, /varz, /jsz, /routez). */
export interface NatsServerView {
  service: string;
  healthz: number;
  varz: { server_name?: string };
  jsz: { meta_cluster?: { name?: string; leader?: string; cluster_size?: number; replicas?: { name?: string; current?: boolean; offline?: boolean }[] } };
  routez: { num_routes?: number };
}

/**
 * Every server healthy, named as its service, routed to all the others, naming the same JetStream
 * meta leader; and that leader counts every other server as a meta replica that is current and
 * online. Decided from the leader's replicas, not from each server's `cluster_size`: after the meta
 * leader is SIGKILLed and restarted before the others elect a new one, nats-server 2.9.10's
 * followers (and, once seen in CI, the leader too) went on reporting a meta group of 2 while all
 * three servers served the group (reproduced with local servers, 2026-12-06). /healthz 200 is what
 * says a server's own stream and consumer replicas are current.
 */
export function natsClusterFormed(servers: readonly NatsServerView[], expected: { services: readonly string[]; clusterName: string }): Verdict {
  const n = expected.services.length;
  const problems: string[] = [];
  const leaders = new Set<string>();
  for (const service of expected.services) {
    const s = servers.find((x) => x.service === service);
    if (!s) {
      problems.push(`${service}: no answer`);
      continue;
    }
    const meta = s.jsz.meta_cluster ?? {};
    if (s.healthz !== 200) problems.push(`${service}: /healthz ${s.healthz}`);
    if (s.varz.server_name !== service) problems.push(`${service}: server_name ${String(s.varz.server_name)}`);
    if (meta.name !== expected.clusterName) problems.push(`${service}: meta cluster ${String(meta.name)}`);
    if (!meta.leader || !expected.services.includes(meta.leader)) problems.push(`${service}: meta leader ${String(meta.leader)}`);
    else leaders.add(meta.leader);
    if (s.routez.num_routes !== n - 1) problems.push(`${service}: ${String(s.routez.num_routes)} routes`);
  }
  if (leaders.size > 1) problems.push(`the servers name different meta leaders: ${[...leaders].join(', ')}`);
  else if (leaders.size === 1) problems.push(...leaderReplicaProblems(servers, [...leaders][0]!, expected.services));
  const sizes = servers.map((s) => `${s.service} ${String(s.jsz.meta_cluster?.cluster_size)}`).join(', ');
  if (problems.length) return fail(`NATS cluster not formed: ${problems.join('; ')} (meta cluster size as each server counts it: ${sizes})`);
  return pass(`${n} NATS servers, JetStream meta leader ${[...leaders][0]} with ${n - 1} current replicas, ${n - 1} routes each`);
}

/** What the meta leader's own page says is missing: each other server a replica, current, online. */
function leaderReplicaProblems(servers: readonly NatsServerView[], leader: string, services: readonly string[]): string[] {
  const view = servers.find((s) => s.service === leader);
  if (!view) return [];
  const replicas = view.jsz.meta_cluster?.replicas ?? [];
  const problems: string[] = [];
  for (const other of services.filter((s) => s !== leader)) {
    const r = replicas.find((x) => x.name === other);
    if (!r) problems.push(`${leader} (meta leader): ${other} is not a replica`);
    else if (r.offline) problems.push(`${leader} (meta leader): replica ${other} offline`);
    else if (!r.current) problems.push(`${leader} (meta leader): replica ${other} not current`);
  }
  return problems;
}

/** Every expected check id is stored. */
export function specsStored(ids: readonly string[], expected: readonly string[]): Verdict {
  const missing = expected.filter((id) => !ids.includes(id));
  if (missing.length) return fail(`${missing.length} of ${expected.length} specs not stored: ${missing.join(', ')} (stored: ${ids.join(', ') || 'none'})`);
  return pass(`all ${expected.length} specs stored (${ids.length} in all)`);
}

export interface MemberView {
  node: string;
  state: string;
  checks: number;
}
export interface ClusterView {
  leader?: { node: string; term: number } | null;
  assignment?: { epoch: number; members: string[] } | null;
  members?: MemberView[];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * `count` members are alive and they are exactly `nodes`, one of them leads, and the published
 * assignment maps shards to exactly them. (`count` is `nodes.length` unless a run asks otherwise.)
 */
export function membersAre(c: ClusterView, nodes: readonly string[], count = nodes.length): Verdict {
  const alive = (c.members ?? []).filter((m) => m.state === 'alive').map((m) => m.node).sort();
  const seen = `alive ${JSON.stringify(alive)}, leader ${c.leader ? `${c.leader.node} (term ${c.leader.term})` : 'none'}, assignment ${c.assignment ? `epoch ${c.assignment.epoch} over ${JSON.stringify(c.assignment.members)}` : 'none'}`;
  if (alive.length !== count) return fail(`expected ${count} alive members; saw ${seen}`);
  if (!sameSet(alive, nodes)) return fail(`expected alive members ${JSON.stringify([...nodes].sort())}; saw ${seen}`);
  if (!c.leader || !nodes.includes(c.leader.node)) return fail(`no leader among ${JSON.stringify(nodes)}; saw ${seen}`);
  if (!c.assignment || !sameSet(c.assignment.members, nodes)) return fail(`the assignment does not map to exactly ${JSON.stringify(nodes)} yet; saw ${seen}`);
  return pass(seen);
}

export interface ResultView {
  node: string;
  epoch: number;
  seq: number;
}
export interface StateView {
  checkId: string;
  verdict: string;
  lastResult: ResultView | null;
}

/** Each check's last result, by id: what a later probedSince compares with. */
export type Snapshot = Record<string, ResultView>;

export function snapshot(states: readonly StateView[]): Snapshot {
  return Object.fromEntries(states.filter((s) => s.lastResult).map((s) => [s.checkId, { node: s.lastResult!.node, epoch: s.lastResult!.epoch, seq: s.lastResult!.seq }]));
}

/** `a` is a later result of the same check than `b`: (epoch, seq) ordering. */
export const isNewer = (a: ResultView, b: ResultView): boolean => a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq);

/** Every check in `ids` has a result, and the last results come from each of `nodes` (and from no other). */
export function spreadOver(states: readonly StateView[], ids: readonly string[], nodes: readonly string[]): Verdict {
  const byId = new Map(states.map((s) => [s.checkId, s]));
  const unprobed = ids.filter((id) => !byId.get(id)?.lastResult);
  if (unprobed.length) return fail(`${unprobed.length} of ${ids.length} checks have no result yet: ${unprobed.join(', ')}`);
  const count = new Map<string, number>();
  for (const id of ids) count.set(byId.get(id)!.lastResult!.node, (count.get(byId.get(id)!.lastResult!.node) ?? 0) + 1);
  const seen = JSON.stringify(Object.fromEntries([...count].sort()));
  const strangers = [...count.keys()].filter((n) => !nodes.includes(n));
  if (strangers.length) return fail(`results from nodes outside ${JSON.stringify(nodes)}: checks per node ${seen}`);
  const idle = nodes.filter((n) => !count.has(n));
  if (idle.length) return fail(`no check's last result is from ${idle.join(', ')}: checks per node ${seen}`);
  return pass(`${ids.length} checks, last results per node ${seen}`);
}

/** Each check whose spec labels say `expect: up|down` has that verdict. */
export function verdictsAsLabelled(states: readonly StateView[], expected: Readonly<Record<string, 'up' | 'down'>>): Verdict {
  const byId = new Map(states.map((s) => [s.checkId, s.verdict]));
  const wrong = Object.entries(expected).filter(([id, v]) => byId.get(id) !== v);
  if (wrong.length) return fail(`verdicts not as labelled: ${wrong.map(([id, v]) => `${id} is ${byId.get(id) ?? 'absent'}, expected ${v}`).join('; ')}`);
  const count = (v: string) => Object.values(expected).filter((x) => x === v).length;
  return pass(`${Object.keys(expected).length} verdicts as labelled (${count('up')} up, ${count('down')} down)`);
}

/** Every check of `before` has published a later result since, none of them (with `notBy`) from that node. */
export function probedSince(states: readonly StateView[], before: Snapshot, notBy?: string): Verdict {
  const byId = new Map(states.map((s) => [s.checkId, s.lastResult]));
  const behind: string[] = [];
  for (const [id, was] of Object.entries(before)) {
    const now = byId.get(id);
    const show = (r: ResultView) => `${r.node} e${r.epoch}/s${r.seq}`;
    if (!now) behind.push(`${id}: no result`);
    else if (!isNewer(now, was)) behind.push(`${id}: still ${show(now)}`);
    else if (notBy !== undefined && now.node === notBy) behind.push(`${id}: last from ${show(now)}`);
  }
  const ids = Object.keys(before);
  if (behind.length) return fail(`${behind.length} of ${ids.length} checks not probed again${notBy ? ` by a node other than ${notBy}` : ''}: ${behind.join('; ')}`);
  return pass(`all ${ids.length} checks probed again${notBy ? `, none by ${notBy}` : ''}`);
}
