// A probe whose body work waits for the node's body worker (behind another check's job) and times
// out there: the deadline was eaten by the node, not by the target. The outcome says how long the
// probe waited (waitedMs, checks/body-worker.ts) and the node judges it as it judges its own
// event-loop stall: `inconclusive`, not `timeout` (protocol/overload.ts judgeOutcome).
// Real targets on 127.0.0.1 (an HTTP server answering 8 KiB of JSON, a line server with a banner)
// and a real worker thread; the other check's job is a regex whose automaton blows up on 1 MiB
// (seconds of work in re2js), given a budget far past the probes' timeouts.
import { BodyWorker } from '../../checks/body-worker';
import { probeHttp } from '../../checks/http-probe';
import { DIRECT_PROBE_ENV, type ProbeEnv } from '../../checks/probe-env';
import { normalizeSpec } from '../../checks/spec';
import { probeTcp } from '../../checks/tcp-probe';
import { validateSpec } from '../../checks/validate';
import { judgeOutcome } from '../../protocol/overload';
import { startLineServer, type LineServer } from '../helpers/line-server';
import { startHttpTarget, type HttpTarget } from '../helpers/targets';
import { abcText, BLOW_UP } from '../../testkit/hostile-text';

const MiB = 1024 * 1024;
/** Past BODY_SMALL_CHARS: evaluated in the worker, not on the loop. */
const JSON_BODY = JSON.stringify({ status: 'up', pad: 'x'.repeat(8 * 1024) });
/** The probes' deadline: a local exchange takes a few ms of it, the rest is spent waiting. */
const TIMEOUT_MS = 2_000;

let target: HttpTarget;
let line: LineServer;
let worker: BodyWorker;
let env: ProbeEnv;

beforeAll(async () => {
  target = await startHttpTarget({ routes: { '/json': { body: JSON_BODY } } });
  line = await startLineServer({ greeting: 'SSH-2.0-OpenSSH_9.2\r\n', answer: () => '' });
});
beforeEach(() => {
  worker = new BodyWorker({ budgetMs: 60_000 }); // the occupying job runs to its end, past every deadline here
  env = { ...DIRECT_PROBE_ENV, bodyWorker: worker };
});
afterEach(() => worker.close());
afterAll(async () => {
  await target.close();
  await line.close();
});

function spec(id: string, raw: Record<string, unknown>) {
  const r = validateSpec(raw, id);
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return normalizeSpec(id, r.spec);
}
const httpSpec = () => spec('json-canary', { kind: 'http', target: `${target.url}/json`, timeoutMs: TIMEOUT_MS, http: { json: [{ path: '$.status', equals: 'up' }] } });
const tcpSpec = () => spec('ssh-canary', { kind: 'tcp', target: line.target, timeoutMs: TIMEOUT_MS, tcp: { dialog: [{ expectRegex: '^SSH-2\\.0-(\\S+)' }] } });

/** Another check's job that keeps the worker busy; its verdict is not read. */
function occupy(): void {
  void worker.match(BLOW_UP, abcText(MiB));
}

describe.each([
  ['http json', () => probeHttp(httpSpec(), undefined, env)],
  ['tcp expectRegex', () => probeTcp(tcpSpec(), undefined, env)],
])('%s', (_name, probe) => {
  test('behind another check\'s job it times out having waited, and the node judges that inconclusive; with the worker free it passes', async () => {
    await worker.match('a', 'a'); // started: a first job waits for a worker to load, which also counts
    const free = await probe();
    expect(free).toMatchObject({ ok: true });

    occupy();
    const out = await probe();
    expect(out).toMatchObject({ ok: false, reason: 'timeout' });
    // It waited from when its body came until the deadline: all of the timeout but the exchange.
    // Side by side: the free run's job started within the call that queued it.
    expect(out.waitedMs!).toBeLessThanOrEqual(out.latencyMs);
    expect(free.waitedMs ?? 0).toBeLessThan(out.waitedMs! / 10);
    const judged = judgeOutcome(out, 0, { timeoutMs: TIMEOUT_MS });
    expect(judged).toMatchObject({ ok: false, reason: 'inconclusive', stallMs: Math.round(out.waitedMs!) });
    expect(judged.message).toMatch(/^node overloaded: it waited \d+ ms for its body worker of this probe's \d+ ms \(timeout 2000 ms\)/);
    // the same timeout without the wait is the target's: it stands
    expect(judgeOutcome({ ...out, waitedMs: 0 }, 0, { timeoutMs: TIMEOUT_MS }).reason).toBe('timeout');
  });
});
