// The segmented write-ahead log: files of framed records (wal-frame.ts) named by sequence and first index
// (segment-name.ts). One append is one positional write of all its frames plus one fdatasync, so the node can group
// every Ready into a single durable step. A new segment is started once the current one reaches `segmentBytes`;
// creating it costs one extra directory fsync, and it begins with the current hard state so deleting older segments
// never loses it.
//
// This class does not serialise calls itself (RaftDiskStorage does); it refuses overlapping calls instead of
// queueing them, and refuses everything after a failed write or fsync.

import { join } from 'node:path';
import type { HardState } from '../raft/types.js';
import { DecodeError } from './binary.js';
import { asError, StorageFailedError, StorageUsageError, WalCorruptionError } from './errors.js';
import { nodeFileSystem, type StorageFileHandle, type StorageFileSystem } from './file-system.js';
import { fsyncDir, writeFully } from './fs-durable.js';
import { LogReplay, ReplayRuleError, type ReplayedLog } from './log-replay.js';
import { parseSegmentName, removableSegmentCount, segmentName, type SegmentName } from './segment-name.js';
import { scanFrames } from './wal-frame.js';
import { decodeRecord, encodeRecords, largestPayloadBytes, type WalRecord } from './wal-record.js';

export interface WalOptions {
  /** Start a new segment once the current one holds at least this many bytes. */
  readonly segmentBytes: number;
  /** Upper bound on one record's payload (one entry's data plus 17 bytes); larger appends are refused. */
  readonly maxRecordBytes: number;
  /** Upper bound on the encoded size of one append (all its records); larger appends are refused. */
  readonly maxAppendBytes: number;
  /** Upper bound on one segment file read back at open; a bigger file is refused rather than read into memory. */
  readonly maxSegmentFileBytes: number;
  /** Monotonic milliseconds, for fsync timings. */
  readonly now: () => number;
  /** Called after every WAL fdatasync with its duration and the bytes it made durable. */
  readonly onFsync?: (durationMs: number, bytes: number) => void;
  /** Where the segments live: node's file system by default, a simulated disk in the simulator. */
  readonly fs?: StorageFileSystem;
}

/** A torn tail found and cut off at open: the interrupted append was never acknowledged. */
export interface TruncatedTail {
  readonly file: string;
  readonly offset: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

export interface WalOpenResult {
  readonly wal: SegmentedWal;
  readonly log: ReplayedLog;
  readonly truncatedTail?: TruncatedTail;
}

export class SegmentedWal {
  private busy = false;
  /** Bytes written since the last fdatasync. */
  private unsyncedBytes = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor(
    private readonly fs: StorageFileSystem,
    private readonly dir: string,
    private readonly options: WalOptions,
    private readonly segments: SegmentName[],
    private handle: StorageFileHandle,
    private writeOffset: number,
    private lastIndexValue: number,
    private hardState: HardState | undefined,
  ) {}

