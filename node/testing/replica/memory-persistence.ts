// A RaftPersistence that keeps what it is given in memory: for tests of the replica loop that are about ordering
// and apply semantics, not disks. The durable implementation is node/src/storage (RaftDiskStorage).
import type { Ready, Snapshot } from '../../src/raft/types.js';
import type { RaftPersistence } from '../../src/replica/raft-replica.js';

export class MemoryPersistence implements RaftPersistence {
  persisted = 0;
  syncs = 0;
  snapshots: Snapshot[] = [];
  failNext: Error | undefined;
  /** While true, persist() calls wait (a slow disk) until release(). */
  hold = false;
  private held: (() => void)[] = [];

  persist(ready: Pick<Ready, 'hardState' | 'entries' | 'snapshot'>, sync: boolean): Promise<void> {
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      return Promise.reject(err);
    }
    const done = (): void => {
      this.persisted += ready.entries.length;
      if (sync) this.syncs++;
    };
    if (!this.hold) {
      done();
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.held.push(() => {
        done();
        resolve();
      }),
    );
  }

  /** Completes the held persist() calls and stops holding. */
  release(): void {
    this.hold = false;
    for (const finish of this.held.splice(0)) finish();
  }

  get heldCount(): number {
    return this.held.length;
  }

  saveSnapshot(snapshot: Snapshot): Promise<void> {
    this.snapshots.push(snapshot);
    return Promise.resolve();
  }
}
