// The scheduler and runner under a simulated clock: phase, fixed rate, skip-not-overlap, live
// spec changes, resume from the last published state, and draining; while running, probes bypass the machine.
import { createActor } from 'xstate';
import { checkRunnerMachine, type RunnerStart } from '../../actors/check-runner';
import { normalizeSpec, type CheckSpec } from '../../checks/spec';
import { phaseOf } from '../../protocol/hash';
import { CatchUpPacer } from '../../protocol/catch-up-pacer';
import { takeoverSeqGap } from '../../protocol/check-resume';
import { failWith, fakePorts, pass, startRunner as startRunnerOn, type FakePorts } from '../helpers/fake-ports';

const spec = (id: string, extra: Partial<CheckSpec> = {}) =>
  normalizeSpec(id, { kind: 'http', target: 'http://127.0.0.1:1/', intervalMs: 10_000, timeoutMs: 1000, ...extra });

function startRunner(f: FakePorts, specs = [spec('a')], start: RunnerStart = { type: 'fresh' }) {
  return startRunnerOn(f, specs, start);
}

const results = (f: FakePorts, id?: string) => f.published.filter((p) => p.subject.startsWith('lookout.result.') && (!id || p.msg.checkId === id)).map((p) => p.msg);
const statuses = (f: FakePorts) => f.published.filter((p) => p.subject.startsWith('lookout.status.')).map((p) => p.msg);


