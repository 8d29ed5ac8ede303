// The node's own overload (protocol/overload.ts), as tables: which failed probes are inconclusive
// given the stall measured while they ran — and which still count against the target (a really slow
// target on a node that is only a bit busy) — and how the overloaded state enters and leaves with
// hysteresis in level and time.
import type { ProbeOutcome } from '../../checks/outcome';
import { clearState, judgeOutcome, overloadStep, type OverloadState } from '../../protocol/overload';

const outcome = (reason: ProbeOutcome['reason'], latencyMs: number): ProbeOutcome => ({ ok: reason === null, reason, message: reason ? `failed: ${reason}` : null, latencyMs, timings: { total: latencyMs } });

const waited = (o: ProbeOutcome, waitedMs: number): ProbeOutcome => ({ ...o, waitedMs });

describe('judgeOutcome: is a failure the node\'s own stall?', () => {
  test.each<[string, ProbeOutcome, number, { timeoutMs: number; maxLatencyMs?: number }, string | null]>([
    // name, outcome, stall while it ran (ms), bounds, reason published
    ['timeout while the loop stalled most of it (CPU-starved node)', outcome('timeout', 1_430), 1_250, { timeoutMs: 1_000 }, 'inconclusive'],
    ['timeout, stall just over a quarter of the timeout', outcome('timeout', 1_000), 251, { timeoutMs: 1_000 }, 'inconclusive'],
    ['timeout, stall exactly a quarter: the target had 3/4 of its timeout', outcome('timeout', 1_000), 250, { timeoutMs: 1_000 }, 'timeout'],
    ['a really slow target on a node that is a bit busy: down', outcome('timeout', 1_004), 40, { timeoutMs: 1_000 }, 'timeout'],
    ['timeout with no stall at all', outcome('timeout', 1_001), 0, { timeoutMs: 1_000 }, 'timeout'],
    ['refused is the target\'s answer, whatever the stall', outcome('refused', 1_200), 1_100, { timeoutMs: 1_000 }, 'refused'],
    ['a wrong status is the target\'s answer', outcome('status', 900), 800, { timeoutMs: 1_000 }, 'status'],
    ['dns failure stands', outcome('dns', 900), 800, { timeoutMs: 1_000 }, 'dns'],
    ['a pass stays a pass', outcome(null, 900), 800, { timeoutMs: 1_000 }, null],
    ['latency over its bound only because of the stall', outcome('latency', 180), 120, { timeoutMs: 1_000, maxLatencyMs: 100 }, 'inconclusive'],
    ['latency over its bound even without the stall: down', outcome('latency', 300), 120, { timeoutMs: 1_000, maxLatencyMs: 100 }, 'latency'],
    ['latency a hair over with a stall that is noise: down', outcome('latency', 104), 6, { timeoutMs: 1_000, maxLatencyMs: 100 }, 'latency'],
    // waitedMs: the probe's body work waited for the node's body worker (behind other checks' jobs)
    ['timeout while its JSON waited behind another check\'s job, loop free', waited(outcome('timeout', 900), 420), 0, { timeoutMs: 900 }, 'inconclusive'],
    ['timeout, wait plus stall just over a quarter', waited(outcome('timeout', 1_000), 200), 51, { timeoutMs: 1_000 }, 'inconclusive'],
    ['timeout, a short wait for the worker: the target had 3/4 of its timeout', waited(outcome('timeout', 1_000), 250), 0, { timeoutMs: 1_000 }, 'timeout'],
    ['a body failure after a wait is the target\'s answer', waited(outcome('body', 900), 800), 0, { timeoutMs: 1_000 }, 'body'],
    ['latency over its bound only because of the wait', waited(outcome('latency', 180), 120), 0, { timeoutMs: 1_000, maxLatencyMs: 100 }, 'inconclusive'],
    ['latency over its bound even without the wait: down', waited(outcome('latency', 300), 120), 0, { timeoutMs: 1_000, maxLatencyMs: 100 }, 'latency'],
  ])('%s', (_name, o, stallMs, bounds, want) => {
    const got = judgeOutcome(o, stallMs, bounds);
    expect(got.reason).toBe(want);
    if (want === 'inconclusive') {
      // the node's loss it publishes: the loop's stall and the worker wait together
      expect(got).toMatchObject({ ok: false, stallMs: Math.round(stallMs + (o.waitedMs ?? 0)), latencyMs: o.latencyMs, timings: o.timings });
      if (o.waitedMs) expect(got.message).toContain(`it waited ${o.waitedMs} ms for its body worker`);
      if (stallMs > 0) expect(got.message).toContain(`its event loop stalled ${stallMs} ms`);
      expect(got.message).toMatch(/^node overloaded: /);
    } else expect(got).toBe(o);
  });
});

describe('overloadStep: entering and leaving with hysteresis', () => {
  const cfg = { lagMs: 250, holdMs: 3_000 };
  /** Windows of 1 s, the worst lag of each; the changes, as "t:to". */
  function run(lags: number[], start: OverloadState = clearState()) {
    let s = start;
    const changes: string[] = [];
    lags.forEach((lag, i) => {
      const r = overloadStep(s, lag, i * 1_000, (i + 1) * 1_000, cfg);
      s = r.state;
      if (r.change) changes.push(`${(i + 1) * 1_000}:${r.change.to}`);
    });
    return { changes, overloaded: s.overloaded };
  }
  test.each<[string, number[], string[], boolean]>([
    ['an idle node', [2, 3, 1, 4, 2, 3], [], false],
    ['a GC pause now and then is no overload', [5, 400, 5, 5, 600, 5, 5], [], false],
    ['lag past the threshold for the hold: overloaded', [300, 900, 1_400, 2_000], ['3000:overloaded'], true],
    ['a window under the threshold restarts the count', [300, 900, 100, 300, 900, 1_400], ['6000:overloaded'], true],
    ['overloaded, then below half the threshold for the hold: clear', [300, 300, 300, 100, 100, 100], ['3000:overloaded', '6000:clear'], false],
    ['between half and the whole threshold keeps it overloaded (hysteresis)', [300, 300, 300, 200, 200, 200, 200], ['3000:overloaded'], true],
    ['a relapse while clearing restarts the clearing', [300, 300, 300, 100, 100, 300, 100, 100, 100], ['3000:overloaded', '9000:clear'], false],
  ])('%s', (_name, lags, changes, overloaded) => {
    expect(run(lags)).toEqual({ changes, overloaded });
  });
});
