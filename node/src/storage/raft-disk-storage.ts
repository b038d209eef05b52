// RaftDiskStorage: the node's durable storage, etcd style. Directory layout:
//   <dir>/LOCK       exclusive lock, owner pid (dir-lock.ts)
//   <dir>/IDENTITY   member identity, written once (member-identity.ts)
//   <dir>/wal/       segmented write-ahead log (wal.ts)
//   <dir>/snap/      state-machine snapshots (snapshot-store.ts)
//
// How the node uses it:
//   const storage = await RaftDiskStorage.open(dir, options);
//   storage.takeRecoveredState() -> { hardState?, snapshot?, entries } to rebuild the Raft core's log from;
//                                   once only: the storage then drops its copy (a second call throws)
//   storage.freshlyCreated       -> true for a new (or wiped) data directory: a new incarnation
//   for each Ready:  await storage.append(ready.hardState, ready.entries, ready.snapshot)  // then send acks
//   after applying:  await storage.saveSnapshot(snapshot); await storage.compact(snapshot.metadata.index)
//   on shutdown:     await storage.close()
//
// Calls are serialised in arrival order (never two fsyncs racing), with a bounded queue. append() is one write and
// one fdatasync of the WAL (group commit of the whole Ready); a Ready carrying a snapshot first saves the snapshot
// file (its own fsyncs), and an append that starts a new segment adds one directory fsync. Any I/O failure leaves
// the storage failed: every later call rejects with StorageFailedError and the node must restart and recover.

import { dirname, join, resolve } from 'node:path';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { acquireDirLock, type DirLock } from './dir-lock.js';
import {
  asError,
  RecoveryGapError,
  SnapshotCorruptionError,
  StorageFailedError,
  StorageUsageError,
} from './errors.js';
import { nodeFileSystem, type StorageFileSystem } from './file-system.js';
import { fsyncDir } from './fs-durable.js';
import type { ReplayedLog } from './log-replay.js';
import { loadOrCreateIdentity, type ConfiguredIdentity, type MemberIdentity } from './member-identity.js';
import { reconcile, type ReconciledLog } from './recovery.js';
import { SnapshotStore } from './snapshot-store.js';
import { SegmentedWal, type TruncatedTail } from './wal.js';
import type { WalRecord } from './wal-record.js';

const MiB = 1024 * 1024;

export interface RaftDiskStorageOptions {
  /** Who the node is configured to be; checked against (or recorded in) the IDENTITY file. */
  readonly identity: ConfiguredIdentity;
  /** Random source for a new directory's incarnation id (crypto.randomBytes in production). */
  readonly randomBytes: (n: number) => Uint8Array;
  /** Monotonic milliseconds for fsync timings. Default: performance.now. */
  readonly now?: () => number;
  /** Called after each WAL fdatasync with its duration and the bytes it made durable (feed a histogram). */
  readonly onFsync?: (durationMs: number, bytes: number) => void;
  /** WAL segment size before rolling over. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** Largest single WAL record (an entry's data plus 17 bytes). Default 16 MiB. */
  readonly maxRecordBytes?: number;
  /** Largest single append (one Ready's entries and hard state, encoded). Default 64 MiB. */
  readonly maxAppendBytes?: number;
  /** Snapshot files kept, newest first. Default 3. */
  readonly snapshotsRetained?: number;
  /** Largest snapshot file read back. Default 1 GiB. */
  readonly maxSnapshotBytes?: number;
  /** Calls waiting behind the one running; more are refused. Default 1024. */
  readonly maxQueuedCalls?: number;
  /** Process liveness check for the directory lock. Default: process.kill(pid, 0). */
  readonly isAlive?: (pid: number) => boolean;
  /** Every file operation goes through it. Default: node's file system; the simulator passes its simulated disk. */
  readonly fs?: StorageFileSystem;
  /**
   * Takes the exclusive lock on `dir`. Default: acquireDirLock with `fs` and `isAlive`. That lock guards against
   * another *process*: it is keyed by process.pid and a per-process set of held directories, so a simulated member
   * that crashes inside one process would never release it and could not reopen its directory. The simulator
   * passes a lock of its own.
   */
  readonly acquireLock?: (dir: string) => Promise<DirLock>;
}

/** What the node rebuilds its in-memory log from after a restart. */
export interface RecoveredState {
  /** The last hard state, with commit raised to at least the snapshot index. Absent when never written. */
  readonly hardState?: HardState;
  /** The newest intact snapshot the WAL is consistent with. */
  readonly snapshot?: Snapshot;
  /** The entries after the snapshot (or from index 1 without one), contiguous. */
  readonly entries: readonly Entry[];
}

