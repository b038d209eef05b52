// Snapshot files in one directory, named `<index>-<term>.snap` (16 hex digits each, so names sort by index).
// A save is atomic (temp file, fsync, rename, directory fsync): after a crash the directory holds the old set or the
// new one, plus perhaps a `.tmp` leftover that open() deletes. The newest `retain` files are kept so a damaged
// newest snapshot can fall back to an older one (RaftDiskStorage decides whether the WAL allows that).

import { join } from 'node:path';
import type { Snapshot } from '../raft/types.js';
import { assertU64, DecodeError } from './binary.js';
import { SnapshotCorruptionError, StorageUsageError } from './errors.js';
import { nodeFileSystem, type StorageFileSystem } from './file-system.js';
import { fsyncDir, writeFileAtomic } from './fs-durable.js';
import { decodeSnapshotFile, encodeSnapshotFile } from './snapshot-codec.js';

export interface SnapshotStoreOptions {
  /** How many snapshot files to keep, newest first (at least 1). */
  readonly retain: number;
  /** Upper bound on a snapshot file read back; a bigger file is refused rather than read into memory. */
  readonly maxSnapshotBytes: number;
  /** Where the files live: node's file system by default, a simulated disk in the simulator. */
  readonly fs?: StorageFileSystem;
}

export interface SnapshotFileName {
  readonly index: number;
  readonly term: number;
  readonly fileName: string;
}

const PATTERN = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const hex = (n: number): string => n.toString(16).padStart(16, '0');

export function snapshotFileName(index: number, term: number): SnapshotFileName {
  assertU64(index, 'snapshot index');
  assertU64(term, 'snapshot term');
  return { index, term, fileName: `${hex(index)}-${hex(term)}.snap` };
}

export function parseSnapshotFileName(fileName: string): SnapshotFileName | undefined {
  const m = PATTERN.exec(fileName);
  if (!m) return undefined;
  const index = Number.parseInt(m[1]!, 16);
  const term = Number.parseInt(m[2]!, 16);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(term)) return undefined;
  return { index, term, fileName };
}

export class SnapshotStore {
  private constructor(
    readonly dir: string,
    private readonly options: SnapshotStoreOptions,
    private readonly fs: StorageFileSystem,
  ) {}

  /** Opens the store in an existing directory and deletes temp files a crashed save left behind. */
  static async open(dir: string, options: SnapshotStoreOptions): Promise<SnapshotStore> {
    if (!Number.isSafeInteger(options.retain) || options.retain < 1) {
      throw new StorageUsageError(`snapshot retain must be an integer >= 1, got ${options.retain}`);
    }
    if (!Number.isSafeInteger(options.maxSnapshotBytes) || options.maxSnapshotBytes <= 0) {
      throw new StorageUsageError(
        `maxSnapshotBytes must be a positive integer, got ${options.maxSnapshotBytes}`,
      );
    }
    const fs = options.fs ?? nodeFileSystem;
    const leftovers = (await fs.readdir(dir)).filter((f) => f.endsWith('.snap.tmp'));
    for (const f of leftovers) await fs.unlink(join(dir, f));
    // Always, not only after deleting leftovers: a save whose process died between its rename and the directory's
    // fsync left a snapshot this open will use, durable only once its directory entry is.
    await fsyncDir(dir, fs);
    return new SnapshotStore(dir, options, fs);
  }

  /** Snapshot files, newest (highest index, then term) first. */
  async list(): Promise<SnapshotFileName[]> {
    return (await this.fs.readdir(this.dir))
      .map(parseSnapshotFileName)
      .filter((s): s is SnapshotFileName => s !== undefined)
      .sort((a, b) => b.index - a.index || b.term - a.term);
  }

  /** Reads and verifies one snapshot file; throws SnapshotCorruptionError naming the file when it is not intact. */
  async read(name: SnapshotFileName): Promise<Snapshot> {
    const path = join(this.dir, name.fileName);
    const size = (await this.fs.stat(path)).size;
    if (size > this.options.maxSnapshotBytes) {
      throw new SnapshotCorruptionError(
        path,
        `${size} bytes exceeds the ${this.options.maxSnapshotBytes}-byte bound`,
      );
    }
    let snapshot: Snapshot;
    try {
      snapshot = decodeSnapshotFile(await this.fs.readFile(path));
    } catch (err) {
      if (err instanceof DecodeError) throw new SnapshotCorruptionError(path, err.message);
      throw err;
    }
    const { index, term } = snapshot.metadata;
    if (index !== name.index || term !== name.term) {
      throw new SnapshotCorruptionError(path, `holds index ${index} term ${term}, not what its name says`);
    }
    return snapshot;
  }

  /** Durably writes `snapshot`, then deletes all but the newest `retain` files. Returns the file name. */
  async save(snapshot: Snapshot): Promise<string> {
    const name = snapshotFileName(snapshot.metadata.index, snapshot.metadata.term);
    await writeFileAtomic(this.dir, name.fileName, encodeSnapshotFile(snapshot), this.fs);
    const old = (await this.list()).slice(this.options.retain);
    for (const s of old) await this.fs.unlink(join(this.dir, s.fileName));
    if (old.length > 0) await fsyncDir(this.dir, this.fs);
    return name.fileName;
  }

  /** Moves a damaged file out of the way (kept for inspection as `.broken`) so it is neither used nor counted. */
  async quarantine(name: SnapshotFileName): Promise<string> {
    const target = `${name.fileName}.broken`;
    await this.fs.rename(join(this.dir, name.fileName), join(this.dir, target));
    await fsyncDir(this.dir, this.fs);
    return target;
  }
}