  /**
   * Opens the WAL in `dir` (which must exist), replays every segment and cuts off a torn tail of the last one.
   * An empty directory gets a first segment named `initialIndex` (the index after the snapshot the node starts from).
   * Throws WalCorruptionError for damage anywhere before the tail, a missing segment, or records that break the
   * log rules.
   */
  static async open(dir: string, options: WalOptions, initialIndex: number): Promise<WalOpenResult> {
    validateOptions(options);
    const fs = options.fs ?? nodeFileSystem;
    const segments = (await fs.readdir(dir))
      .map(parseSegmentName)
      .filter((s): s is SegmentName => s !== undefined)
      .sort((a, b) => a.seq - b.seq);
    for (let i = 1; i < segments.length; i++) {
      if (segments[i]!.seq !== segments[i - 1]!.seq + 1) {
        throw new WalCorruptionError(
          join(dir, segments[i]!.fileName),
          0,
          `segment sequence ${segments[i - 1]!.seq + 1} is missing before it`,
        );
      }
    }

    const replay = new LogReplay();
    let truncatedTail: TruncatedTail | undefined;
    let writeOffset = 0;
    for (let i = 0; i < segments.length; i++) {
      const path = join(dir, segments[i]!.fileName);
      const isLast = i === segments.length - 1;
      const size = (await fs.stat(path)).size;
      if (size > options.maxSegmentFileBytes) {
        throw new WalCorruptionError(
          path,
          0,
          `segment is ${size} bytes, more than the ${options.maxSegmentFileBytes}-byte bound for reading it back`,
        );
      }
      const buf = await fs.readFile(path);
      const scan = scanFrames(buf, options.maxRecordBytes);
      if (scan.damage) {
        if (scan.damage.kind === 'corrupt')
          throw new WalCorruptionError(path, scan.damage.offset, scan.damage.reason);
        if (!isLast) {
          // A sealed segment was fsynced before its successor was created, so it cannot have a torn tail.
          throw new WalCorruptionError(path, scan.damage.offset, `${scan.damage.reason} in a sealed segment`);
        }
      }
      for (const frame of scan.frames) {
        const at = { file: path, offset: frame.offset };
        try {
          replay.apply(decodeRecord(frame.type, frame.payload), at);
        } catch (err) {
          if (err instanceof DecodeError || err instanceof ReplayRuleError) {
            throw new WalCorruptionError(path, frame.offset, err.message);
          }
          throw err;
        }
      }
      if (isLast) {
        writeOffset = scan.validBytes;
        if (scan.damage) {
          await fs.truncate(path, scan.validBytes);
          const h = await fs.open(path, 'r+');
          try {
            await h.sync();
          } finally {
            await h.close();
          }
          truncatedTail = {
            file: path,
            offset: scan.validBytes,
            droppedBytes: buf.length - scan.validBytes,
            reason: scan.damage.reason,
          };
        }
      }
    }

    if (segments.length === 0) {
      const first = segmentName(0, initialIndex);
      const h = await fs.open(join(dir, first.fileName), 'wx');
      await h.close();
      await fsyncDir(dir, fs);
      segments.push(first);
    }
    const handle = await fs.open(join(dir, segments[segments.length - 1]!.fileName), 'r+');
    // A process that died while the machine stayed up leaves its unsynced appends in the page cache, and the replay
    // above read them. The member will act on them (ack the entries, keep the vote), so they must be durable before
    // it does: a power loss later would otherwise take back what it promised since. One fsync of the tail segment
    // (sealed ones were synced before their successor was created) and of the directory (a new segment's entry).
    // PostgreSQL fsyncs its data directory after a crash for the same reason.
    try {
      await handle.sync();
      await fsyncDir(dir, fs);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
    const log = replay.result();
    const wal = new SegmentedWal(
      fs,
      dir,
      options,
      segments,
      handle,
      writeOffset,
      replay.lastIndex(),
      log.hardState,
    );
    return truncatedTail ? { wal, log, truncatedTail } : { wal, log };
  }

  /** Index of the last entry written (or of the last snapshot marker when no entry follows it); 0 when empty. */
  get lastIndex(): number {
    return this.lastIndexValue;
  }

  /** The segments currently on disk, oldest first. */
  get segmentNames(): readonly SegmentName[] {
    return this.segments;
  }

  /**
   * Makes `records` durable: one write and one fdatasync (plus one directory fsync when a new segment starts).
   * With `sync` false (a Ready whose mustSync is false: only the commit index moved) the fdatasync is skipped; the
   * next synced append, a segment change or close() makes the data durable. Records must already obey the log
   * rules; RaftDiskStorage checks them.
   */
  async append(records: readonly WalRecord[], sync = true): Promise<void> {
    this.enter();
    try {
      if (records.length === 0) return;
      const largest = largestPayloadBytes(records);
      if (largest > this.options.maxRecordBytes) {
        throw new StorageUsageError(
          `a WAL record of ${largest} bytes exceeds the ${this.options.maxRecordBytes}-byte maxRecordBytes bound`,
        );
      }
      // Encode before touching the disk: a bad value is the caller's error and must not fail the WAL.
      let data = encodeRecords(records);
      if (data.length > this.options.maxAppendBytes) {
        throw new StorageUsageError(
          `an append of ${data.length} bytes exceeds the ${this.options.maxAppendBytes}-byte maxAppendBytes bound`,
        );
      }
      try {
        let newSegment = false;
        if (this.writeOffset >= this.options.segmentBytes) {
          await this.startSegment(records);
          newSegment = true;
          if (this.hardState)
            data = concat(encodeRecords([{ kind: 'hardState', hardState: this.hardState }]), data);
        }
        await writeFully(this.handle, data, this.writeOffset);
        this.writeOffset += data.length;
        this.unsyncedBytes += data.length;
        // A new segment is always synced: its directory entry must be durable with its first records.
        if (sync || newSegment) await this.sync();
        if (newSegment) await fsyncDir(this.dir, this.fs);
      } catch (err) {
        this.failure = asError(err);
        throw err;
      }
      for (const r of records) {
        if (r.kind === 'entry') this.lastIndexValue = r.entry.index;
        else if (r.kind === 'snapshot') this.lastIndexValue = r.index;
        else this.hardState = r.hardState;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Deletes the oldest segments whose live entries are all at or below `index`; returns how many went. */
  async compact(index: number): Promise<number> {
    this.enter();
    try {
      const n = removableSegmentCount(this.segments, index);
      if (n === 0) return 0;
      try {
        // Oldest first, so a crash part-way leaves a contiguous run of segments.
        for (const s of this.segments.slice(0, n)) await this.fs.unlink(join(this.dir, s.fileName));
        await fsyncDir(this.dir, this.fs);
      } catch (err) {
        this.failure = asError(err);
        throw err;
      }
      this.segments.splice(0, n);
      return n;
    } finally {
      this.busy = false;
    }
  }

  /** Closes the WAL, first making any unsynced appends durable. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.unsyncedBytes > 0 && !this.failure) await this.sync();
    } finally {
      await this.handle.close();
    }
  }

  private async sync(): Promise<void> {
    const started = this.options.now();
    await this.handle.datasync();
    this.options.onFsync?.(this.options.now() - started, this.unsyncedBytes);
    this.unsyncedBytes = 0;
  }

  private enter(): void {
    if (this.closed) throw new StorageUsageError('the WAL is closed');
    if (this.failure) throw new StorageFailedError(`an earlier WAL write failed: ${this.failure.message}`);
    if (this.busy) throw new StorageUsageError('WAL calls overlap; the caller must serialise them');
    this.busy = true;
  }

  /**
   * Seals the current segment and opens the next one. The sealed segment is synced first, which is what lets open()
   * treat any damage in a sealed segment as corruption rather than a torn tail.
   */
  private async startSegment(records: readonly WalRecord[]): Promise<void> {
    if (this.unsyncedBytes > 0) await this.sync();
    let firstIndex = this.lastIndexValue + 1;
    for (const r of records) {
      if (r.kind === 'entry') firstIndex = Math.min(firstIndex, r.entry.index);
      if (r.kind === 'snapshot') firstIndex = Math.min(firstIndex, r.index + 1);
    }
    const last = this.segments[this.segments.length - 1]!;
    const next = segmentName(last.seq + 1, firstIndex);
    const handle = await this.fs.open(join(this.dir, next.fileName), 'wx');
    await this.handle.close();
    this.handle = handle;
    this.writeOffset = 0;
    this.segments.push(next);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function validateOptions(o: WalOptions): void {
  const positive = (n: number, what: string): void => {
    if (!Number.isSafeInteger(n) || n <= 0)
      throw new StorageUsageError(`${what} must be a positive integer, got ${n}`);
  };
  positive(o.segmentBytes, 'segmentBytes');
  positive(o.maxRecordBytes, 'maxRecordBytes');
  positive(o.maxAppendBytes, 'maxAppendBytes');
  positive(o.maxSegmentFileBytes, 'maxSegmentFileBytes');
}