/** What open() found and repaired, for logging. */
export interface OpenReport {
  readonly freshlyCreated: boolean;
  /** A torn tail cut from the WAL (an append interrupted by a crash, never acknowledged). */
  readonly truncatedTail?: TruncatedTail;
  /** Damaged snapshot files moved aside (renamed `.broken`) because an older one plus the WAL covered them. */
  readonly quarantinedSnapshots: readonly { readonly file: string; readonly reason: string }[];
}

export class RaftDiskStorage {
  private tail: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private closing = false;
  private failure: Error | undefined;

  private constructor(
    readonly dir: string,
    readonly identity: MemberIdentity,
    readonly report: OpenReport,
    private recoveredState: RecoveredState | undefined,
    private readonly wal: SegmentedWal,
    private readonly snapshots: SnapshotStore,
    private readonly lock: DirLock,
    private snapshotIndexValue: number,
    private readonly maxQueuedCalls: number,
  ) {}

  /**
   * Opens (creating if needed) the data directory: takes the lock, checks the identity, replays the WAL, picks the
   * newest intact snapshot the WAL is consistent with. Throws DirLockedError, IdentityError, WalCorruptionError,
   * SnapshotCorruptionError or RecoveryGapError, releasing the lock first.
   */
  static async open(dir: string, options: RaftDiskStorageOptions): Promise<RaftDiskStorage> {
    const segmentBytes = options.segmentBytes ?? 64 * MiB;
    const maxRecordBytes = options.maxRecordBytes ?? 16 * MiB;
    const maxAppendBytes = options.maxAppendBytes ?? 64 * MiB;
    const maxQueuedCalls = options.maxQueuedCalls ?? 1024;
    if (!Number.isSafeInteger(maxQueuedCalls) || maxQueuedCalls < 1) {
      throw new StorageUsageError(`maxQueuedCalls must be a positive integer, got ${maxQueuedCalls}`);
    }
    const fs = options.fs ?? nodeFileSystem;
    const madeDir = await fs.mkdir(dir);
    // A new data directory must itself survive a crash, or the identity written into it could vanish.
    // Every directory mkdir created has an entry in its parent to fsync, from `dir` up to the first one created.
    for (let d = resolve(dir); madeDir !== undefined && dirname(d) !== d; d = dirname(d)) {
      await fsyncDir(dirname(d), fs);
      if (d === resolve(madeDir)) break;
    }
    const lock = options.acquireLock
      ? await options.acquireLock(dir)
      : await acquireDirLock(dir, { fs, ...(options.isAlive ? { isAlive: options.isAlive } : {}) });
    let wal: SegmentedWal | undefined;
    try {
      const walDir = join(dir, 'wal');
      const snapDir = join(dir, 'snap');
      const dataPresent = (await hasFile(fs, walDir, '.wal')) || (await hasFile(fs, snapDir, '.snap'));
      const { identity, created } = await loadOrCreateIdentity(dir, options.identity, {
        randomBytes: options.randomBytes,
        dataPresent,
        fs,
      });
      const madeWal = await fs.mkdir(walDir);
      const madeSnap = await fs.mkdir(snapDir);
      if (madeWal !== undefined || madeSnap !== undefined) await fsyncDir(dir, fs);

      const snapshots = await SnapshotStore.open(snapDir, {
        retain: options.snapshotsRetained ?? 3,
        maxSnapshotBytes: options.maxSnapshotBytes ?? 1024 * MiB,
        fs,
      });
      const candidates = await snapshots.list();
      const opened = await SegmentedWal.open(
        walDir,
        {
          segmentBytes,
          maxRecordBytes,
          maxAppendBytes,
          // A segment ends with at most one append past segmentBytes (plus its hard-state prelude). The floor keeps
          // segments written under a larger segmentBytes readable after the setting is lowered.
          maxSegmentFileBytes: Math.max(1024 * MiB, segmentBytes + maxAppendBytes + maxRecordBytes),
          now: options.now ?? (() => performance.now()),
          ...(options.onFsync ? { onFsync: options.onFsync } : {}),
          fs,
        },
        (candidates[0]?.index ?? 0) + 1,
      );
      wal = opened.wal;

      const skipped: { file: string; reason: string; name: (typeof candidates)[number] }[] = [];
      let chosen: { snapshot?: Snapshot; log: ReconciledLog } | undefined;
      for (const candidate of candidates) {
        let snapshot: Snapshot;
        try {
          snapshot = await snapshots.read(candidate);
        } catch (err) {
          if (!(err instanceof SnapshotCorruptionError)) throw err;
          skipped.push({ file: err.file, reason: err.reason, name: candidate });
          continue;
        }
        chosen = { snapshot, log: reconcileOrExplain(opened.log, snapshot, skipped) };
        break;
      }
      chosen ??= { log: reconcileOrExplain(opened.log, undefined, skipped) };

      if (chosen.snapshot && chosen.log.needsSnapshotMarker) {
        // The WAL does not continue from the snapshot (a crash between saving a leader's snapshot and its WAL
        // record, or a diverged suffix): record that the log restarts after it, so the next entry is not a hole.
        const { index, term } = chosen.snapshot.metadata;
        await opened.wal.append([{ kind: 'snapshot', index, term }]);
      }
      const quarantined: { file: string; reason: string }[] = [];
      for (const s of skipped) {
        await snapshots.quarantine(s.name);
        quarantined.push({ file: s.file, reason: s.reason });
      }
      const recovered: RecoveredState = {
        ...(chosen.log.hardState ? { hardState: chosen.log.hardState } : {}),
        ...(chosen.snapshot ? { snapshot: chosen.snapshot } : {}),
        entries: chosen.log.entries,
      };
      const report: OpenReport = {
        freshlyCreated: created,
        ...(opened.truncatedTail ? { truncatedTail: opened.truncatedTail } : {}),
        quarantinedSnapshots: quarantined,
      };
      return new RaftDiskStorage(
        dir,
        identity,
        report,
        recovered,
        opened.wal,
        snapshots,
        lock,
        chosen.snapshot?.metadata.index ?? 0,
        maxQueuedCalls,
      );
    } catch (err) {
      await wal?.close().catch(() => undefined);
      await lock.release().catch(() => undefined);
      throw err;
    }
  }

