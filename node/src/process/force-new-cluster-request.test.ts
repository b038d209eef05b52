// The request side of ForceNewCluster: the replica is stopped first, the decision is made on what it persisted, and
// the marker is written only when the restart will be able to carry it out.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { raftStatus } from '../../testing/raft/raft-status.js';
import { MemoryStorage } from '../raft/memory-storage.js';
import type { Entry, RaftStatus } from '../raft/types.js';
import { RaftDiskStorage } from '../storage/raft-disk-storage.js';
import { ForceNewClusterError } from './force-new-cluster.js';
import { FORCE_NEW_CLUSTER_MARKER, readForceNewClusterMarker } from './force-new-cluster-marker.js';
import { prepareForceNewCluster } from './force-new-cluster-request.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'force-new-cluster-request-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array([index]),
});

/** Member a's persisted log: bootstrap snapshot at 1 with `voters`, entries 2..6 at term 2, commit 4, term 3. */
function memory(voters: string[]): MemoryStorage {
  const m = MemoryStorage.bootstrap(voters);
  m.append([2, 3, 4, 5, 6].map((i) => entry(i, 2)));
  m.setHardState({ term: 3, vote: 'a', commit: 4 });
  return m;
}

/** A replica that records being stopped and then reports `after` as its status. */
function replica(after: RaftStatus) {
  const r = {
    id: 'a',
    stopped: false,
    stop: () => Promise.resolve(void (r.stopped = true)),
    status: () => after,
  };
  return r;
}

const open = (): Promise<RaftDiskStorage> =>
  RaftDiskStorage.open(dir, {
    identity: { clusterId: 'c1', shardId: '0', memberName: 'a', nodeId: 'a' },
    randomBytes: (n) => new Uint8Array(n).fill(3),
  });

async function withStorage(fn: (s: RaftDiskStorage) => Promise<void>): Promise<void> {
  const s = await open();
  try {
    s.takeRecoveredState();
    await fn(s);
  } finally {
    await s.close();
  }
}

const NO_LEADER = raftStatus({ leader: '', role: 'preCandidate' });
const NOW = Date.parse('2030-01-02T03:04:05.000Z');

describe('prepareForceNewCluster', () => {
  it('stops the replica, syncs the hard state and records what the member keeps', async () => {
    await withStorage(async (storage) => {
      const r = replica(NO_LEADER);
      const kept = await prepareForceNewCluster({
        replica: r,
        memory: memory(['a', 'b', 'c']),
        storage,
        now: () => NOW,
      });
      expect(r.stopped).toBe(true);
      expect(kept).toEqual({
        requestedAt: '2030-01-02T03:04:05.000Z',
        commit: 4,
        lastIndex: 6,
        lastLogTerm: 2,
      });
      expect(await readForceNewClusterMarker(dir)).toEqual(kept);
    });
    // The hard state it decided on is on disk: the restart starts from the same commit index.
    const reopened = await open();
    try {
      expect(reopened.takeRecoveredState().hardState).toEqual({ term: 3, vote: 'a', commit: 4 });
    } finally {
      await reopened.close();
    }
  });

  it('refuses without a marker when a leader was heard from while the replica stopped', async () => {
    await withStorage(async (storage) => {
      const r = replica(raftStatus({ leader: 'b' }));
      await expect(
        prepareForceNewCluster({ replica: r, memory: memory(['a', 'b', 'c']), storage, now: () => NOW }),
      ).rejects.toThrow(
        new ForceNewClusterError(
          'a leader (b) was heard from while stopping for the request; the group has a quorum, not forcing a new cluster (the member restarts normally)',
        ),
      );
      expect(r.stopped).toBe(true);
      expect(existsSync(join(dir, FORCE_NEW_CLUSTER_MARKER))).toBe(false);
    });
  });

  it('refuses without a marker what the restart would refuse: a member that is no voter at its commit index', async () => {
    await withStorage(async (storage) => {
      await expect(
        prepareForceNewCluster({
          replica: replica(NO_LEADER),
          memory: memory(['b', 'c']),
          storage,
          now: () => NOW,
        }),
      ).rejects.toThrow(/^a is not a voter in the configuration at commit index 4/);
      expect(existsSync(join(dir, FORCE_NEW_CLUSTER_MARKER))).toBe(false);
    });
  });
});
