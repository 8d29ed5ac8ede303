// What a hostile target's answer can cost a node (issue 9, items 1 and 6); the sibling of
// redos.test.ts, whose hostile input is the spec. Each scenario has its own fixture:
//
//   hostile JSON  checks at 1 s with a json assertion, whose target answers 1 MiB of nested empty
//                 arrays: JSON.parse costs ~50-200 ms of it per probe whatever the path asks, so
//                 on the event loop HOSTILE_CHECKS of them keep the loop busy for more than every
//                 second. In the body worker the loop stays free: a canary at 1 s — with a json
//                 assertion of its own on 8 KiB, so it needs the same worker — keeps every slot and
//                 passes.
//                 Decided from what the node published: the canary's consecutive slots step by
//                 exactly one interval and its seq by one over the whole hostile window.
//   TCP expect    a 4 KiB `expect` of "a"s with one "b" against 1 MiB of "a": Buffer.indexOf costs
//                 O(bytes × needle) there (~1.1 s); side by side in this run, the whole probe
//                 (network included) takes less than a third of what Buffer.indexOf alone takes.
import { performance } from 'node:perf_hooks';
import { probeHttp } from '../../checks/http-probe';
import { normalizeSpec } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import type { Collector } from '../helpers/lookout';
import { startNodeProcess, type NodeProcessFixture } from '../helpers/node-process';
import { waitFor } from '../helpers/poll';
import { lastEvents, slotReportFromResults } from '../helpers/slot-report';
import { startTcpTarget, type HttpTarget, type TcpTarget } from '../helpers/targets';

const INTERVAL = 1000;
const MiB = 1024 * 1024;
/** Hostile checks beside the canary: ~1.5-3 s of JSON.parse per second between them. */
const HOSTILE_CHECKS = 16;
const HOSTILE_ROUNDS = 5;

/** The canary's answer: 8 KiB, past BODY_SMALL_CHARS, so the body worker evaluates it too. */
const CANARY_JSON = JSON.stringify({ status: 'up', pad: 'x'.repeat(8 * 1024) });
/** 1 MiB of JSON that is costly to parse: runs of 256 nested empty arrays. */
const HOSTILE_JSON = `[${Array(Math.floor(MiB / 513)).fill(`${'['.repeat(256)}${']'.repeat(256)}`).join(',')}]`;

