// What a panic (protocol/panic.ts, panic-groups.ts) must leave in the published record of the checks
// it held: some failures published `held: "panic"` with the verdict still up, each before that
// check's one down (by seq).
import type { Collector } from './lookout';

/** Of `ids`, those with a result held by the panic; each held result precedes the check's down. Returns the held ids. */
export function expectHeldBeforeDown(events: Collector, ids: readonly string[]): string[] {
  const held = ids.filter((id) => events.results(id).some((r) => r.held === 'panic'));
  expect(held.length).toBeGreaterThan(0);
  for (const id of held) {
    const down = events.statuses(id).find((m) => m.to === 'down')!;
    for (const r of events.results(id).filter((x) => x.held === 'panic')) {
      expect(r).toMatchObject({ ok: false, status: 'up' });
      expect(r.seq).toBeLessThan(down.seq);
    }
  }
  return held;
}
