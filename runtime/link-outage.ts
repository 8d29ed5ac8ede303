// How long this node has been cut off from NATS, in all, on its monotonic clock. A push check's
// owner hears no report while its link is down (core NATS does not keep them for it), so that time
// is not counted against the job (runtime/push-registry.ts adds it to the node's own stall): a node's
// broken link must not be published as its jobs' missed deadlines (DESIGN.md §5, invariant 9).

import type { Clock } from './clock';

export class LinkOutage {
  private total = 0;
  private downSince: number | null = null;

  constructor(private readonly clock: Pick<Clock, 'monotonic'>) {}

  /** The connection went up or down (repeats are ignored). */
  note(up: boolean): void {
    const now = this.clock.monotonic();
    if (!up && this.downSince === null) this.downSince = now;
    if (up && this.downSince !== null) {
      this.total += now - this.downSince;
      this.downSince = null;
    }
  }

  /** ms the link has been down so far, the current outage included. */
  totalMs(): number {
    return this.total + (this.downSince === null ? 0 : this.clock.monotonic() - this.downSince);
  }
}
