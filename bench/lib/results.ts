// Subscribe to every result a Lookout cluster publishes and keep, per check, what is needed to
// measure gaps: probe start (`at`), receipt time, node and epoch.

import type { NatsConnection, Subscription } from '@nats-io/transport-node';

export interface SeenResult {
  /** Probe start, from the result's `at` (ms since the Unix epoch). */
  at: number;
  slot: number;
  /** When this process received it (Date.now()). */
  recv: number;
  node: string;
  epoch: number;
  seq: number;
}

export class ResultLog {
  readonly byCheck = new Map<string, SeenResult[]>();
  count = 0;
  private sub: Subscription;

  constructor(nc: NatsConnection, subject = 'lookout.result.>') {
    this.sub = nc.subscribe(subject, {
      callback: (err, m) => {
        if (err) return;
        const recv = Date.now();
        const r = m.json<{ checkId: string; at: string; slot: number; node: string; epoch: number; seq: number }>();
        let list = this.byCheck.get(r.checkId);
        if (!list) this.byCheck.set(r.checkId, (list = []));
        list.push({ at: Date.parse(r.at), slot: r.slot, recv, node: r.node, epoch: r.epoch, seq: r.seq });
        this.count++;
      },
    });
  }

  /** Checks whose latest result before `t` came from `node`. */
  ownedBy(node: string, t: number): string[] {
    const out: string[] = [];
    for (const [id, list] of this.byCheck) {
      let last: SeenResult | undefined;
      for (const r of list) if (r.at < t) last = r;
      if (last?.node === node) out.push(id);
    }
    return out;
  }

  /** Gap (ms, between probe starts) from the last result before `t` to the first at or after it. */
  gapAcross(id: string, t: number): { gap: number; before: SeenResult; after: SeenResult } | null {
    const list = this.byCheck.get(id) ?? [];
    let before: SeenResult | undefined;
    let after: SeenResult | undefined;
    for (const r of list) {
      if (r.at < t) before = r;
      else if (!after) after = r;
    }
    if (!before || !after) return null;
    return { gap: after.at - before.at, before, after };
  }

  /** Every gap between consecutive results (by `at`) whose later result started in [from, to). */
  gapsIn(from: number, to: number): number[] {
    const out: number[] = [];
    for (const list of this.byCheck.values()) {
      const xs = list.map((r) => r.at).sort((a, b) => a - b);
      for (let i = 1; i < xs.length; i++) if (xs[i]! >= from && xs[i]! < to) out.push(xs[i]! - xs[i - 1]!);
    }
    return out;
  }

  stop(): void {
    this.sub.unsubscribe();
  }
}
