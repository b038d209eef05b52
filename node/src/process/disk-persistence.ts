// The replica's persistence port implemented by the durable storage (node/src/storage).
import type { Ready, Snapshot } from '../raft/types.js';
import type { RaftPersistence } from '../replica/raft-replica.js';
import type { RaftDiskStorage } from '../storage/raft-disk-storage.js';

export class DiskPersistence implements RaftPersistence {
  /** `fsyncEnabled` false (--fsync=false) is for tests and benchmarks only: nothing is durable then. */
  constructor(
    private readonly storage: RaftDiskStorage,
    private readonly fsyncEnabled = true,
  ) {}

  // A Ready that only moved the commit index need not be synced: a lost commit index is learned again from the
  // leader. Everything else (entries, term, vote, snapshot) is synced before any ack leaves.
  persist(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>, sync: boolean): Promise<void> {
    return this.storage.append(ready.hardState, ready.entries, ready.snapshot, {
      sync: sync && this.fsyncEnabled,
    });
  }

  async saveSnapshot(snapshot: Snapshot, compactIndex: number): Promise<void> {
    await this.storage.saveSnapshot(snapshot);
    await this.storage.compact(Math.min(compactIndex, snapshot.metadata.index));
  }
}