  /** True when open() created this data directory: the member is a new incarnation. */
  get freshlyCreated(): boolean {
    return this.report.freshlyCreated;
  }

  /**
   * The state to restart from. Held only until the node takes it: call once, then the storage drops its reference
   * so the log is not kept in memory twice.
   */
  takeRecoveredState(): RecoveredState {
    const state = this.recoveredState;
    if (!state) throw new StorageUsageError('the recovered state was already taken');
    this.recoveredState = undefined;
    return state;
  }

  /** Index of the last entry in the WAL (or of the last snapshot installed through append). */
  get lastIndex(): number {
    return this.wal.lastIndex;
  }

  /** Index of the newest durable snapshot; compaction may not go past it. */
  get snapshotIndex(): number {
    return this.snapshotIndexValue;
  }

  /**
   * Makes a Ready durable: `snapshot` (a snapshot received from the leader, which replaces the log), then `entries`
   * (an entry at index i replaces every entry >= i), then `hardState` — one WAL write and one fdatasync. Resolves
   * once durable; only then may the node send the messages that promise it.
   * `options.sync: false` (for a Ready whose mustSync is false) skips the fdatasync: the write is made durable by
   * the next synced append, a segment change or close(). Never use it for a Ready whose messages promise durability.
   */
  append(
    hardState: HardState | undefined,
    entries: readonly Entry[],
    snapshot: Snapshot | undefined,
    options: { readonly sync?: boolean } = {},
  ): Promise<void> {
    return this.enqueue('append', async () => {
      this.checkAppend(entries, snapshot);
      const records: WalRecord[] = [];
      if (snapshot) {
        await this.io(() => this.snapshots.save(snapshot));
        this.snapshotIndexValue = snapshot.metadata.index;
        records.push({ kind: 'snapshot', index: snapshot.metadata.index, term: snapshot.metadata.term });
      }
      for (const entry of entries) records.push({ kind: 'entry', entry });
      if (hardState) records.push({ kind: 'hardState', hardState });
      await this.io(() => this.wal.append(records, options.sync ?? true));
    });
  }

