// `lookout cluster` as printed (cli/format.ts): the CLOCK column and the clock line; a member the
// leader holds out because it flaps reads "alive (damped)" with no shards, and the report names the
// damped members.
import { formatCluster, formatSkew, WatchTable, type ClusterStatusReply, type WatchEvent } from '../../cli/format';

test.each([
  [null, '-'],
  [undefined, '-'],
  [0, '+0ms'],
  [12.4, '+12ms'],
  [-999, '-999ms'],
  [-0.4, '+0ms'],
  [-999.6, '-1000ms'],
  [-1000, '-1.0s'],
  [-30_012, '-30.0s'],
  [2_560, '+2.6s'],
])('formatSkew(%p) = %p', (ms, want) => {
  expect(formatSkew(ms)).toBe(want);
});

const member = (node: string, clockSkewMs: number | null) => ({ node, state: 'alive', incarnation: 0, version: '0.1.0', shards: { primary: 1, total: 3 }, checks: 2, clockOffsetMs: clockSkewMs, clockSkewMs });

test.each<[string, ClusterStatusReply, string, string[]]>([
  ['one node 30 s behind', { clock: { boundMs: 1000 }, members: [member('a', 0), member('b', 3), member('c', -30_000)] }, "c off by -30.0s (bound ±1000 ms from the members' median)", ['+0ms', '+3ms', '-30.0s !']],
  ['in step', { clock: { boundMs: 1000 }, members: [member('a', 0), member('b', -1000)] }, "in step (bound ±1000 ms from the members' median)", ['+0ms', '-1.0s']],
  ['no estimate yet', { clock: { boundMs: 1000 }, members: [member('a', null)] }, 'no estimate yet', ['-']],
  ['an older node answering (no clock fields)', { members: [{ node: 'a', state: 'alive', incarnation: 0, version: '0.0.9', checks: 0 }] }, 'no estimate yet', ['-']],
])('%s', (_name, reply, line, column) => {
  const out = formatCluster(reply);
  expect(out).toContain(`\nclock        ${line}\n`);
  const lines = out.split('\n');
  const header = lines.findIndex((l) => l.startsWith('NODE'));
  expect(lines[header]).toMatch(/^NODE\s+STATE\s+INCARNATION\s+PRIMARY\s+SHARDS\s+CHECKS\s+LAG\s+CLOCK\s+VERSION$/);
  const at = lines[header]!.indexOf('VERSION');
  // CLOCK is right-aligned just before VERSION.
  expect(lines.slice(header + 1, header + 1 + column.length).map((l) => l.slice(0, at).trim().split(/\s{2,}/).at(-1))).toEqual(column);
});

const dampable = (node: string, total: number, damped?: boolean) => ({ node, state: 'alive', incarnation: 0, version: '1.0.0', shards: { primary: total / 2, total }, checks: total, ...(damped === undefined ? {} : { damped }) });

test('a damped member is shown as such, and the report lists the damped members', () => {
  const out = formatCluster({
    answeredBy: 'a',
    leader: { node: 'a', term: 3 },
    assignment: { epoch: 7, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a', 'b'], damped: ['c'] },
    members: [dampable('a', 8, false), dampable('b', 8, false), dampable('c', 0, true)],
  });
  expect(out).toMatch(/^damped\s+c \(flapping: no shards until stable\)$/m);
  expect(out).toMatch(/^c\s+alive \(damped\)\s+0\s+0\s+0\s+0\s+-\s+-\s+1\.0\.0$/m);
  expect(out).toMatch(/^a\s+alive\s+0\s+4\s+8\s+8\s+-\s+-\s+1\.0\.0$/m);
});

test('a reply without damping (an older node) prints as before', () => {
  const out = formatCluster({ leader: { node: 'a', term: 3 }, assignment: { epoch: 7, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a'] }, members: [dampable('a', 8)] });
  expect(out).not.toMatch(/damped/);
});

test('an overloaded member reads "alive (overloaded)" with its lag; the report names the overloaded and the relieved', () => {
  const out = formatCluster({
    answeredBy: 'a',
    leader: { node: 'a', term: 3 },
    assignment: { epoch: 8, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a', 'b'], relieved: ['b'] },
    members: [
      { ...dampable('a', 8), overloaded: false, lagMs: 3 },
      { ...dampable('b', 8), overloaded: true, lagMs: 1_450, relieved: true },
    ],
  });
  expect(out).toMatch(/^overloaded\s+b \(event loop lagging: timeouts it causes are inconclusive\)$/m);
  expect(out).toMatch(/^relieved\s+b \(fewer primary shards until no longer overloaded\)$/m);
  expect(out).toMatch(/^b\s+alive \(overloaded\)\s+0\s+4\s+8\s+8\s+1\.4s\s+-\s+1\.0\.0$/m);
  expect(out).toMatch(/^a\s+alive\s+0\s+4\s+8\s+8\s+3ms\s+-\s+1\.0\.0$/m);
});

test('a quarantined member reads "alive (quarantined)", one past the bound "alive (quarantine refused)"; the report names both', () => {
  const out = formatCluster({
    answeredBy: 'a',
    leader: { node: 'a', term: 3 },
    assignment: { epoch: 9, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a', 'c'], quarantined: ['b'], quarantineRefused: ['c'] },
    members: [dampable('a', 8), { ...dampable('b', 0), quarantined: true }, { ...dampable('c', 8), quarantined: true, quarantineRefused: true }],
  });
  expect(out).toMatch(/^quarantined\s+b \(its probes disagree with the others': no shards until healthy again\)$/m);
  expect(out).toMatch(/^refused\s+c \(quarantined itself past the bound: keeps its shards\)$/m);
  expect(out).toMatch(/^b\s+alive \(quarantined\)\s/m);
  expect(out).toMatch(/^c\s+alive \(quarantine refused\)\s/m);
});

test('a restart still loading its specs reads "alive (returning)", a first life starting "alive (starting)"', () => {
  const out = formatCluster({
    answeredBy: 'a',
    leader: { node: 'a', term: 3 },
    assignment: { epoch: 9, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a', 'b', 'c'] },
    members: [dampable('a', 8), { ...dampable('b', 8), starting: true, returning: true }, { ...dampable('c', 8), starting: true }],
  });
  expect(out).toMatch(/^b\s+alive \(returning\)\s/m);
  expect(out).toMatch(/^c\s+alive \(starting\)\s/m);
  expect(out).toMatch(/^a\s+alive\s/m);
});

test('lookout watch shows an inconclusive result as "??" with the verdict it left as it was', () => {
  const msg = { checkId: 'api', ok: false, status: 'up', latencyMs: 1_250, reason: 'inconclusive', message: 'node overloaded: …', node: 'n1', at: '2026-01-01T00:00:00.000Z', epoch: 3, seq: 9, vantage: 0 };
  const row = new WatchTable().row({ kind: 'result', msg } as WatchEvent);
  expect(row).toMatch(/\s\?\? up\s+1250ms\s+inconclusive\s+3:9\s+node overloaded/);
  expect(new WatchTable().row({ kind: 'result', msg: { ...msg, reason: 'timeout' } } as WatchEvent)).toMatch(/\sFAIL up\s/);
});
