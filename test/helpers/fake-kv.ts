// An in-memory key with JetStream KV's compare-and-set semantics (create fails if present,
// update fails on a stale revision, revisions increase per write), for unit tests of the lease.
import type { LeaseRecord } from '../../actors/lease';
import { CasConflict, type LeaseStore, type Versioned } from '../../runtime/cluster-store';

export class FakeLeaseKey {
  revision = 0;
  record: LeaseRecord | null = null;
  writes: { node: string; revision: number; term: number | null }[] = [];

  /** A store view for one node; `down()` makes its calls hang (a node cut off from NATS). */
  storeFor(node: string): LeaseStore & { down(): void; up(): void } {
    let isDown = false;
    const hang = <T>(): Promise<T> => new Promise<T>(() => {});
    const key = this;
    return {
      down: () => (isDown = true),
      up: () => (isDown = false),
      async read(): Promise<Versioned<LeaseRecord>> {
        if (isDown) return hang();
        return { revision: key.revision, record: key.record ? { ...key.record } : null };
      },
      async create(record) {
        if (isDown) return hang();
        if (key.record) throw new CasConflict(`wrong last sequence: ${key.revision}`);
        return key.write(node, record);
      },
      async update(record, revision) {
        if (isDown) return hang();
        if (revision !== key.revision) throw new CasConflict(`wrong last sequence: ${key.revision}`);
        return key.write(node, record);
      },
      async release(revision) {
        if (isDown) return hang();
        if (revision !== key.revision) throw new CasConflict(`wrong last sequence: ${key.revision}`);
        key.revision++;
        key.record = null;
      },
    };
  }

  private write(node: string, record: LeaseRecord): number {
    this.revision++;
    this.record = { ...record };
    this.writes.push({ node, revision: this.revision, term: record.term });
    return this.revision;
  }
}
