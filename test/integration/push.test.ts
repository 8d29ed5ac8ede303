// Push checks end to end (README, *Push checks*): real `lookout node` processes on their own
// nats-server. A job that reports on `lookout.push.<id>` or through a node's HTTP push endpoint
// keeps its check up; when it stops, the owner publishes `missed`; a fail signal makes the check
// down with the job's message; start + ok reports a run's duration; a token keeps other reports
// out; and a graceful handover between two nodes keeps the deadline (the new owner continues the
// age of the last report). Every decision is read from what the nodes published (seq, reason,
// `push.lastReportAgoMs`), never from when it arrived.
import { waitFor } from '../helpers/poll';
import { request } from '../helpers/lookout';
import { scenarioTest, type Scenario } from '../helpers/scenario';

const I = 1000;

/** The HTTP port node `id` listens on (its `http_listening` log line). */
async function httpPort(s: Scenario, id: string): Promise<number> {
  return waitFor(`${id}'s HTTP port`, () => s.cluster.logs(id).find((l) => l.event === 'http_listening')?.port as number | undefined);
}

async function put(s: Scenario, id: string, spec: object): Promise<void> {
  expect(await request(s.cluster.nc, `lookout.spec.put.${id}`, spec)).toMatchObject({ ok: true, id });
}

/** A job reporting on NATS every `everyMs` until stopped (the job's own cadence, not a wait). */
function natsJob(s: Scenario, id: string, everyMs: number, payload = ''): () => void {
  const t = setInterval(() => s.cluster.nc.publish(`lookout.push.${id}`, payload), everyMs);
  return () => clearInterval(t);
}

const http = (port: number, path: string, init: RequestInit = {}) => fetch(`http://127.0.0.1:${port}${path}`, init).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));

scenarioTest('a job reporting on NATS keeps its push check up; when it stops, missed with the age of its last report', { nodes: ['n1'] }, async (s) => {
  await put(s, 'nightly', { kind: 'push', intervalMs: I, push: { graceMs: 2000 } });
  const stop = natsJob(s, 'nightly', 300);
  s.onCleanup(stop);
  const up = await waitFor('three ok results in a row after up', () => s.events.results('nightly'), { until: (rs) => rs.filter((r) => r.ok && r.status === 'up').length >= 3, timeoutMs: 60_000 });
  const ok = up.filter((r) => r.ok);
  expect(ok.at(-1)).toMatchObject({ kind: 'push', target: '', reason: null, push: { signal: 'ok', running: false, runMs: null } });
  expect(ok.every((r) => r.push.lastReportAgoMs !== null && r.push.lastReportAgoMs <= 3000)).toBe(true);
  stop();
  const lastOkSeq = s.events.results('nightly').at(-1).seq;
  const missed = await waitFor('a missed result', () => s.events.results('nightly').find((r) => r.reason === 'missed' && r.seq > lastOkSeq));
  expect(missed).toMatchObject({ ok: false, status: 'down', push: { signal: 'ok' } });
  expect(missed.push.lastReportAgoMs).toBeGreaterThan(3000); // past intervalMs + graceMs
  expect(missed.message).toMatch(/^no report for \d+ ms: the deadline is intervalMs \+ graceMs = 3000 ms$/);
  await waitFor('the down transition with reason missed', () => s.events.statuses('nightly').find((x) => x.to === 'down' && x.reason === 'missed'));
});

