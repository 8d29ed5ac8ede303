// A paused leader (SIGSTOP) in a cluster of `lookout node` processes on its own nats-server,
// target and nodes: another node wins a higher term meanwhile; when the old leader wakes
// (SIGCONT) it steps down on its own, writes no map, and no node follows a map of its old term
// after the new term's map.
import { scenarioTest } from '../helpers/scenario';
import { waitFor } from '../helpers/poll';

const NODES = ['n1', 'n2', 'n3'];

scenarioTest('SIGSTOP the leader past its lease, then SIGCONT: another node leads meanwhile; the old leader does not act, and its old term is refused', { nodes: NODES, checks: 30 }, async (s) => {
  const st = await s.cluster.status();
  const old = st.leader.node as string;
  const oldTerm = st.leader.term as number;
  const others = NODES.filter((n) => n !== old);
  const seen = s.cluster.leaderEvents().length;
  s.cluster.signal(old, 'SIGSTOP');
  const elected = await waitFor('another leader while the old one is stopped', () => {
    const e = s.cluster.leaderEvents().slice(seen).find((x) => x.event === 'elected' && x.node !== old && x.term > oldTerm);
    if (!e) throw new Error(`leader events since the stop: ${JSON.stringify(s.cluster.leaderEvents().slice(seen))}`);
    return e;
  });
  // Keep it stopped until the new leader has published a map of its term and both other nodes
  // follow it: by then the old lease is long gone (no clock is read to decide this).
  await waitFor('the other nodes follow a map of the new term', () => {
    const behind = others.filter((id) => !s.cluster.logs(id).some((l) => l.event === 'assignment_followed' && l.term >= elected.term));
    if (behind.length) throw new Error(`not yet following term ${elected.term}: ${behind.join(', ')}`);
    return true;
  });
  const wokeAt = Date.now();
  s.cluster.signal(old, 'SIGCONT');
  const stepDown = await waitFor('the old leader notices its lease is gone', () => {
    const l = s.cluster.logs(old).find((x) => x.event === 'leader_stepped_down' && Date.parse(x.time) >= wokeAt);
    if (!l) throw new Error(`${old}'s last log lines: ${JSON.stringify(s.cluster.logs(old).slice(-3).map((x) => x.event))}`);
    return l;
  });
  expect(stepDown.reason).toBe('lease expired');
  await s.cluster.settled(NODES);
  // Any node may answer cluster.status; the one that was paused may answer from its own stale view
  // until it reads the new lease record, so wait for an answer that names the new leader.
  const now = await waitFor('cluster.status naming the new leader and term', () => s.cluster.status(), {
    until: (st) => st.leader?.node !== old && st.assignment?.term >= elected.term,
  });
  expect(now.assignment.term).toBeGreaterThanOrEqual(elected.term);
  expect(now.leader.node).not.toBe(old);
  // The old leader wrote no map after waking, and no node followed a map of its old term after the new term's map.
  expect(s.cluster.logs(old).filter((l) => l.event === 'assignment_written' && Date.parse(l.time) >= wokeAt)).toEqual([]);
  await waitFor('every node follows a map of the new term', () => {
    const behind = NODES.filter((id) => !s.cluster.logs(id).some((l) => l.event === 'assignment_followed' && l.term >= elected.term));
    if (behind.length) throw new Error(`not yet following term ${elected.term}: ${behind.join(', ')}`);
    return true;
  });
  for (const id of NODES) {
    const follows = s.cluster.logs(id).filter((l) => l.event === 'assignment_followed');
    const firstNew = follows.findIndex((l) => l.term >= elected.term);
    expect(firstNew).toBeGreaterThanOrEqual(0);
    expect(follows.slice(firstNew).filter((l) => l.term < elected.term)).toEqual([]);
  }
  expect(s.cluster.assignmentEvents().filter((e) => e.term === oldTerm && Date.parse(e.at) >= wokeAt)).toEqual([]);
});
