// No spec can stall a node's event loop (issue 9, item 1). A real `lookout node` process (so a
// stalled node cannot stall this test), a real nats-server, real HTTP targets. Beside a canary
// check at 1 s, three hostile checks run for several intervals:
//
//   catastrophic  bodyRegex ^(a+)+$ on 10 KiB of "a" + "!": exponential in a backtracking
//                 engine (28 "a" took 15 s), a linear scan in RE2
//   blow-up       a valid RE2 pattern whose automaton blows up, on 1 MiB: ~7 s of NFA work even in
//                 RE2; stopped by the body worker's budget, off the event loop
//   needle        bodyContains of 4 KiB that makes String.includes quadratic, on 1 MiB of "a"
//                 (1.3 s per probe with includes; linear search now)
//
// Decided from what the node published: the canary's consecutive slots step by exactly one
// interval and its seq by one, with no slot missing, over the whole time the hostile checks ran;
// each hostile check is down with the expected reason every time; /metrics counts the blow-up's
// overruns (lookout_body_worker_overruns_total).
import { probeHttp } from '../../checks/http-probe';
import { normalizeSpec } from '../../checks/spec';
import type { Collector } from '../helpers/lookout';
import { startNodeProcess, type NodeProcessFixture } from '../helpers/node-process';
import { waitFor } from '../helpers/poll';
import type { LookoutProcess } from '../helpers/processes';
import { lastEvents, slotReportFromResults } from '../helpers/slot-report';
import type { HttpTarget } from '../helpers/targets';
import { abcText, BLOW_UP } from '../../testkit/hostile-text';

const INTERVAL = 1000;
const HOSTILE_ROUNDS = 5;
const MiB = 1024 * 1024;

const NEEDLE = `ab${'a'.repeat(4094)}`;

let f: NodeProcessFixture;
let target: HttpTarget;
let node: LookoutProcess;
let events: Collector;
let put: NodeProcessFixture['put'];

beforeAll(async () => {
  f = await startNodeProcess({
    routes: {
      '/canary': { body: 'ok' },
      '/catastrophic': { body: `${'a'.repeat(10 * 1024)}!` },
      '/blow-up': { body: abcText(MiB) },
      '/needle': { body: 'a'.repeat(MiB) },
    },
  });
  ({ target, node, events, put } = f);
});

afterAll(() => f?.close());

const http = (path: string, options: object) => ({ kind: 'http', target: `${target.url}${path}`, intervalMs: INTERVAL, timeoutMs: 900, http: options });

test('a canary at 1 s keeps every slot while hostile regexes and needles run beside it', async () => {
  await waitFor('the node answers spec requests', async () => (await put('canary', { kind: 'http', target: `${target.url}/canary`, intervalMs: INTERVAL, timeoutMs: 500 })).ok);
  await waitFor('two canary results', () => events.results('canary').length >= 2);

  const hostile: Record<string, { spec: object; message: RegExp }> = {
    catastrophic: { spec: http('/catastrophic', { bodyRegex: '^(a+)+$' }), message: /^body does not match \/\^\(a\+\)\+\$\/$/ },
    'blow-up': { spec: http('/blow-up', { bodyRegex: BLOW_UP, maxBodyBytes: MiB }), message: /^bodyRegex \/.+\/ was stopped after 200 ms on 1048576 characters of body/ },
    needle: { spec: http('/needle', { bodyContains: NEEDLE, maxBodyBytes: MiB }), message: /^body does not contain "abaaaa/ },
  };
  for (const [id, { spec }] of Object.entries(hostile)) expect(await put(id, spec)).toMatchObject({ ok: true, id });

  const ids = Object.keys(hostile);
  await waitFor(
    `${HOSTILE_ROUNDS} results of each hostile check`,
    () => {
      const counts = ids.map((id) => `${id}: ${events.results(id).length}`);
      if (ids.some((id) => events.results(id).length < HOSTILE_ROUNDS)) throw new Error(`${counts.join(', ')}; canary: ${events.results('canary').length}`);
      return true;
    },
    { timeoutMs: 40_000 },
  );

  for (const [id, { message }] of Object.entries(hostile)) {
    for (const r of events.results(id)) expect({ id, ok: r.ok, reason: r.reason, message: r.message }).toEqual({ id, ok: false, reason: 'body', message: expect.stringMatching(message) });
  }
  expect(target.hits('/catastrophic')).toBeGreaterThanOrEqual(HOSTILE_ROUNDS);

  // The window: from the first hostile probe's slot to the last one's, plus one interval.
  const hostileSlots = ids.flatMap((id) => events.results(id).map((r) => r.slot as number));
  const from = Math.min(...hostileSlots);
  const to = Math.max(...hostileSlots) + INTERVAL;
  await waitFor('the canary reaches the end of the window', () => events.results('canary').some((r) => r.slot >= to));
  const report = slotReportFromResults(events, ['canary'], INTERVAL, { from, to });
  const detail = `\n${lastEvents(events, ['canary', ...ids], 12, 4)}`;
  expect({ gaps: report.gaps, seqBreaks: report.seqBreaks, duplicates: report.duplicates, skipped: report.skipped, detail: '' }).toEqual({
    gaps: [],
    seqBreaks: [],
    duplicates: [],
    skipped: [],
    detail: report.offenders.length ? detail : '',
  });
  // (Checks have their own phases: the window holds ⌊(to − from) / interval⌋ canary slots or one more.)
  expect(report.results).toBeGreaterThanOrEqual(Math.floor((to - from) / INTERVAL));
  expect(events.results('canary').every((r) => r.ok)).toBe(true);

  // The node counts what its body worker stopped (why=budget) and refused from memory
  // (why=remembered) on /metrics: each blow-up probe is one or the other.
  const listening = node.logs().find((l) => l.event === 'http_listening');
  expect(listening?.port).toEqual(expect.any(Number));
  const overruns = async (why: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${listening.port}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('lookout_body_worker_overruns_total{') && l.includes('assertion="bodyRegex"') && l.includes(`why="${why}"`));
    return Number(line?.split(' ').pop());
  };
  const blowUps = events.results('blow-up').length;
  const counted = await waitFor(
    `lookout_body_worker_overruns_total for the ${blowUps} blow-up probes`,
    async () => ({ budget: await overruns('budget'), remembered: await overruns('remembered') }),
    { until: (c) => c.budget + c.remembered >= blowUps },
  );
  expect(counted.budget).toBeGreaterThanOrEqual(1);
  expect(counted.remembered).toBeGreaterThanOrEqual(1);

  // The same probes called directly (this process's own body worker) end the same way.
  const direct = async (path: string, options: object) => (await probeHttp(normalizeSpec('direct', http(path, options) as never))).message;
  expect(await direct('/catastrophic', { bodyRegex: '^(a+)+$' })).toMatch(hostile.catastrophic!.message);
  expect(await direct('/blow-up', { bodyRegex: BLOW_UP, maxBodyBytes: MiB })).toMatch(hostile['blow-up']!.message);
});
