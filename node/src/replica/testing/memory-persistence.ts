// A RaftPersistence that keeps what it is given in memory: for tests of the replica loop that are about ordering
// and apply semantics, not disks. The durable implementation is node/src/storage (RaftDiskStorage).
import type { Ready, Snapshot } from '../../raft/types.js';
import type { RaftPersistence } from '../raft-replica.js';

export class MemoryPersistence implements RaftPersistence {
  persisted = 0;
  syncs = 0;
  snapshots: Snapshot[] = [];
  failNext: Error | undefined;

  persist(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>, sync: boolean): Promise<void> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      return Promise.reject(err);
    }
    this.persisted += ready.entries.length;
    if (sync) this.syncs++;
    return Promise.resolve();
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshots.push(snapshot);
    return Promise.resolve();
  }
}