scenarioTest('a long period looked at every second: a fail is published at the next evaluation; the missed verdict comes from the period, not the cadence', { nodes: ['n1'] }, async (s) => {
  const PERIOD = 20_000;
  const EVERY = 1000;
  await put(s, 'daily', { kind: 'push', intervalMs: PERIOD, push: { graceMs: 0, checkEveryMs: EVERY } });
  // A report sent before the owner keeps the deadline reaches no one (not_owned): wait for its first evaluation.
  const first = await waitFor('a first result', () => s.events.results('daily')[0], { timeoutMs: 60_000 });
  expect(first).toMatchObject({ reason: 'inconclusive', intervalMs: EVERY, push: { lastReportAgoMs: null } });
  s.cluster.nc.publish('lookout.push.daily', '');
  const up = await waitFor('an up result that heard the ok', () => s.events.results('daily').find((r) => r.ok && r.status === 'up' && r.push.signal === 'ok'), { timeoutMs: 60_000 });

  // fail: the first evaluation that heard it publishes reported_fail, long before a period has passed.
  s.cluster.nc.publish('lookout.push.daily', '{"signal":"fail","message":"backup failed"}');
  const failed = await waitFor('the first result that heard the fail', () => s.events.results('daily').find((r) => r.seq > up.seq && r.push.signal === 'fail'));
  expect(failed).toMatchObject({ ok: false, status: 'down', reason: 'reported_fail', message: 'backup failed', intervalMs: EVERY });
  expect(failed.push.lastReportAgoMs).toBeLessThan(PERIOD);

  // ok again, then silence: up at every evaluation while the ok is younger than the period, then missed.
  s.cluster.nc.publish('lookout.push.daily', '');
  const okAgain = await waitFor('up again', () => s.events.results('daily').find((r) => r.seq > failed.seq && r.ok && r.status === 'up'));
  const missed = await waitFor('a missed result', () => s.events.results('daily').find((r) => r.seq > okAgain.seq && r.reason === 'missed'), { timeoutMs: 90_000 });
  const between = s.events.results('daily').filter((r) => r.seq >= okAgain.seq && r.seq < missed.seq);
  // One result per evaluation (seq per slot), each at the cadence, all up while the report was younger than the period.
  expect(between.map((r) => r.seq)).toEqual(between.map((_, k) => okAgain.seq + k));
  expect(between.every((r) => r.intervalMs === EVERY && r.ok && r.push.lastReportAgoMs <= PERIOD)).toBe(true);
  // Up results well past one cadence after the report: the cadence is not the deadline.
  expect(between.filter((r) => r.push.lastReportAgoMs > 2 * EVERY).length).toBeGreaterThan(0);
  // Missed at the first evaluation past the period (the one before it was still within it), the deadline named from the period.
  expect(missed).toMatchObject({ ok: false, status: 'down', intervalMs: EVERY, push: { signal: 'ok' } });
  expect(missed.seq).toBe(between.at(-1).seq + 1);
  expect(missed.push.lastReportAgoMs).toBeGreaterThan(PERIOD);
  expect(missed.message).toBe(`no report for ${missed.push.lastReportAgoMs} ms: the deadline is intervalMs + graceMs = ${PERIOD} ms`);
});

