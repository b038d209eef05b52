import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import {
  DirLockedError,
  IdentityError,
  SnapshotCorruptionError,
  StorageFailedError,
  StorageUsageError,
  WalCorruptionError,
} from './errors.js';
import { RaftDiskStorage, type RaftDiskStorageOptions } from './raft-disk-storage.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'disk-storage-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

let seed = 0;
function options(overrides: Partial<RaftDiskStorageOptions> = {}): RaftDiskStorageOptions {
  return {
    identity: { clusterId: 'c1', shardId: 's0', memberName: 'kv-0' },
    randomBytes: (n) => new Uint8Array(n).fill(++seed & 0xff),
    segmentBytes: 1024,
    ...overrides,
  };
}

const entry = (index: number, term: number, size = 32): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array(size).fill(index & 0xff),
});
const range = (from: number, to: number, term: number): Entry[] =>
  Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
const hs = (term: number, commit: number): HardState => ({ term, vote: 'kv-0', commit });
const snap = (index: number, term: number): Snapshot => ({
  metadata: { index, term, confState: { voters: ['kv-0', 'kv-1', 'kv-2'], learners: [] } },
  data: new TextEncoder().encode(`state@${index}`),
});
const ids = (entries: readonly Entry[]): string => {
  if (entries.length === 0) return '';
  return `${entries[0]!.index}..${entries[entries.length - 1]!.index}`;
};

