// The compose run's expectations (testkit/compose/expectations.ts), table by table: each must pass
// on what a healthy cluster publishes and fail, naming what it saw, on each way it can be wrong.
import { hostPortEntry } from '../../testkit/compose/compose-file';
import { isNewer, membersAre, natsClusterFormed, probedSince, snapshot, specsStored, spreadOver, verdictsAsLabelled, type ClusterView, type NatsServerView, type StateView } from '../../testkit/compose/expectations';

const SERVICES = ['nats-1', 'nats-2', 'nats-3'];
const replicas = (...names: string[]) => names.map((name) => ({ name, current: true }));
const meta = (leader: string, over: Partial<NonNullable<NatsServerView['jsz']['meta_cluster']>> = {}) => ({ jsz: { meta_cluster: { name: 'lookout', leader, cluster_size: 3, ...over } } });
const server = (service: string, over: Partial<NatsServerView> = {}): NatsServerView => ({
  service,
  healthz: 200,
  varz: { server_name: service },
  ...meta('nats-2', service === 'nats-2' ? { replicas: replicas('nats-1', 'nats-3') } : {}),
  routez: { num_routes: 2 },
  ...over,
});
const formed = SERVICES.map((s) => server(s));
const withLeader = (over: Partial<NatsServerView>) => [formed[0]!, server('nats-2', over), formed[2]!];

describe('natsClusterFormed', () => {
  test.each<[string, NatsServerView[], RegExp | null]>([
    ['three servers, one leader, two routes each', formed, null],
    ['a server missing', formed.slice(0, 2), /nats-3: no answer/],
    ['a server not healthy', [server('nats-1', { healthz: 503 }), ...formed.slice(1)], /nats-1: \/healthz 503/],
    // nats-server 2.9.10 after its meta leader was SIGKILLed and restarted: the followers count 2, the leader serves all
    ['followers counting a meta group of 2', formed.map((s) => (s.service === 'nats-2' ? s : server(s.service, meta('nats-2', { cluster_size: 2 })))), null],
    ['the leader lacks a replica', withLeader(meta('nats-2', { replicas: replicas('nats-1') })), /nats-2 \(meta leader\): nats-3 is not a replica.*meta cluster size as each server counts it: nats-1 3, nats-2 3, nats-3 3/],
    ['a replica not current', withLeader(meta('nats-2', { replicas: [...replicas('nats-1'), { name: 'nats-3', current: false }] })), /replica nats-3 not current/],
    ['a replica offline', withLeader(meta('nats-2', { replicas: [...replicas('nats-1'), { name: 'nats-3', current: true, offline: true }] })), /replica nats-3 offline/],
    ['no meta leader yet', [server('nats-1', { jsz: { meta_cluster: { name: 'lookout', cluster_size: 3 } } }), ...formed.slice(1)], /nats-1: meta leader undefined/],
    ['two leaders named', [server('nats-1', meta('nats-1')), ...formed.slice(1)], /different meta leaders/],
    ['a route missing', [server('nats-1', { routez: { num_routes: 1 } }), ...formed.slice(1)], /nats-1: 1 routes/],
    ['another cluster name', [server('nats-1', meta('nats-2', { name: 'other' })), ...formed.slice(1)], /meta cluster other/],
    ['a server under another name', [server('nats-1', { varz: { server_name: 'x' } }), ...formed.slice(1)], /server_name x/],
  ])('%s', (_, servers, why) => {
    const v = natsClusterFormed(servers, { services: SERVICES, clusterName: 'lookout' });
    if (why === null) expect(v).toEqual({ ok: true, detail: '3 NATS servers, JetStream meta leader nats-2 with 2 current replicas, 2 routes each' });
    else expect(v.ok ? 'passed' : v.why).toMatch(why);
  });
});

test.each<[string, string[], string[], RegExp | null]>([
  ['all stored, more besides', ['a', 'b', 'x'], ['a', 'b'], null],
  ['one missing', ['a'], ['a', 'b'], /1 of 2 specs not stored: b/],
  ['none stored', [], ['a'], /stored: none/],
])('specsStored: %s', (_, ids, expected, why) => {
  const v = specsStored(ids, expected);
  if (why === null) expect(v.ok).toBe(true);
  else expect(v.ok ? 'passed' : v.why).toMatch(why);
});

const NODES = ['lookout-1', 'lookout-2', 'lookout-3'];
const cluster = (alive: string[], over: Partial<ClusterView> = {}): ClusterView => ({
  leader: { node: alive[0]!, term: 3 },
  assignment: { epoch: 7, members: alive },
  members: [...alive.map((node) => ({ node, state: 'alive', checks: 2 })), ...NODES.filter((n) => !alive.includes(n)).map((node) => ({ node, state: 'dead', checks: 0 }))],
  ...over,
});