scenarioTest('over HTTP: ok keeps it up, fail makes it down with the job\'s message, start + ok reports the run, a token keeps others out', { nodes: ['n1'] }, async (s) => {
  const port = await httpPort(s, 'n1');
  await put(s, 'backup', { kind: 'push', intervalMs: I, push: { graceMs: 3000 } });
  // The job reports every 300 ms (under LOOKOUT_PUSH_PER_SECOND, 5); each request is answered before the next report below is sent (one node, one connection: published in order).
  const inFlight = new Set<Promise<unknown>>();
  const job = setInterval(() => {
    const p = http(port, '/push/backup', { method: 'POST' }).catch(() => {});
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }, 300);
  s.onCleanup(() => clearInterval(job));
  expect(await http(port, '/push/backup')).toEqual({ status: 202, body: { ok: true, id: 'backup', signal: 'ok' } });
  await waitFor('up', () => s.events.statuses('backup').find((x) => x.to === 'up'));
  clearInterval(job);
  await Promise.all(inFlight);

  // fail: down at the next evaluation, with the job's message (sanitized), until an ok.
  const before = s.events.results('backup').at(-1).seq;
  expect(await http(port, '/push/backup/fail', { method: 'POST', body: 'disk\nfull' })).toMatchObject({ status: 202, body: { signal: 'fail' } });
  const failed = await waitFor('a reported_fail result', () => s.events.results('backup').find((r) => r.seq > before && r.reason === 'reported_fail'));
  expect(failed).toMatchObject({ ok: false, status: 'down', message: 'disk full', push: { signal: 'fail' } });
  await waitFor('the down transition', () => s.events.statuses('backup').find((x) => x.to === 'down' && x.reason === 'reported_fail'));

  // start, then ok: up again, with the run's duration.
  expect((await http(port, '/push/backup/start')).status).toBe(202);
  const started = await waitFor('a result of the open run', () => s.events.results('backup').find((r) => r.seq > failed.seq && r.push.running === true));
  expect(started).toMatchObject({ ok: true, push: { signal: 'start' } });
  expect((await http(port, '/push/backup', { method: 'POST' })).status).toBe(202);
  const ran = await waitFor('a result with the run\'s duration', () => s.events.results('backup').find((r) => r.seq > started.seq && r.push.runMs !== null));
  expect(ran).toMatchObject({ ok: true, push: { signal: 'ok', running: false } });
  expect(ran.push.runMs).toBeGreaterThanOrEqual(0);
  await waitFor('up again', () => s.events.statuses('backup').find((x) => x.to === 'up' && x.seq > failed.seq));

  // Hostile requests: a bad id, an oversized body; and an id nobody holds is published anyway.
  expect(await http(port, '/push/a.b')).toMatchObject({ status: 400, body: { ok: false, error: { code: 'invalid_id' } } });
  expect(await http(port, '/push/backup', { method: 'POST', body: 'x'.repeat(5000) })).toMatchObject({ status: 413, body: { error: { code: 'too_large' } } });
  expect(await http(port, '/push/nobody-has-this')).toMatchObject({ status: 202 });

  // A token: a report without it (or with another) is ignored and counted; with it, accepted.
  await put(s, 'guarded', { kind: 'push', intervalMs: I, push: { token: 'abcdefghijklmnop' } });
  await waitFor('a first result of the guarded check', () => s.events.results('guarded')[0]);
  const count = async (outcome: string) => {
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    return Number(new RegExp(`lookout_push_reports_total\\{outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };
  const badBefore = await count('bad_token');
  expect((await http(port, '/push/guarded?token=wrong-token-0000000')).status).toBe(202);
  await waitFor('the wrong token counted', () => count('bad_token'), { until: (n) => n > badBefore });
  expect((await http(port, '/push/guarded', { headers: { 'X-Lookout-Push-Token': 'abcdefghijklmnop' } })).status).toBe(202);
  const seen = await waitFor('a result that heard the right token', () => s.events.results('guarded').find((r) => r.push.signal === 'ok'));
  expect(JSON.stringify(seen)).not.toContain('abcdefghijklmnop');
});

scenarioTest('a graceful handover keeps the deadline: the new owner continues the age of the last report, seq continues', { nodes: ['n1', 'n2'] }, async (s) => {
  await put(s, 'moving', { kind: 'push', intervalMs: I, push: { graceMs: 60_000 } });
  const first = await waitFor('a first result', () => s.events.results('moving')[0]);
  s.cluster.nc.publish('lookout.push.moving', '{"message":"only report"}');
  const heard = await waitFor('a result that heard the report', () => s.events.results('moving').find((r) => r.push.lastReportAgoMs !== null));
  const owner = heard.node as string;
  const other = owner === 'n1' ? 'n2' : 'n1';
  expect(first.push.lastReportAgoMs).toBeNull();

  s.cluster.signal(owner, 'SIGTERM');
  expect(await s.cluster.nodes.get(owner)!.proc.exited).toBe(0);
  s.cluster.nodes.delete(owner);
  const byNew = await waitFor(`a result from ${other}`, () => s.events.results('moving').find((r) => r.node === other));
  const fromOld = s.events.results('moving').filter((r) => r.node === owner);
  const lastOld = fromOld.at(-1);
  // Without the carried age the new owner would say it never heard a report (null).
  expect(byNew.push).toMatchObject({ signal: 'ok' });
  expect(byNew.push.lastReportAgoMs).toBeGreaterThan(lastOld.push.lastReportAgoMs);
  expect(byNew.seq).toBe(lastOld.seq + 1);
  expect(byNew.ok).toBe(true);
});

scenarioTest('SIGKILL the owner: a job still reporting keeps its check up on the new owner; a silent one goes missed only a full interval + grace after the takeover', { nodes: ['n1', 'n2'] }, async (s) => {
  // Twelve of each, so that some node surely owns one of each (where a check runs is the map's choice).
  // Every job reports until all 24 checks are up (a report that arrives before its owner has loaded
  // the spec is not heard: `not_owned`); then one "silent" check on the victim stops reporting just
  // before the kill, and every other job goes on, so that one check alone may go down (and no mass of
  // downs can trip the panic guard, however long the machine takes to get there).
  const alive = Array.from({ length: 12 }, (_, i) => `alive-${i}`);
  const silent = Array.from({ length: 12 }, (_, i) => `silent-${i}`);
  for (const id of alive) await put(s, id, { kind: 'push', intervalMs: I, push: { graceMs: 3000 } });
  for (const id of silent) await put(s, id, { kind: 'push', intervalMs: I, push: { graceMs: 8000 } });
  const all = [...alive, ...silent];
  const stopped = new Set<string>();
  const timer = setInterval(() => {
    for (const id of all) if (!stopped.has(id)) s.cluster.nc.publish(`lookout.push.${id}`, '');
  }, 300);
  s.onCleanup(() => clearInterval(timer));
  await waitFor('every check up', () => all.filter((id) => !s.events.statuses(id).some((x) => x.to === 'up')), { until: (left) => left.length === 0 });
  const ownerOf = (id: string) => s.events.results(id).at(-1).node as string;
  const victim = ['n1', 'n2'].find((n) => alive.some((id) => ownerOf(id) === n) && silent.some((id) => ownerOf(id) === n))!;
  expect(victim).toBeDefined();
  const survivor = victim === 'n1' ? 'n2' : 'n1';
  const a = alive.find((id) => ownerOf(id) === victim)!;
  const q = silent.find((id) => ownerOf(id) === victim)!;
  stopped.add(q);
  const seqAtKill = s.events.results(q).at(-1).seq;
  await s.cluster.kill(victim);

  // The silent check: the new owner heard nothing; inconclusive (the verdict stays up) until its own
  // interval + grace has passed, then missed, measured on its clock since it took the check over.
  const missed = await waitFor(`${q} missed on the new owner`, () => s.events.results(q).find((r) => r.node === survivor && r.reason === 'missed'), { timeoutMs: 60_000 });
  const taken = s.events.results(q).filter((r) => r.node === survivor && r.seq < missed.seq);
  expect(taken.length).toBeGreaterThan(0);
  expect(taken.every((r) => r.reason === 'inconclusive' && r.status === 'up' && r.push.lastReportAgoMs === null)).toBe(true);
  expect(missed.message).toMatch(/^no report in the (\d+) ms this node has kept the deadline \(intervalMs \+ graceMs = 9000 ms\)$/);
  expect(Number(/in the (\d+) ms/.exec(missed.message)![1])).toBeGreaterThan(9000);
  expect(s.events.statuses(q).filter((x) => x.to === 'down' && x.seq > seqAtKill).map((x) => x.seq)).toEqual([missed.seq]);

  // The check whose job still reports: the new owner hears it, and no check but the silent one went down.
  const heard = await waitFor(`${a} ok on the new owner`, () => s.events.results(a).find((r) => r.node === survivor && r.ok));
  expect(heard.push.lastReportAgoMs).not.toBeNull();
  expect(all.filter((id) => id !== q).flatMap((id) => s.events.statuses(id).filter((x) => x.to === 'down'))).toEqual([]);
});