describe('check runner under a simulated clock', () => {
  test('probes start at the check phase and repeat at a fixed rate, one timer for the shard', async () => {
    const f = fakePorts();
    f.auto = () => pass();
    const ids = ['a', 'b', 'c', 'd', 'e'];
    startRunner(f, ids.map((id) => spec(id)));
    expect(f.clock.pending).toBe(1);
    const starts: Record<string, number[]> = {};
    const orig = f.ports.probe;
    f.ports.probe = (s, sig) => {
      (starts[s.id] ??= []).push(f.clock.now());
      return orig(s, sig);
    };
    for (let i = 0; i < 50; i++) {
      f.clock.advance(1000);
      await f.settle();
    }
    for (const id of ids) {
      const t = starts[id]!;
      expect(t.length).toBeGreaterThanOrEqual(4);
      for (const x of t) expect(((x - phaseOf(id, 10_000)) % 10_000 + 10_000) % 10_000).toBe(0);
      for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBe(10_000);
    }
    expect(f.clock.pending).toBe(1);
  });

  test('a probe started while cut off publishes nothing, even when it finishes after the link is back; the next one does', async () => {
    const f = fakePorts();
    let cut = false;
    const dropped: string[] = [];
    f.ports.publishGate = { cutOff: () => cut, dropped: (kind) => void dropped.push(kind) };
    startRunner(f, [spec('a'), spec('b', { kind: 'tcp', target: '127.0.0.1:1' })]);
    const round = async (finish: (id: string) => Parameters<FakePorts['pending'][number]['finish']>[0]) => {
      f.clock.advance(10_000);
      expect(f.pending).toHaveLength(2);
      const started = [...f.pending];
      cut = false; // the link is back and the gate open again before they finish
      for (const p of started) p.finish(finish(p.spec.id));
      await f.settle();
    };
    await round(() => ({ ok: true }));
    expect(results(f)).toHaveLength(2);
    cut = true; // the link has been down past the pause threshold when the next probes start
    await round((id) => (id === 'b' ? { ok: false, reason: 'refused', message: 'refused' } : { ok: true }));
    expect(results(f)).toHaveLength(2);
    expect(statuses(f).filter((x) => x.to === 'down')).toEqual([]);
    expect(dropped).toEqual(['result', 'result']); // b's first failure is no transition yet (window)
    await round(() => ({ ok: true }));
    expect(results(f).map((r) => [r.checkId, r.seq]).sort()).toEqual([['a', 1], ['a', 3], ['b', 1], ['b', 3]]);
  });

  test('fixed rate: the next start does not move with the probe duration', async () => {
    const f = fakePorts();
    startRunner(f);
    f.clock.advance(10_000);
    expect(f.pending).toHaveLength(1);
    const first = f.pending[0]!.startedAt;
    f.clock.advance(900); // a slow probe: 900 ms
    f.pending[0]!.finish({ ok: true });
    await f.settle();
    f.clock.advance(10_000 - 900);
    expect(f.pending).toHaveLength(1);
    expect(f.pending[0]!.startedAt - first).toBe(10_000);
  });

  test('a probe still running at the next due time skips that round (counted), never overlaps', async () => {
    const f = fakePorts();
    startRunner(f);
    f.clock.advance(10_000);
    expect(f.pending).toHaveLength(1);
    f.clock.advance(10_000); // due again while the first is in flight
    expect(f.pending).toHaveLength(1);
    f.clock.advance(10_000);
    expect(f.pending).toHaveLength(1);
    expect(await f.ports.metrics.skippedRounds.get()).toMatchObject({ values: [{ value: 2 }] });
    f.pending[0]!.finish({ ok: true });
    await f.settle();
    // The rounds skipped came after the first probe's slot: the next result announces them.
    expect(results(f)[0]).toMatchObject({ skipped: 0, seq: 1 });
    f.clock.advance(10_000);
    expect(f.pending).toHaveLength(1);
    f.pending[0]!.finish({ ok: true });
    await f.settle();
    expect(results(f)[1]).toMatchObject({ skipped: 2, seq: 2 });
    expect(results(f)[1].slot - results(f)[0].slot).toBe(3 * 10_000);
  });

  test('results carry seq, epoch, node, history; a verdict change publishes exactly one status', async () => {
    const f = fakePorts();
    startRunner(f, [spec('a', { policy: { type: 'window', window: 3, threshold: 2, initial: 1 } })]);
    const outcomes = [true, true, false, false, false, true, true];
    for (const ok of outcomes) {
      f.clock.advance(10_000);
      await f.settle();
      f.pending[0]!.finish(ok ? pass() : failWith('status'));
      await f.settle();
    }
    const r = results(f);
    expect(r.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(r.map((x) => x.status)).toEqual(['up', 'up', 'up', 'down', 'down', 'down', 'up']);
    expect(r[0]).toMatchObject({ checkId: 'a', node: 'n1', epoch: 7, ok: true, reason: null, kind: 'http' });
    expect(r[3]).toMatchObject({ ok: false, reason: 'status', history: '0011100' }); // "001" pre-filled by initial 1, then ✓✓✗✗
    expect(statuses(f).map((s) => [s.from, s.to, s.seq, s.reason])).toEqual([
      ['unknown', 'up', 1, null],
      ['up', 'down', 4, 'status'],
      ['down', 'up', 7, null],
    ]);
  });

  test('a verdict change whose status message the publish gate dropped is announced with the next result', async () => {
    const f = fakePorts();
    startRunner(f, [spec('a', { policy: { type: 'window', window: 3, threshold: 2, initial: 1 } })]);
    const round = async (ok: boolean) => {
      f.clock.advance(10_000);
      await f.settle();
      f.pending[0]!.finish(ok ? pass() : failWith('status'));
      await f.settle();
    };
    f.gateDrops = (subject) => subject.startsWith('lookout.status.'); // a pause as the first verdict goes out
    await round(true);
    expect(statuses(f)).toEqual([]);
    f.gateDrops = null;
    await round(true);
    await round(false);
    f.gateDrops = (subject) => subject.startsWith('lookout.'); // the change to down and its result dropped
    await round(false);
    f.gateDrops = null;
    await round(false);
    await round(true); // still down: one pass in the window of three
    expect(results(f).map((x) => [x.seq, x.status])).toEqual([[1, 'up'], [2, 'up'], [3, 'up'], [5, 'down'], [6, 'down']]);
    // Each dropped change is announced by the next result that goes out: from what subscribers last heard.
    expect(statuses(f).map((s) => [s.from, s.to, s.seq])).toEqual([
      ['unknown', 'up', 2],
      ['up', 'down', 5],
    ]);
  });

  test('a dropped change is not announced again when the verdict is back where subscribers last heard it', async () => {
    const f = fakePorts();
    startRunner(f, [spec('a', { policy: { type: 'consecutive', rise: 1, fall: 1 } })]);
    const round = async (ok: boolean) => {
      f.clock.advance(10_000);
      await f.settle();
      f.pending[0]!.finish(ok ? pass() : failWith('status'));
      await f.settle();
    };
    await round(true);
    f.gateDrops = (subject) => subject.startsWith('lookout.status.');
    await round(false); // up → down, not heard
    f.gateDrops = null;
    await round(true); // back up: nothing changed for subscribers
    await round(true);
    expect(statuses(f).map((s) => [s.from, s.to, s.seq])).toEqual([['unknown', 'up', 1]]);
  });

  test('a check resumes from its last published state: seq continues, no spurious transition', async () => {
    const f = fakePorts();
    f.history.set('a', { seq: 41, status: 'up', history: '11111110', slot: f.clock.now() - 1000 });
    startRunner(f);
    f.clock.advance(10_000);
    await f.settle();
    f.pending[0]!.finish(failWith('timeout'));
    await f.settle();
    expect(results(f)).toEqual([expect.objectContaining({ seq: 42, status: 'up', history: '111111100' })]);
    expect(statuses(f)).toEqual([]);
  });

  test('a runner that stops scheduling drops its lookups still queued: forget with the answer it asked with', async () => {
    const f = fakePorts({ graceMs: 3000 });
    const askedWith = new Set<unknown>();
    const forgotten: unknown[] = [];
    f.ports.history = { last: (_id, _rank, _perVantage, done) => void askedWith.add(done), forget: (done) => void forgotten.push(done) };
    const actor = startRunner(f, [spec('a'), spec('b')]);
    f.clock.advance(10_000);
    await f.settle();
    expect(askedWith.size).toBe(1); // one answer function for all its lookups
    expect(forgotten).toEqual([]);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('draining');
    expect(forgotten).toEqual([...askedWith]);
  });

  test('an outcome that finishes before the resume lookup is applied after it, in order', async () => {
    const f = fakePorts();
    let release!: () => void;
    f.ports.history = { last: (id, _rank, _perVantage, done) => void (release = () => done(id, null, { seq: 9, status: 'down', history: '00', slot: f.clock.now() })), forget: () => {} };
    startRunner(f, [spec('a', { policy: { type: 'consecutive', rise: 1, fall: 1 } })]);
    f.clock.advance(10_000);
    f.pending[0]!.finish(pass());
    await f.settle();
    expect(results(f)).toEqual([]);
    release();
    await f.settle();
    expect(results(f)).toEqual([expect.objectContaining({ seq: 10, status: 'up' })]);
    expect(statuses(f)).toEqual([expect.objectContaining({ from: 'down', to: 'up', seq: 10 })]);
  });

  test('replicas > 1: the lookup asks for the vantage record too, and each result is followed by its vantage record; replicas 1 writes none', async () => {
    const f = fakePorts();
    const asked: string[] = [];
    f.ports.history = {
      last: (id, rank, perVantage, done) => {
        asked.push(`${id}/${rank}/${perVantage}`);
        void Promise.resolve().then(() => done(id, null, id === 'multi' ? { seq: 30, status: 'up', history: '111', slot: f.clock.now() - 10_000 } : null));
      },
      forget: () => {},
    };
    const actor = createActor(checkRunnerMachine, { input: { shard: 0, rank: 2, gen: 1, epoch: 7, specs: [spec('multi', { replicas: 3 }), spec('single')], start: { type: 'fresh' }, ports: f.ports }, clock: f.clock });
    actor.start();
    f.auto = () => pass();
    for (let i = 0; i < 2; i++) {
      f.clock.advance(10_000);
      await f.settle();
    }
    expect(asked.sort()).toEqual(['multi/2/true', 'single/2/false']);
    // Each record right after its result, on the vantage's own subject, carrying the result's state.
    const multi = f.published.filter((p) => p.subject.endsWith('.multi') || p.subject.includes('.multi.'));
    expect(multi.map((p) => p.subject)).toEqual(['lookout.result.multi', 'lookout._resume.multi.2', 'lookout.result.multi', 'lookout._resume.multi.2']);
    for (let i = 0; i < multi.length; i += 2) {
      const r = multi[i]!.msg;
      expect(multi[i + 1]!.msg).toEqual({ seq: r.seq, slot: r.slot, status: r.status, history: r.history });
    }
    expect(multi[0]!.msg).toMatchObject({ seq: 31, vantage: 2 });
    expect(f.published.filter((p) => p.subject.startsWith('lookout._resume.single'))).toEqual([]);
    expect(results(f, 'single').length).toBe(2);
    actor.stop();
  });

  test('a spec update applies at the next due time; a shorter interval moves the next probe earlier', async () => {
    const f = fakePorts();
    const actor = startRunner(f);
    f.clock.advance(10_000);
    f.pending[0]!.finish(pass());
    await f.settle();
    actor.send({ type: 'CHECK_SET', spec: spec('a', { target: 'http://127.0.0.1:2/' }) });
    expect(f.pending).toHaveLength(0); // not probed at once
    f.clock.advance(10_000);
    expect(f.pending[0]!.spec.target).toBe('http://127.0.0.1:2/');
    f.pending[0]!.finish(pass());
    await f.settle();
    const before = f.clock.now();
    actor.send({ type: 'CHECK_SET', spec: spec('a', { intervalMs: 2000 }) });
    f.clock.advance(2000);
    expect(f.pending).toHaveLength(1);
    expect(f.pending[0]!.startedAt - before).toBeLessThanOrEqual(2000);
  });

  test('a removed check stops: no more probes, an in-flight probe is aborted and its outcome dropped', async () => {
    const f = fakePorts();
    const actor = startRunner(f, [spec('a'), spec('b')]);
    f.clock.advance(10_000);
    await f.settle();
    const inflight = f.pending.find((p) => p.spec.id === 'a')!;
    actor.send({ type: 'CHECK_REMOVE', id: 'a' });
    expect(inflight.signal.aborted).toBe(true);
    await f.settle();
    for (let round = 0; round < 3; round++) {
      for (const p of [...f.pending]) p.finish(pass());
      await f.settle();
      f.clock.advance(10_000);
      await f.settle();
    }
    expect(f.pending.map((p) => p.spec.id)).toEqual(['b']);
    expect(results(f, 'a')).toEqual([]);
    expect(results(f, 'b').length).toBeGreaterThanOrEqual(3);
    expect(f.released).toContain('a');
  });

  test('draining: in-flight probes may finish within the grace period, then are abandoned', async () => {
    const f = fakePorts({ graceMs: 3000 });
    const actor = startRunner(f, [spec('a'), spec('b')]);
    f.clock.advance(10_000);
    await f.settle();
    expect(f.pending).toHaveLength(2);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('draining');
    f.pending.find((p) => p.spec.id === 'a')!.finish(pass());
    await f.settle();
    expect(results(f, 'a')).toHaveLength(1); // finished within grace: published
    f.clock.advance(3000);
    await f.settle();
    expect(actor.getSnapshot().status).toBe('done');
    expect(results(f, 'b')).toHaveLength(0); // abandoned
    expect(f.clock.pending).toBe(0); // nothing scheduled any more
  });

  test('a check taken over from a dead owner gets one catch-up probe now, then rejoins its grid', async () => {
    const base = 1_700_000_000_000; // a multiple of the interval
    const phase = phaseOf('a', 10_000);
    const f = fakePorts({ start: base + phase + 1 }); // the next slot is 9999 ms away
    const next = base + phase + 10_000;
    // The owner died (a takeover): its last result is not compared with our clock.
    f.history.set('a', { seq: 5, status: 'up', history: '1', slot: next - 30_000 });
    // Catch-ups are spread over the first half of the wait for the regular slot; random() = 0 is "now".
    f.ports.random = () => 0;
    startRunner(f, [spec('a')], { type: 'takeover' });
    await f.settle();
    f.clock.advance(0);
    expect(f.pending).toHaveLength(1); // probed at once
    expect(f.pending[0]!.startedAt).toBe(base + phase + 1);
    f.pending[0]!.finish(pass());
    await f.settle();
    expect(results(f)[0]).toMatchObject({ seq: 6, slot: base + phase + 1 });
    // Then on the grid, at least half an interval later.
    f.clock.advance(next - f.clock.now());
    expect(f.pending).toHaveLength(1);
    expect(f.pending[0]!.startedAt).toBe(next);
  });

  test('a takeover from a holder held dead skips the seq numbers it may have published unseen (no repeat, a gap)', async () => {
    const f = fakePorts();
    f.auto = () => pass();
    f.ports.takeoverUnseenMs = 1750; // dead after 1000 ms + 3 pings of 250 ms
    for (const id of ['a', 'b', 'c']) f.history.set(id, { seq: 5, status: 'up', history: '1', slot: f.clock.now() - 30_000 });
    startRunner(f, [spec('a')], { type: 'takeover', from: 'x', heldDead: true });
    startRunner(f, [spec('b')], { type: 'takeover', from: 'x' });
    startRunner(f, [spec('c')], { type: 'fresh' });
    await f.settle();
    f.clock.advance(20_000);
    await f.settle();
    expect(results(f, 'a')[0]).toMatchObject({ seq: 5 + takeoverSeqGap(10_000, 1750) + 1 });
    // A holder merely gone (it left, or this process never knew it) published nothing unseen: by one.
    expect(results(f, 'b')[0]).toMatchObject({ seq: 6 });
    expect(results(f, 'c')[0]).toMatchObject({ seq: 6 });
  });

  test('catch-up probes of many overdue checks are paced node-wide, not fired in a burst', async () => {
    const f = fakePorts();
    f.auto = () => pass();
    f.ports.catchUps = new CatchUpPacer(100); // at most 100 catch-ups per second
    const ids = Array.from({ length: 200 }, (_, i) => `k${i}`);
    for (const id of ids) f.history.set(id, { seq: 1, status: 'up', history: '1', slot: f.clock.now() - 60_000 });
    startRunner(f, ids.map((id) => spec(id)), { type: 'takeover' });
    await f.settle();
    for (let i = 0; i < 50; i++) {
      f.clock.advance(100);
      await f.settle();
    }
    // Catch-up probes are off the slot grid; they come at least 10 ms apart. A check whose paced
    // place would fall past half the wait for its regular slot just waits for the slot.
    const offGrid = results(f)
      .filter((r) => (((r.slot - phaseOf(r.checkId, 10_000)) % 10_000) + 10_000) % 10_000 !== 0)
      .map((r) => r.slot)
      .sort((x, y) => x - y);
    expect(offGrid.length).toBeGreaterThan(40);
    for (let i = 1; i < offGrid.length; i++) expect(offGrid[i]! - offGrid[i - 1]!).toBeGreaterThanOrEqual(10);
  });

  test('a fresh start (not a takeover) gets no catch-up probe, however old the last result', async () => {
    const base = 1_700_000_000_000;
    const phase = phaseOf('a', 10_000);
    const f = fakePorts({ start: base + phase + 1 });
    f.history.set('a', { seq: 5, status: 'up', history: '1', slot: base + phase - 60_000 });
    startRunner(f);
    await f.settle();
    f.clock.advance(0);
    expect(f.pending).toHaveLength(0);
    f.clock.advance(9999);
    expect(f.pending).toHaveLength(1);
  });

  test('a process that falls behind skips the passed slots instead of firing a burst', async () => {
    const f = fakePorts();
    f.auto = () => pass();
    const actor = startRunner(f);
    f.clock.advance(10_000);
    await f.settle();
    expect(results(f)).toHaveLength(1);
    // Freeze: the next due fires 35 s late (SIGSTOP, a long GC, a blocked loop).
    f.clock.stepWall(35_000);
    f.clock.advance(10_000);
    await f.settle();
    expect(results(f)).toHaveLength(2); // the late slot runs once; the three slots that passed meanwhile are skipped
    expect(await f.ports.metrics.skippedRounds.get()).toMatchObject({ values: [{ value: 3 }] });
    f.clock.advance(10_000);
    await f.settle();
    expect(results(f)).toHaveLength(3);
    // The late slot itself ran: the three after it were skipped, announced by the probe after them.
    expect(results(f)[1].skipped).toBe(0);
    expect(results(f)[2].skipped).toBe(3);
    expect(results(f)[2].slot - results(f)[1].slot).toBe(4 * 10_000);
    actor.stop();
  });

  test('jitter delays the start within its bound and never moves the slot', async () => {
    const f = fakePorts({ jitterMs: 50 });
    f.ports.random = () => 0.99;
    startRunner(f);
    f.clock.advance(10_000 + 50);
    await f.settle();
    expect(f.pending).toHaveLength(1);
    const started = f.pending[0]!.startedAt;
    const phase = phaseOf('a', 10_000);
    const slot = started - (((started - phase) % 10_000) + 10_000) % 10_000;
    expect(started - slot).toBe(49);
    f.pending[0]!.finish(pass());
    await f.settle();
    expect(results(f)[0].slot).toBe(slot);
  });

  test('while running, due slots and finished probes reach the table without an XState event; draining, they are events again', async () => {
    const f = fakePorts();
    const seen: string[] = [];
    const actor = createActor(checkRunnerMachine, {
      input: { shard: 0, rank: 0, gen: 1, epoch: 7, specs: [spec('a')], start: { type: 'fresh' }, ports: f.ports },
      clock: f.clock,
      inspect: (e) => {
        if (e.type === '@xstate.event' && (e.actorRef as { id?: string }).id !== undefined && (e.event.type === 'DUE' || e.event.type === 'PROBE_DONE')) seen.push(e.event.type as string);
      },
    });
    actor.start();
    for (let i = 0; i < 3; i++) {
      f.clock.advance(10_000);
      f.pending[0]!.finish(pass());
      await f.settle();
    }
    expect(results(f).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(seen).toEqual([]);
    f.clock.advance(10_000);
    expect(f.pending).toHaveLength(1);
    actor.send({ type: 'STOP' });
    expect(actor.getSnapshot().value).toBe('draining');
    f.pending[0]!.finish(pass());
    await f.settle();
    expect(seen).toEqual(['PROBE_DONE']); // draining: the machine hears it (and, idle now, stops)
    expect(results(f).map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(actor.getSnapshot().value).toBe('stopped');
  });
});