  /**
   * Durably saves a snapshot of the applied state machine (atomic: temp file, fsync, rename, directory fsync) and
   * prunes old snapshot files. The log is untouched; call compact() afterwards to drop the entries it covers.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    return this.enqueue('saveSnapshot', async () => {
      if (snapshot.metadata.index < this.snapshotIndexValue) {
        throw new StorageUsageError(
          `snapshot at index ${snapshot.metadata.index} is older than the saved one at ${this.snapshotIndexValue}`,
        );
      }
      await this.io(() => this.snapshots.save(snapshot));
      this.snapshotIndexValue = snapshot.metadata.index;
    });
  }

  /**
   * Deletes WAL segments whose entries are all at or below `index`. `index` may not pass the newest durable
   * snapshot, or recovery could not rebuild the state. Resolves to the number of segments deleted.
   * Compacting to the newest snapshot's index means a damaged newest snapshot file cannot fall back to an older one
   * (open() then fails with SnapshotCorruptionError); compacting to the oldest retained snapshot keeps that possible
   * at the cost of a longer WAL.
   */
  compact(index: number): Promise<number> {
    return this.enqueue('compact', async () => {
      if (!Number.isSafeInteger(index) || index < 0) {
        throw new StorageUsageError(`compact index must be a non-negative integer, got ${index}`);
      }
      if (index > this.snapshotIndexValue) {
        throw new StorageUsageError(
          `cannot compact to index ${index}: the newest durable snapshot is at ${this.snapshotIndexValue}`,
        );
      }
      return this.io(() => this.wal.compact(index));
    });
  }

  /** Waits for queued calls, then closes the WAL and releases the directory lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) {
      await this.tail;
      return;
    }
    this.closing = true;
    await this.tail;
    this.recoveredState = undefined;
    try {
      await this.wal.close();
    } finally {
      await this.lock.release();
    }
  }

  private checkAppend(entries: readonly Entry[], snapshot: Snapshot | undefined): void {
    for (let i = 1; i < entries.length; i++) {
      const prev = entries[i - 1]!;
      const cur = entries[i]!;
      if (cur.index !== prev.index + 1) {
        throw new StorageUsageError(`entries are not contiguous: ${cur.index} follows ${prev.index}`);
      }
      if (cur.term < prev.term) {
        throw new StorageUsageError(
          `entry ${cur.index} has term ${cur.term} below the previous term ${prev.term}`,
        );
      }
    }
    const first = entries[0];
    if (snapshot) {
      const { index } = snapshot.metadata;
      if (index < this.snapshotIndexValue) {
        throw new StorageUsageError(
          `snapshot at index ${index} is older than the saved one at ${this.snapshotIndexValue}`,
        );
      }
      if (first && first.index !== index + 1) {
        throw new StorageUsageError(
          `entries after a snapshot at ${index} must start at ${index + 1}, not ${first.index}`,
        );
      }
      return;
    }
    if (!first) return;
    if (first.index > this.wal.lastIndex + 1) {
      throw new StorageUsageError(
        `entry ${first.index} would leave a hole after the last index ${this.wal.lastIndex}`,
      );
    }
    if (first.index <= this.snapshotIndexValue) {
      throw new StorageUsageError(
        `entry ${first.index} would overwrite the log at or below the snapshot index ${this.snapshotIndexValue}`,
      );
    }
  }

  /** Runs one I/O step; any failure fails the storage for good (see StorageFailedError). */
  private async io<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      if (!(err instanceof StorageUsageError) && !(err instanceof RangeError)) {
        this.failure = asError(err);
      }
      throw err;
    }
  }

  private enqueue<T>(operation: string, run: () => Promise<T>): Promise<T> {
    if (this.closing) return Promise.reject(new StorageUsageError(`${operation}: the storage is closed`));
    if (this.queued >= this.maxQueuedCalls) {
      return Promise.reject(
        new StorageUsageError(
          `${operation}: ${this.queued} calls are already queued (bound ${this.maxQueuedCalls})`,
        ),
      );
    }
    this.queued++;
    const result = this.tail.then(async () => {
      try {
        if (this.failure) {
          throw new StorageFailedError(`${operation}: an earlier write failed: ${this.failure.message}`);
        }
        return await run();
      } finally {
        this.queued--;
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Reconciles, turning a gap into the error that explains it (a damaged newest snapshot, or a too-short WAL). */
function reconcileOrExplain(
  log: ReplayedLog,
  snapshot: Snapshot | undefined,
  skipped: readonly { file: string; reason: string }[],
): ReconciledLog {
  try {
    return reconcile(log, snapshot ? snapshot.metadata : { index: 0, term: 0 });
  } catch (err) {
    const newestDamaged = skipped[0];
    if (err instanceof RecoveryGapError && newestDamaged) {
      const fallback = snapshot
        ? `the older snapshot at index ${snapshot.metadata.index}`
        : 'no older snapshot';
      throw new SnapshotCorruptionError(
        newestDamaged.file,
        `${newestDamaged.reason}; falling back to ${fallback} is impossible: ${err.message}`,
      );
    }
    throw err;
  }
}

async function hasFile(fs: StorageFileSystem, dir: string, suffix: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).some((f) => f.endsWith(suffix));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
