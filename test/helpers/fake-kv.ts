// In-memory keys with JetStream KV's compare-and-set semantics (create fails if present,
// update fails on a stale revision, revisions increase per write), for unit tests of the lease,
// the assigner and the assignment follower. They fail the way the real ports do
// (runtime/cluster-store.ts): CasConflict for a lost race, StorageUnavailable for anything else.
import { CasConflict, StorageUnavailable } from '../../protocol/errors';
import type { AssignmentRecord, LeaseRecord } from '../../protocol/records';
import type { AssignmentStore, LeaseStore, Versioned } from '../../runtime/cluster-store';

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
        if (key.record) throw new CasConflict('lease', 0);
        return key.write(node, record);
      },
      async update(record, revision) {
        if (isDown) return hang();
        if (revision !== key.revision) throw new CasConflict('lease', revision);
        return key.write(node, record);
      },
      async release(revision) {
        if (isDown) return hang();
        if (revision !== key.revision) throw new CasConflict('lease', revision);
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

/** The assignment key: CAS writes, a watch that hears every write, reads that can be made to fail. */
export class FakeMapKey implements AssignmentStore {
  revision = 0;
  record: AssignmentRecord | null = null;
  writes: AssignmentRecord[] = [];
  reads = 0;
  /** When set, read() rejects with StorageUnavailable caused by it (NATS unreachable). */
  readError: Error | null = null;
  /** When set, write() rejects with StorageUnavailable caused by it (a timeout, a refused write). */
  writeError: Error | null = null;
  private readonly watchers = new Set<(v: Versioned<AssignmentRecord>) => void>();

  async read(): Promise<Versioned<AssignmentRecord>> {
    this.reads++;
    if (this.readError) throw new StorageUnavailable('read of map', this.readError);
    return { revision: this.revision, record: this.record };
  }

  async write(record: AssignmentRecord, revision: number): Promise<number> {
    if (this.writeError) throw new StorageUnavailable('write of map', this.writeError);
    if (revision !== this.revision) throw new CasConflict('map', revision);
    this.revision++;
    this.record = record;
    this.writes.push(record);
    for (const w of this.watchers) w({ revision: this.revision, record });
    return this.revision;
  }

  /** A write the watch does not deliver (a watch lost across a reconnect): only a re-read finds it. */
  writeUnseen(record: AssignmentRecord): void {
    this.revision++;
    this.record = record;
  }

  async watch(onRecord: (v: Versioned<AssignmentRecord>) => void): Promise<() => void> {
    this.watchers.add(onRecord);
    onRecord({ revision: this.revision, record: this.record });
    return () => this.watchers.delete(onRecord);
  }
}