test.each<[string, ClusterView, string[], number | undefined, RegExp | null]>([
  ['the three alive, led, mapped', cluster(NODES), NODES, undefined, null],
  ['one dead, expected gone', cluster(['lookout-1', 'lookout-3']), ['lookout-1', 'lookout-3'], undefined, null],
  ['one dead, all expected', cluster(['lookout-1', 'lookout-3']), NODES, undefined, /expected 3 alive members; saw alive \["lookout-1","lookout-3"\]/],
  ['a wrong count asked for', cluster(NODES), NODES, 4, /expected 4 alive members/],
  ['no leader', cluster(NODES, { leader: null }), NODES, undefined, /no leader/],
  ['the map still names a dead node', cluster(['lookout-1', 'lookout-3'], { assignment: { epoch: 7, members: NODES } }), ['lookout-1', 'lookout-3'], undefined, /assignment does not map to exactly/],
  ['an unexpected node alive', cluster(['lookout-1', 'lookout-9', 'lookout-3']), NODES, undefined, /expected alive members/],
])('membersAre: %s', (_, c, nodes, count, why) => {
  const v = membersAre(c, nodes, count);
  if (why === null) expect(v.ok).toBe(true);
  else expect(v.ok ? 'passed' : v.why).toMatch(why);
});

const state = (checkId: string, node: string | null, epoch = 1, seq = 1, verdict = 'up'): StateView => ({ checkId, verdict, lastResult: node === null ? null : { node, epoch, seq } });

test.each<[string, StateView[], RegExp | null]>([
  ['each node has a check', [state('a', 'lookout-1'), state('b', 'lookout-2'), state('c', 'lookout-3'), state('d', 'lookout-1')], null],
  ['a node with none', [state('a', 'lookout-1'), state('b', 'lookout-2'), state('c', 'lookout-2')], /no check's last result is from lookout-3/],
  ['a check never probed', [state('a', 'lookout-1'), state('b', 'lookout-2'), state('c', null)], /1 of 3 checks have no result yet: c/],
  ['a stranger probed', [state('a', 'lookout-1'), state('b', 'lookout-2'), state('c', 'lookout-3'), state('d', 'old-node')], /outside/],
])('spreadOver: %s', (_, states, why) => {
  const v = spreadOver(states, states.map((s) => s.checkId), NODES);
  if (why === null) expect(v).toEqual({ ok: true, detail: expect.stringContaining('"lookout-1":2') });
  else expect(v.ok ? 'passed' : v.why).toMatch(why);
});

test.each<[string, StateView[], RegExp | null]>([
  ['as labelled', [state('up1', 'n', 1, 1, 'up'), state('down1', 'n', 1, 1, 'down')], null],
  ['a check down that should be up', [state('up1', 'n', 1, 1, 'down'), state('down1', 'n', 1, 1, 'down')], /up1 is down, expected up/],
  ['a check not there', [state('down1', 'n', 1, 1, 'down')], /up1 is absent/],
])('verdictsAsLabelled: %s', (_, states, why) => {
  const v = verdictsAsLabelled(states, { up1: 'up', down1: 'down' });
  if (why === null) expect(v.ok).toBe(true);
  else expect(v.ok ? 'passed' : v.why).toMatch(why);
});

test.each<[string, [number, number], [number, number], boolean]>([
  ['a higher seq, same epoch', [1, 5], [1, 4], true],
  ['the same result', [1, 4], [1, 4], false],
  ['a later epoch with a lower seq', [2, 1], [1, 9], true],
  ['an older epoch with a higher seq', [1, 9], [2, 1], false],
])('isNewer: %s', (_, [ea, sa], [eb, sb], newer) => {
  expect(isNewer({ node: 'n', epoch: ea, seq: sa }, { node: 'n', epoch: eb, seq: sb })).toBe(newer);
});

describe('probedSince', () => {
  const before = snapshot([state('a', 'lookout-1', 3, 10), state('b', 'lookout-2', 3, 20), state('never', null)]);
  test('the snapshot keeps checks with a result only', () => expect(Object.keys(before)).toEqual(['a', 'b']));
  test.each<[string, StateView[], string | undefined, RegExp | null]>([
    ['every check probed again', [state('a', 'lookout-1', 3, 11), state('b', 'lookout-3', 4, 2)], 'lookout-2', null],
    ['a check not probed again', [state('a', 'lookout-1', 3, 10), state('b', 'lookout-3', 4, 2)], undefined, /1 of 2 checks not probed again: a: still lookout-1 e3\/s10/],
    ['probed again by the killed node', [state('a', 'lookout-1', 3, 11), state('b', 'lookout-2', 3, 21)], 'lookout-2', /by a node other than lookout-2: b: last from lookout-2 e3\/s21/],
    ['a check gone', [state('a', 'lookout-1', 3, 11)], undefined, /b: no result/],
  ])('%s', (_, states, notBy, why) => {
    const v = probedSince(states, before, notBy);
    if (why === null) expect(v.ok).toBe(true);
    else expect(v.ok ? 'passed' : v.why).toMatch(why);
  });
});

test.each<[string, ReturnType<typeof hostPortEntry>]>([
  ['127.0.0.1:${NATS_1_HOST_PORT:-4222}:4222', { name: 'NATS_1_HOST_PORT', default: 4222, container: 4222 }],
  ['127.0.0.1:4222:4222', undefined],
  ['0.0.0.0:${X:-1}:1', undefined],
  ['127.0.0.1:${X}:1', undefined],
  ['127.0.0.1:${x_lower:-1}:1', undefined],
])('hostPortEntry %s', (entry, parsed) => expect(hostPortEntry(entry)).toEqual(parsed));
