// `lookout cluster`'s report (cli/format.ts formatCluster): a member the leader holds out because
// it flaps reads "alive (damped)" with no shards, and the report names the damped members.
import { formatCluster } from '../../cli/format';

const member = (node: string, total: number, damped?: boolean) => ({ node, state: 'alive', incarnation: 0, version: '1.0.0', shards: { primary: total / 2, total }, checks: total, ...(damped === undefined ? {} : { damped }) });

test('a damped member is shown as such, and the report lists the damped members', () => {
  const out = formatCluster({
    answeredBy: 'a',
    leader: { node: 'a', term: 3 },
    assignment: { epoch: 7, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a', 'b'], damped: ['c'] },
    members: [member('a', 8, false), member('b', 8, false), member('c', 0, true)],
  });
  expect(out).toMatch(/^damped\s+c \(flapping: no shards until stable\)$/m);
  expect(out).toMatch(/^c\s+alive \(damped\)\s+0\s+0\s+0\s+0\s+1\.0\.0$/m);
  expect(out).toMatch(/^a\s+alive\s+0\s+4\s+8\s+8\s+1\.0\.0$/m);
});

test('a reply without damping (an older node) prints as before', () => {
  const out = formatCluster({ leader: { node: 'a', term: 3 }, assignment: { epoch: 7, term: 3, leader: 'a', at: '2026-01-01T00:00:00.000Z', members: ['a'] }, members: [member('a', 8)] });
  expect(out).not.toMatch(/damped/);
});