async function withStorage<T>(
  o: RaftDiskStorageOptions,
  fn: (s: RaftDiskStorage) => Promise<T> | T,
): Promise<T> {
  const s = await RaftDiskStorage.open(dir, o);
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe('RaftDiskStorage', () => {
  it('creates a fresh directory once and reports it as a new incarnation', async () => {
    const first = await withStorage(options(), (s) => {
      expect(s.freshlyCreated).toBe(true);
      expect(s.takeRecoveredState()).toEqual({ entries: [] });
      expect(() => s.takeRecoveredState()).toThrow(/already taken/);
      return s.identity;
    });
    expect((await readdir(dir)).sort()).toEqual(['IDENTITY', 'snap', 'wal']);
    await withStorage(options(), (s) => {
      expect(s.freshlyCreated).toBe(false);
      expect(s.identity).toEqual(first);
    });
    // Wiping the directory makes a new incarnation with a new node id.
    await rm(dir, { recursive: true });
    await withStorage(options(), (s) => {
      expect(s.freshlyCreated).toBe(true);
      expect(s.identity.incarnationId).not.toBe(first.incarnationId);
      expect(s.identity.nodeId).not.toBe(first.nodeId);
    });
  });

  it('creates missing parent directories of the data directory', async () => {
    const nested = join(dir, 'a', 'b', 'data');
    const s = await RaftDiskStorage.open(nested, options());
    expect(s.freshlyCreated).toBe(true);
    await s.close();
    expect((await readdir(nested)).sort()).toEqual(['IDENTITY', 'snap', 'wal']);
  });

  it('persists Readys with one fsync each and recovers them, including overwrites', async () => {
    const fsyncs: number[] = [];
    await withStorage(options({ onFsync: (ms) => fsyncs.push(ms) }), async (s) => {
      await s.append(hs(1, 0), range(1, 5, 1), undefined);
      await s.append(hs(1, 3), [], undefined);
      await s.append(undefined, range(6, 30, 1), undefined);
      // A new leader in term 2 overwrites 20.. (which spans a segment boundary at 1 KiB segments).
      await s.append(hs(2, 19), range(20, 22, 2), undefined);
      expect(s.lastIndex).toBe(22);
    });
    expect(fsyncs).toHaveLength(4);
    expect(fsyncs.every((ms) => ms >= 0)).toBe(true);
    expect((await readdir(join(dir, 'wal'))).length).toBeGreaterThan(1);
    await withStorage(options(), (s) => {
      const r = s.takeRecoveredState();
      expect(r.hardState).toEqual(hs(2, 19));
      expect(r.snapshot).toBeUndefined();
      expect(ids(r.entries)).toBe('1..22');
      expect(r.entries.map((e) => e.term)).toEqual([...Array<number>(19).fill(1), 2, 2, 2]);
      expect(r.entries[9]).toEqual(entry(10, 1));
    });
  });

  it('skips the fsync for a Ready that need not sync, and syncs it on close', async () => {
    let syncs = 0;
    await withStorage(options({ onFsync: () => syncs++ }), async (s) => {
      await s.append(hs(1, 0), range(1, 2, 1), undefined);
      expect(syncs).toBe(1);
      await s.append(hs(1, 2), [], undefined, { sync: false });
      expect(syncs).toBe(1);
    });
    expect(syncs).toBe(2);
    await withStorage(options(), (s) => expect(s.takeRecoveredState().hardState).toEqual(hs(1, 2)));
  });

  it('serialises calls made without waiting, in order', async () => {
    let syncs = 0;
    await withStorage(options({ onFsync: () => syncs++ }), async (s) => {
      const pending = Array.from({ length: 20 }, (_, i) => s.append(hs(1, i), [entry(i + 1, 1)], undefined));
      await Promise.all(pending);
    });
    expect(syncs).toBe(20);
    await withStorage(options(), (s) => {
      const r = s.takeRecoveredState();
      expect(ids(r.entries)).toBe('1..20');
      expect(r.hardState?.commit).toBe(19);
    });
  });

  it('bounds the queue of waiting calls', async () => {
    await withStorage(options({ maxQueuedCalls: 2 }), async (s) => {
      const a = s.append(undefined, [entry(1, 1)], undefined);
      const b = s.append(undefined, [entry(2, 1)], undefined);
      await expect(s.append(undefined, [entry(3, 1)], undefined)).rejects.toThrow(
        /2 calls are already queued/,
      );
      await Promise.all([a, b]);
      await s.append(undefined, [entry(3, 1)], undefined);
    });
  });

  it('refuses bad appends without failing the storage', async () => {
    await withStorage(options(), async (s) => {
      await s.append(undefined, range(1, 3, 1), undefined);
      await expect(s.append(undefined, [entry(5, 1)], undefined)).rejects.toThrow(
        /leave a hole after the last index 3/,
      );
      await expect(s.append(undefined, [entry(4, 1), entry(6, 1)], undefined)).rejects.toThrow(
        /not contiguous/,
      );
      await expect(s.append(undefined, [entry(4, 2), entry(5, 1)], undefined)).rejects.toThrow(
        /below the previous/,
      );
      await expect(s.append(undefined, [entry(8, 2)], snap(5, 2))).rejects.toThrow(/must start at 6, not 8/);
      await s.append(undefined, [entry(4, 1)], undefined);
      expect(s.lastIndex).toBe(4);
    });
  });

  it('installs a snapshot received in a Ready, replacing the log', async () => {
    await withStorage(options(), async (s) => {
      await s.append(hs(1, 2), range(1, 10, 1), undefined);
      await s.append(hs(3, 100), range(101, 102, 3), snap(100, 3));
      expect(s.snapshotIndex).toBe(100);
      expect(s.lastIndex).toBe(102);
      await expect(s.append(undefined, [entry(100, 3)], undefined)).rejects.toThrow(
        /at or below the snapshot index/,
      );
    });
    await withStorage(options(), (s) => {
      const r = s.takeRecoveredState();
      expect(r.snapshot).toEqual(snap(100, 3));
      expect(ids(r.entries)).toBe('101..102');
      expect(r.hardState).toEqual(hs(3, 100));
    });
  });

  it('keeps the snapshot when a crash hit after saving it but before its WAL record', async () => {
    await withStorage(options(), async (s) => {
      await s.append(hs(1, 2), range(1, 10, 1), undefined);
    });
    const walFiles = await readdir(join(dir, 'wal'));
    const lastWal = join(dir, 'wal', walFiles.sort()[walFiles.length - 1]!);
    const before = (await stat(lastWal)).size;
    await withStorage(options(), async (s) => {
      await s.append(hs(3, 100), range(101, 101, 3), snap(100, 3));
    });
    await truncate(lastWal, before); // the WAL write never happened
    await withStorage(options(), async (s) => {
      const r = s.takeRecoveredState();
      expect(r.snapshot?.metadata.index).toBe(100);
      expect(r.entries).toEqual([]);
      // The commit index is raised to the snapshot: a snapshot holds only committed entries.
      expect(r.hardState).toEqual(hs(1, 100));
      expect(s.lastIndex).toBe(100);
      // The log continues after the snapshot, not after the old WAL's index 10.
      await s.append(hs(3, 101), [entry(101, 3)], undefined);
    });
    await withStorage(options(), (s) => {
      const r = s.takeRecoveredState();
      expect(r.snapshot?.metadata.index).toBe(100);
      expect(ids(r.entries)).toBe('101..101');
    });
  });

  it('compacts the WAL behind a saved snapshot and recovers from both', async () => {
    await withStorage(options(), async (s) => {
      for (let i = 1; i <= 60; i += 5) await s.append(hs(1, i + 4), range(i, i + 4, 1), undefined);
      const segmentsBefore = (await readdir(join(dir, 'wal'))).length;
      await expect(s.compact(40)).rejects.toThrow(/newest durable snapshot is at 0/);
      await s.saveSnapshot(snap(40, 1));
      const removed = await s.compact(40);
      expect(removed).toBeGreaterThan(0);
      expect((await readdir(join(dir, 'wal'))).length).toBe(segmentsBefore - removed);
      await expect(s.saveSnapshot(snap(30, 1))).rejects.toThrow(/older than the saved one at 40/);
    });
    await withStorage(options(), (s) => {
      const r = s.takeRecoveredState();
      expect(r.snapshot).toEqual(snap(40, 1));
      expect(ids(r.entries)).toBe('41..60');
      expect(r.hardState).toEqual(hs(1, 60));
    });
  });

  it('keeps the configured number of snapshot files', async () => {
    await withStorage(options({ snapshotsRetained: 2 }), async (s) => {
      await s.append(undefined, range(1, 30, 1), undefined);
      for (const i of [10, 20, 30]) await s.saveSnapshot(snap(i, 1));
    });
    expect((await readdir(join(dir, 'snap'))).sort()).toEqual([
      '0000000000000014-0000000000000001.snap',
      '000000000000001e-0000000000000001.snap',
    ]);
  });

  /** Appends 1..last in Readys of 5 entries, so the WAL spans several 1 KiB segments. */
  async function appendInBatches(s: RaftDiskStorage, last: number): Promise<void> {
    for (let i = 1; i <= last; i += 5) await s.append(hs(1, i + 4), range(i, i + 4, 1), undefined);
  }

  async function corruptNewestSnapshot(): Promise<string> {
    const files = (await readdir(join(dir, 'snap'))).sort();
    const newest = join(dir, 'snap', files[files.length - 1]!);
    const bytes = await readFile(newest);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 0xff;
    await writeFile(newest, bytes);
    return newest;
  }

  it('falls back to the previous snapshot when the newest is damaged and the WAL covers the gap', async () => {
    await withStorage(options(), async (s) => {
      await appendInBatches(s, 50);
      await s.saveSnapshot(snap(20, 1));
      // The WAL still holds entries from before 21 after this.
      expect(await s.compact(20)).toBe(1);
      await s.saveSnapshot(snap(40, 1));
    });
    const damaged = await corruptNewestSnapshot();
    await withStorage(options(), (s) => {
      const r = s.takeRecoveredState();
      expect(r.snapshot).toEqual(snap(20, 1));
      expect(ids(r.entries)).toBe('21..50');
      expect(s.report.quarantinedSnapshots).toEqual([{ file: damaged, reason: 'checksum mismatch' }]);
      expect(s.snapshotIndex).toBe(20);
    });
    expect(await readdir(join(dir, 'snap'))).toContain(`${damaged.split('/').pop()!}.broken`);
  });

  it('refuses to fall back when the WAL no longer covers the gap', async () => {
    await withStorage(options(), async (s) => {
      await appendInBatches(s, 50);
      await s.saveSnapshot(snap(20, 1));
      await s.saveSnapshot(snap(40, 1));
      expect(await s.compact(40)).toBeGreaterThan(0);
    });
    const damaged = await corruptNewestSnapshot();
    const err = await RaftDiskStorage.open(dir, options()).then(
      async (s) => s.close(),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SnapshotCorruptionError);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^snapshot ${damaged}: checksum mismatch; falling back to the older snapshot at index 20 is impossible: ` +
          'the WAL starts at index \\d+ but the snapshot ends at index 20',
      ),
    );
    // Nothing was renamed, and the lock was released.
    expect((await readdir(join(dir, 'snap'))).every((f) => f.endsWith('.snap'))).toBe(true);
    expect(await readdir(dir)).not.toContain('LOCK');
  });

  it('ignores a snapshot temp file left by a crash mid-save', async () => {
    await withStorage(options(), async (s) => {
      await s.append(hs(1, 30), range(1, 30, 1), undefined);
      await s.saveSnapshot(snap(10, 1));
    });
    await writeFile(join(dir, 'snap', '0000000000000014-0000000000000001.snap.tmp'), new Uint8Array(5));
    await withStorage(options(), (s) => {
      expect(s.takeRecoveredState().snapshot).toEqual(snap(10, 1));
    });
    expect(await readdir(join(dir, 'snap'))).toEqual(['000000000000000a-0000000000000001.snap']);
  });

  it('reports a torn WAL tail it truncated', async () => {
    await withStorage(options({ segmentBytes: 1 << 20 }), async (s) => {
      await s.append(hs(1, 1), range(1, 2, 1), undefined);
      await s.append(undefined, range(3, 3, 1), undefined);
    });
    const [file] = await readdir(join(dir, 'wal'));
    const path = join(dir, 'wal', file!);
    await truncate(path, (await stat(path)).size - 3);
    await withStorage(options(), (s) => {
      expect(s.report.truncatedTail).toMatchObject({ file: path, droppedBytes: 16 + 17 + 32 - 3 });
      expect(ids(s.takeRecoveredState().entries)).toBe('1..2');
    });
  });

  it('refuses a corrupt WAL and releases the lock', async () => {
    await withStorage(options({ segmentBytes: 1 << 20 }), async (s) => {
      await s.append(undefined, range(1, 3, 1), undefined);
    });
    const [file] = await readdir(join(dir, 'wal'));
    const path = join(dir, 'wal', file!);
    const bytes = await readFile(path);
    bytes[20] = bytes[20]! ^ 1;
    await writeFile(path, bytes);
    await expect(RaftDiskStorage.open(dir, options())).rejects.toThrow(WalCorruptionError);
    await expect(RaftDiskStorage.open(dir, options())).rejects.toMatchObject({ file: path, offset: 0 });
    expect(await readdir(dir)).not.toContain('LOCK');
  });

  it('refuses a second open of the same directory while the first is open', async () => {
    await withStorage(options(), async () => {
      await expect(RaftDiskStorage.open(dir, options())).rejects.toThrow(DirLockedError);
    });
    await withStorage(options(), () => undefined);
  });

  it('refuses a directory of another member and releases the lock', async () => {
    await withStorage(options(), () => undefined);
    const other = options({ identity: { clusterId: 'c1', shardId: 's1', memberName: 'kv-0' } });
    await expect(RaftDiskStorage.open(dir, other)).rejects.toThrow(IdentityError);
    await expect(RaftDiskStorage.open(dir, other)).rejects.toThrow(/shardId is "s0", configured "s1"/);
    await withStorage(options(), (s) => expect(s.freshlyCreated).toBe(false));
  });

  it('stays failed after an I/O error and recovers what was durable on reopen', async () => {
    await withStorage(options({ segmentBytes: 100 }), async (s) => {
      await s.append(hs(1, 1), [entry(1, 1, 100)], undefined);
      // The next append must start segment 1; a stray file already holding that name makes creating it fail.
      const [current] = await readdir(join(dir, 'wal'));
      expect(current).toBe('0000000000000000-0000000000000001.wal');
      await writeFile(join(dir, 'wal', '0000000000000001-0000000000000002.wal'), new Uint8Array());
      await expect(s.append(hs(1, 2), [entry(2, 1)], undefined)).rejects.toThrow(/EEXIST/);
      // Even a call that would not touch the WAL is refused: the storage no longer knows what is on disk.
      await expect(s.saveSnapshot(snap(1, 1))).rejects.toThrow(StorageFailedError);
      await expect(s.append(undefined, [entry(2, 1)], undefined)).rejects.toThrow(
        /an earlier write failed: EEXIST/,
      );
    });
    await withStorage(options({ segmentBytes: 100 }), (s) => {
      const r = s.takeRecoveredState();
      expect(ids(r.entries)).toBe('1..1');
      expect(r.hardState).toEqual(hs(1, 1));
    });
  });

  it('refuses calls after close', async () => {
    const s = await RaftDiskStorage.open(dir, options());
    await s.close();
    await s.close();
    await expect(s.append(undefined, [entry(1, 1)], undefined)).rejects.toThrow(StorageUsageError);
    await expect(s.compact(0)).rejects.toThrow(/closed/);
  });
});