describe('hostile JSON beside a canary (a real node process)', () => {
  let f: NodeProcessFixture;
  let target: HttpTarget;
  let events: Collector;
  let put: NodeProcessFixture['put'];

  beforeAll(async () => {
    f = await startNodeProcess({ routes: { '/canary': { body: CANARY_JSON }, '/small': { body: '{"status":"up","n":[1,2]}' }, '/hostile': { body: HOSTILE_JSON } } });
    ({ target, events, put } = f);
  });

  afterAll(() => f?.close());

  const json = [{ path: '$.status', equals: 'up' }];

  test(`a canary with a json assertion keeps every slot while ${HOSTILE_CHECKS} checks parse hostile JSON every second`, async () => {
    // The canary may wait behind one hostile job already running in the worker (up to its 200 ms
    // budget, longer on a loaded machine): its timeout leaves room for that, as the hostile ones' does.
    const canary = { kind: 'http', target: `${target.url}/canary`, intervalMs: INTERVAL, timeoutMs: 900, http: { json } };
    await waitFor('the node answers spec requests', async () => (await put('canary', canary)).ok);
    await waitFor('two canary results', () => events.results('canary').length >= 2);

    const ids = Array.from({ length: HOSTILE_CHECKS }, (_, i) => `hostile-${i}`);
    const hostile = { kind: 'http', target: `${target.url}/hostile`, intervalMs: INTERVAL, timeoutMs: 900, http: { json, maxBodyBytes: MiB } };
    for (const id of ids) expect(await put(id, hostile)).toMatchObject({ ok: true, id });
    await waitFor(
      `${HOSTILE_ROUNDS} results of each hostile check`,
      () => {
        const counts = ids.map((id) => `${id}: ${events.results(id).length}`);
        if (ids.some((id) => events.results(id).length < HOSTILE_ROUNDS)) throw new Error(`${counts.join(', ')}; canary: ${events.results('canary').length}`);
        return true;
      },
      { timeoutMs: 40_000 },
    );

    // Every hostile probe is down: its JSON evaluated (nothing at $.status), stopped at the
    // worker's budget, refused (it overran before, or costly work had its share of the worker),
    // or out of time waiting behind the others' JSON — or, when the loaded test machine stalled the
    // node's event loop for over a quarter of the probe's time, inconclusive (never up).
    const hostileResults = ids.flatMap((id) => events.results(id));
    for (const r of hostileResults) {
      expect({ ok: r.ok, reason: r.reason, message: r.message }).toEqual({
        ok: false,
        reason: expect.stringMatching(/^(json|timeout|inconclusive)$/),
        message: expect.stringMatching(/^(\$\.status is missing, expected "up"|JSON evaluation was (stopped after 200 ms on 1048\d{3} characters of body|not run: it took over 50 ms recently).*|timed out after 900 ms|node overloaded: .*)$/),
      });
    }
    expect(hostileResults.some((r) => r.reason === 'json')).toBe(true); // the JSON did reach the worker
    expect(target.hits('/hostile')).toBeGreaterThanOrEqual(HOSTILE_CHECKS * HOSTILE_ROUNDS);

    // The window: from the first hostile probe's slot to the last one's, plus one interval.
    const hostileSlots = hostileResults.map((r) => r.slot as number);
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
    expect(report.results).toBeGreaterThanOrEqual(Math.floor((to - from) / INTERVAL));
    // An inconclusive result is the node's own stall (the test machine's load), not the hostile checks': not a failure.
    const failed = events.results('canary').filter((r) => !r.ok && r.reason !== 'inconclusive');
    expect(failed.map((r) => `${r.reason}: ${r.message}`)).toEqual([]);
  });

  test('a failed json assertion reads the same from the body worker (8 KiB) and the event loop (small JSON)', async () => {
    const direct = async (path: string, assertions: { path: string; equals: unknown }[]) =>
      probeHttp(normalizeSpec(`direct${path.replace('/', '-')}`, { kind: 'http', target: `${target.url}${path}`, intervalMs: 60_000, timeoutMs: 10_000, http: { json: assertions, maxBodyBytes: MiB } }));
    for (const path of ['/canary', '/small']) {
      expect(await direct(path, [{ path: '$.status', equals: 'up' }])).toMatchObject({ ok: true });
      expect(await direct(path, [{ path: '$.status', equals: 'up' }, { path: '$.status', equals: 'down' }])).toMatchObject({ ok: false, reason: 'json', message: '$.status is "up", expected "down"' });
      expect(await direct(path, [{ path: '$.nope', equals: 1 }])).toMatchObject({ ok: false, reason: 'json', message: '$.nope is missing, expected 1' });
    }
    expect(await direct('/hostile', [{ path: '$[0]', equals: 1 }])).toMatchObject({ ok: false, reason: 'json', message: expect.stringMatching(/^\$\[0\] is \[\[\[\[.{60,}\.\.\., expected 1$|^JSON evaluation was (stopped|not run)/) });
  });
});

describe('TCP expect on the input that makes Buffer.indexOf quadratic', () => {
  const NEEDLE = `ab${'a'.repeat(4094)}`; // 4 KiB, the expect limit
  let target: TcpTarget;
  beforeAll(async () => {
    target = await startTcpTarget({ banner: 'a'.repeat(MiB) });
  });
  afterAll(() => target?.close());

  test('probeTcp reads 1 MiB against it in less than a third of the time Buffer.indexOf alone takes (same run)', async () => {
    const spec = normalizeSpec('tcp-needle', { kind: 'tcp', target: target.target, intervalMs: 60_000, timeoutMs: 30_000, tcp: { expect: NEEDLE, maxBodyBytes: MiB } });
    await probeTcp(spec); // warm: the first connection and code paths
    let start = performance.now();
    const outcome = await probeTcp(spec);
    const probeMs = performance.now() - start;
    expect(outcome).toMatchObject({ ok: false, reason: 'too_large', bodyBytes: MiB });

    const bytes = Buffer.alloc(MiB, 'a');
    start = performance.now();
    expect(bytes.indexOf(NEEDLE)).toBe(-1);
    const indexOfMs = performance.now() - start;
    // Before: the probe ran Buffer.indexOf over the same bytes (≈ indexOfMs); now ~2 compares per byte.
    expect({ probeMs: Math.round(probeMs), indexOfMs: Math.round(indexOfMs), probeUnderAThird: probeMs * 3 < indexOfMs }).toEqual({
      probeMs: expect.any(Number),
      indexOfMs: expect.any(Number),
      probeUnderAThird: true,
    });
  });
});
