// The replica's persistence port implemented by the durable storage (node/src/storage).
import type { Ready, Snapshot } from '../raft/types.js';
import type { RaftPersistence } from '../replica/raft-replica.js';
import type { RaftDiskStorage } from '../storage/raft-disk-storage.js';

export class DiskPersistence implements RaftPersistence {
  constructor(private readonly storage: RaftDiskStorage) {}

  // RaftDiskStorage syncs every append; a Ready that only moved the commit index costs one fsync more than needed.
  persist(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>): Promise<void> {
    return this.storage.append(ready.hardState, ready.entries, ready.snapshot);
  }

  async saveSnapshot(snapshot: Snapshot, compactIndex: number): Promise<void> {
    await this.storage.saveSnapshot(snapshot);
    await this.storage.compact(Math.min(compactIndex, snapshot.metadata.index));
  }
}
