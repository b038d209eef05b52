// A simulated disk with a page cache, under the real storage code (node/src/storage) in the deterministic
// simulator. Every file and directory keeps two states: what the process sees (current) and what survives power
// loss (durable), plus the changes since its last fsync, in order. fsync of a file makes that file's contents
// durable; fsync of a directory makes its entries durable (a new, renamed or removed name is a change to the
// directory, not to the file). crash(rng) is power loss: each file and directory keeps its durable state plus a
// seed-chosen prefix of its unsynced changes, the last kept write possibly torn. The disk never reorders one
// file's writes, but files and directories are independent: a file's data can survive while its name does not.
//
// Time belongs to the simulation: `delay` returns a promise the simulation resolves at a simulated instant, and an
// operation takes effect when its delay is over (a write is visible, a sync durable, only then). A sync makes
// durable the changes that had completed when it was called (what an fsync promises), at the moment it completes;
// a crash before that loses them. No wall clock and no Math.random: the same calls and the same seed give the same
// disk.
//
// Not modelled: a torn write is always a prefix of its bytes (no out-of-order sectors, no zero-filled extension);
// a failed sync (setFailSyncs) leaves the changes unsynced rather than dropping them; one SimFileSystem is one
// machine's disk, so crash() ends every process using it. Operations are tied to the process generation when issued, so code of a
// crashed process that issues a *new* call on the file system itself (not on an old handle) is not stopped here:
// the simulator must stop running the dead node.

import { posix } from 'node:path';
import type { Prng } from '../../src/random/prng.js';
import type { OpenFlags, StorageFileHandle, StorageFileSystem } from '../../src/storage/file-system.js';

/** The latency classes the simulation can delay separately. */
export type SimDiskOperation = 'sync' | 'write' | 'read' | 'meta';

export interface SimFileSystemOptions {
  /**
   * Latency of one operation: a promise the simulation resolves at a simulated time, or undefined for none (the
   * operation still completes asynchronously). Called once per operation, when it is issued.
   */
  readonly delay?: (kind: SimDiskOperation) => Promise<void> | undefined;
  /** Disk size; undefined means unlimited. Also settable later through `capacityBytes`. */
  readonly capacityBytes?: number;
}

/** What a crash did to the unsynced changes, for the trace. */
export interface SimCrashReport {
  /** Unsynced file writes and truncations that reached the disk whole. */
  readonly keptWrites: number;
  /** Unsynced file writes and truncations that were lost. */
  readonly lostWrites: number;
  /** Unsynced writes of which only a prefix reached the disk (at most one per file: the last one kept). */
  readonly tornWrites: number;
  /** Unsynced directory changes (create, unlink, rename, link, mkdir) that reached the disk. */
  readonly keptEntryChanges: number;
  /** Unsynced directory changes that were lost. */
  readonly lostEntryChanges: number;
}

export type SimErrorCode =
  'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY' | 'EINVAL' | 'EPERM' | 'EBADF' | 'ENOSPC' | 'EIO';

const ERROR_TEXT: Readonly<Record<SimErrorCode, string>> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'file already exists',
  ENOTDIR: 'not a directory',
  EISDIR: 'illegal operation on a directory',
  ENOTEMPTY: 'directory not empty',
  EINVAL: 'invalid argument',
  EPERM: 'operation not permitted',
  EBADF: 'bad file descriptor',
  ENOSPC: 'no space left on device',
  EIO: 'i/o error',
};

/** Shaped like node's errno errors (code, syscall, path, same message form) so the storage handles both alike. */
export class SimFsError extends Error {
  override readonly name = 'SimFsError';
  constructor(
    readonly code: SimErrorCode,
    readonly syscall: string,
    readonly path: string,
  ) {
    super(`${code}: ${ERROR_TEXT[code]}, ${syscall} '${path}'`);
  }
}

/** A file's bytes, grown by doubling so an appending WAL does not copy its whole file on every write. */
class Bytes {
  /** Invariant: every byte past `length` is zero, so growing never needs clearing. */
  private buffer: Uint8Array;
  length: number;

  constructor(from?: Bytes) {
    this.buffer = from ? from.buffer.slice() : new Uint8Array(0);
    this.length = from ? from.length : 0;
  }

  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  apply(change: FileChange): void {
    if (change.kind === 'truncate') this.truncate(change.length);
    else this.write(change.position, change.data);
  }

  private write(position: number, data: Uint8Array): void {
    const end = position + data.length;
    this.reserve(end);
    this.buffer.set(data, position);
    this.length = Math.max(this.length, end);
  }

  private truncate(length: number): void {
    if (length < this.length) this.buffer.fill(0, length, this.length);
    else this.reserve(length);
    this.length = length;
  }

  private reserve(bytes: number): void {
    if (bytes <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(bytes, this.buffer.length * 2, 64));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}

type FileChange =
  | { readonly kind: 'write'; readonly position: number; readonly data: Uint8Array }
  | { readonly kind: 'truncate'; readonly length: number };

/** One directory change; several in one are atomic (a rename within a directory). `node` undefined removes. */
type EntryChange = readonly { readonly name: string; readonly node: SimNode | undefined }[];

/** Changes since the last fsync, numbered so a sync makes durable exactly those issued before it was called. */
class UnsyncedLog<C> {
  private changes: { readonly seq: number; readonly change: C }[] = [];
  private nextSeq = 0;

  get length(): number {
    return this.changes.length;
  }

  /** The sequence number the next change will get: a sync called now covers everything below it. */
  get watermark(): number {
    return this.nextSeq;
  }

  record(change: C): void {
    this.changes.push({ seq: this.nextSeq++, change });
  }

  /** Removes and returns the changes numbered below `watermark`, oldest first. */
  takeBelow(watermark: number): C[] {
    let n = 0;
    while (n < this.changes.length && this.changes[n]!.seq < watermark) n++;
    return this.changes.splice(0, n).map((c) => c.change);
  }

  takeAll(): C[] {
    return this.takeBelow(this.nextSeq);
  }
}

class FileNode {
  readonly kind = 'file';
  current = new Bytes();
  durable = new Bytes();
  readonly unsynced = new UnsyncedLog<FileChange>();

  change(change: FileChange): void {
    this.current.apply(change);
    this.unsynced.record(change);
  }

  makeDurable(watermark: number): void {
    for (const c of this.unsynced.takeBelow(watermark)) this.durable.apply(c);
  }
}

class DirNode {
  readonly kind = 'dir';
  current = new Map<string, SimNode>();
  durable = new Map<string, SimNode>();
  readonly unsynced = new UnsyncedLog<EntryChange>();

  change(change: EntryChange): void {
    applyEntries(this.current, change);
    this.unsynced.record(change);
  }

  makeDurable(watermark: number): void {
    for (const c of this.unsynced.takeBelow(watermark)) applyEntries(this.durable, c);
  }
}

type SimNode = FileNode | DirNode;

function applyEntries(entries: Map<string, SimNode>, change: EntryChange): void {
  for (const { name, node } of change) {
    if (node) entries.set(name, node);
    else entries.delete(name);
  }
}

/** Where a path leads: its parent directory and name (undefined for the root), and what is there now. */
interface Resolved {
  readonly path: string;
  readonly parent: DirNode | undefined;
  readonly name: string;
  readonly node: SimNode | undefined;
}

/** The promise an operation of a crashed process returns: that process is gone, nothing of it may run on. */
function never<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

export class SimFileSystem implements StorageFileSystem {
  /** Disk size in bytes (the total of current file sizes may not exceed it); undefined means unlimited. */
  capacityBytes: number | undefined;
  private readonly root = new DirNode();
  private readonly delay: ((kind: SimDiskOperation) => Promise<void> | undefined) | undefined;
  /** Bumped by every crash: handles and in-flight operations of an older generation never settle. */
  private generation = 0;
  private failSyncs = false;

  constructor(options: SimFileSystemOptions = {}) {
    this.delay = options.delay;
    this.capacityBytes = options.capacityBytes;
  }

  /** While true, every sync and datasync fails with EIO and makes nothing durable. */
  setFailSyncs(fail: boolean): void {
    this.failSyncs = fail;
  }

  mkdir(path: string): Promise<string | undefined> {
    return this.settle('meta', () => {
      const parts = this.parts(path);
      let dir = this.root;
      let first: string | undefined;
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i]!;
        const sub = '/' + parts.slice(0, i + 1).join('/');
        const existing = dir.current.get(name);
        if (existing?.kind === 'file')
          throw new SimFsError(i === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', 'mkdir', sub);
        if (existing) {
          dir = existing;
          continue;
        }
        const made = new DirNode();
        dir.change([{ name, node: made }]);
        first ??= sub;
        dir = made;
      }
      return first;
    });
  }

  readdir(path: string): Promise<string[]> {
    return this.settle('meta', () => [...this.dirAt(path, 'scandir').current.keys()].sort());
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.settle('read', () => this.fileAt(path, 'open').current.view().slice());
  }

  writeFile(path: string, data: Uint8Array): Promise<void> {
    const copy = data.slice();
    return this.settle('write', () => {
      const at = this.resolve(path, 'open');
      if (at.node?.kind === 'dir') throw new SimFsError('EISDIR', 'open', at.path);
      this.checkSpace(copy.length - (at.node?.current.length ?? 0), 'write', at.path);
      const file = at.node ?? this.create(at);
      if (file.current.length > 0) file.change({ kind: 'truncate', length: 0 });
      if (copy.length > 0) file.change({ kind: 'write', position: 0, data: copy });
    });
  }

  /** A directory's size is 0: only files' sizes mean anything here. */
  stat(path: string): Promise<{ readonly size: number }> {
    return this.settle('meta', () => {
      const node = this.existing(path, 'stat');
      return { size: node.kind === 'file' ? node.current.length : 0 };
    });
  }

  open(path: string, flags: OpenFlags): Promise<StorageFileHandle> {
    return this.settle('meta', () => {
      const at = this.resolve(path, 'open');
      if (flags === 'wx' && at.node) throw new SimFsError('EEXIST', 'open', at.path);
      if (flags === 'r' || flags === 'r+') {
        if (!at.node) throw new SimFsError('ENOENT', 'open', at.path);
        if (flags === 'r+' && at.node.kind === 'dir') throw new SimFsError('EISDIR', 'open', at.path);
        return this.handle(at.path, at.node, flags === 'r+');
      }
      if (at.node?.kind === 'dir') throw new SimFsError('EISDIR', 'open', at.path);
      const file = at.node ?? this.create(at);
      if (file.current.length > 0) file.change({ kind: 'truncate', length: 0 });
      return this.handle(at.path, file, true);
    });
  }

  truncate(path: string, length: number): Promise<void> {
    return this.settle('write', () => {
      checkOffset(length, 'length');
      const file = this.fileAt(path, 'truncate');
      this.checkSpace(length - file.current.length, 'truncate', path);
      file.change({ kind: 'truncate', length });
    });
  }

  unlink(path: string): Promise<void> {
    return this.settle('meta', () => {
      const at = this.resolve(path, 'unlink');
      if (!at.node) throw new SimFsError('ENOENT', 'unlink', at.path);
      if (at.node.kind === 'dir' || !at.parent) throw new SimFsError('EISDIR', 'unlink', at.path);
      at.parent.change([{ name: at.name, node: undefined }]);
    });
  }

  /**
   * Within one directory a rename is one atomic directory change. Across directories it is a change to each, and a
   * crash may keep either, both or neither: the file can end up under both names or under none (the storage only
   * renames within a directory).
   */
  rename(from: string, to: string): Promise<void> {
    return this.settle('meta', () => {
      const source = this.resolve(from, 'rename');
      const target = this.resolve(to, 'rename');
      const node = source.node;
      if (!node) throw new SimFsError('ENOENT', 'rename', source.path);
      if (!source.parent || !target.parent) throw new SimFsError('EINVAL', 'rename', source.path);
      if (target.node === node) return; // POSIX: two names of one file, nothing to do
      if (target.node) {
        if (node.kind === 'file' && target.node.kind === 'dir')
          throw new SimFsError('EISDIR', 'rename', target.path);
        if (node.kind === 'dir' && target.node.kind === 'file')
          throw new SimFsError('ENOTDIR', 'rename', target.path);
        if (target.node.kind === 'dir' && target.node.current.size > 0)
          throw new SimFsError('ENOTEMPTY', 'rename', target.path);
      }
      if (node.kind === 'dir' && (target.path + '/').startsWith(source.path + '/'))
        throw new SimFsError('EINVAL', 'rename', target.path);
      if (source.parent === target.parent) {
        source.parent.change([
          { name: source.name, node: undefined },
          { name: target.name, node },
        ]);
      } else {
        source.parent.change([{ name: source.name, node: undefined }]);
        target.parent.change([{ name: target.name, node }]);
      }
    });
  }

  link(existingPath: string, newPath: string): Promise<void> {
    return this.settle('meta', () => {
      const node = this.existing(existingPath, 'link');
      if (node.kind === 'dir') throw new SimFsError('EPERM', 'link', existingPath);
      const target = this.resolve(newPath, 'link');
      if (target.node) throw new SimFsError('EEXIST', 'link', target.path);
      target.parent!.change([{ name: target.name, node }]);
    });
  }

  /** There are no symbolic links: the real path is the normalised path, if it exists. */
  realpath(path: string): Promise<string> {
    return this.settle('meta', () => {
      this.existing(path, 'realpath');
      return posix.normalize(path);
    });
  }

  /**
   * Power loss. Every file and directory still reachable keeps its durable state plus a seed-chosen prefix of its
   * unsynced changes; the last write kept may be torn (only a prefix of its bytes reached the disk). What is no
   * longer reachable from the root is gone. Every handle opened before, and every operation still waiting on its
   * latency, never settles: the process that issued it died with the power.
   */
  crash(rng: Prng): SimCrashReport {
    this.generation++;
    const report = { keptWrites: 0, lostWrites: 0, tornWrites: 0, keptEntryChanges: 0, lostEntryChanges: 0 };
    const settled = new Set<SimNode>();
    // Depth first in name order, so the same disk and seed draw the same numbers in the same order.
    const settle = (node: SimNode): void => {
      if (settled.has(node)) return;
      settled.add(node);
      if (node.kind === 'file') {
        crashFile(node, rng, report);
        return;
      }
      const changes = node.unsynced.takeAll();
      const kept = changes.length === 0 ? 0 : rng.int(0, changes.length);
      for (const c of changes.slice(0, kept)) applyEntries(node.durable, c);
      report.keptEntryChanges += kept;
      report.lostEntryChanges += changes.length - kept;
      node.current = new Map(node.durable);
      for (const name of [...node.durable.keys()].sort()) settle(node.durable.get(name)!);
    };
    settle(this.root);
    return report;
  }

  /**
   * The process dies but the machine does not: the page cache survives, so nothing is lost, but every handle and
   * in-flight operation of the dead process never settles, as after crash().
   */
  killProcess(): void {
    this.generation++;
  }

  /** Total size of the files reachable now (a file with two names counts once), as checked against capacity. */
  usedBytes(): number {
    let total = 0;
    for (const file of new Set(
      this.walk()
        .map((e) => e.node)
        .filter(isFile),
    ))
      total += file.current.length;
    return total;
  }

  /** Paths of every file reachable now, sorted. */
  fileNames(): string[] {
    return this.walk()
      .filter((e) => e.node.kind === 'file')
      .map((e) => e.path);
  }

  /** One line per file and directory: current and durable size or entry count, and unsynced changes. */
  dump(): string {
    return this.walk()
      .map(({ path, node }) =>
        node.kind === 'file'
          ? `${path} ${node.current.length} bytes, ${node.durable.length} durable, ${node.unsynced.length} unsynced`
          : `${path}/ ${node.current.size} entries, ${node.durable.size} durable, ${node.unsynced.length} unsynced`,
      )
      .join('\n');
  }

  /**
   * Runs `body` once the operation's latency is over, unless a crash came first: then it never settles. The
   * generation is the caller's (a handle's) or the current one when the operation is issued.
   */
  private async settle<T>(kind: SimDiskOperation, body: () => T, generation = this.generation): Promise<T> {
    if (generation !== this.generation) return never<T>();
    await this.delay?.(kind);
    if (generation !== this.generation) return never<T>();
    return body();
  }

  private handle(path: string, node: SimNode, writable: boolean): StorageFileHandle {
    const generation = this.generation;
    let closed = false;
    const ensureOpen = (syscall: string): void => {
      if (closed) throw new SimFsError('EBADF', syscall, path);
    };
    // Durable is what was written before the sync was called (an fsync covers the writes that completed before it);
    // it becomes durable when the sync completes, so a crash during a slow fsync loses the lot.
    const sync = (syscall: string): Promise<void> => {
      const watermark = node.unsynced.watermark;
      return this.settle(
        'sync',
        () => {
          ensureOpen(syscall);
          if (this.failSyncs) throw new SimFsError('EIO', syscall, path);
          node.makeDurable(watermark);
        },
        generation,
      );
    };
    return {
      write: (data, offset, length, position) => {
        const copy = data.slice(offset, offset + length);
        return this.settle(
          'write',
          () => {
            ensureOpen('write');
            if (node.kind === 'dir') throw new SimFsError('EISDIR', 'write', path);
            if (!writable) throw new SimFsError('EBADF', 'write', path);
            checkOffset(offset, 'offset');
            checkOffset(position, 'position');
            if (copy.length !== length)
              throw new RangeError(`write of ${length} bytes from ${offset} past the buffer`);
            this.checkSpace(position + length - node.current.length, 'write', path);
            if (length > 0) node.change({ kind: 'write', position, data: copy });
            return { bytesWritten: length };
          },
          generation,
        );
      },
      sync: () => sync('fsync'),
      datasync: () => sync('fdatasync'),
      close: () =>
        this.settle(
          'meta',
          () => {
            closed = true;
          },
          generation,
        ),
    };
  }

  /** Fails with ENOSPC when growing the current files by `growthBytes` would pass the capacity. */
  private checkSpace(growthBytes: number, syscall: string, path: string): void {
    if (this.capacityBytes === undefined || growthBytes <= 0) return;
    if (this.usedBytes() + growthBytes > this.capacityBytes) throw new SimFsError('ENOSPC', syscall, path);
  }

  private create(at: Resolved): FileNode {
    const file = new FileNode();
    at.parent!.change([{ name: at.name, node: file }]);
    return file;
  }

  private parts(path: string): string[] {
    if (!posix.isAbsolute(path))
      throw new Error(`SimFileSystem paths are absolute, got ${JSON.stringify(path)}`);
    return posix
      .normalize(path)
      .split('/')
      .filter((p) => p.length > 0);
  }

  /** Walks to `path`'s parent (which must be an existing directory) and looks its last name up. */
  private resolve(path: string, syscall: string): Resolved {
    const parts = this.parts(path);
    const normalised = '/' + parts.join('/');
    if (parts.length === 0) return { path: normalised, parent: undefined, name: '', node: this.root };
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = dir.current.get(parts[i]!);
      if (!next) throw new SimFsError('ENOENT', syscall, normalised);
      if (next.kind === 'file') throw new SimFsError('ENOTDIR', syscall, normalised);
      dir = next;
    }
    const name = parts[parts.length - 1]!;
    return { path: normalised, parent: dir, name, node: dir.current.get(name) };
  }

  private existing(path: string, syscall: string): SimNode {
    const at = this.resolve(path, syscall);
    if (!at.node) throw new SimFsError('ENOENT', syscall, at.path);
    return at.node;
  }

  private fileAt(path: string, syscall: string): FileNode {
    const node = this.existing(path, syscall);
    if (node.kind === 'dir') throw new SimFsError('EISDIR', syscall, path);
    return node;
  }

  private dirAt(path: string, syscall: string): DirNode {
    const node = this.existing(path, syscall);
    if (node.kind === 'file') throw new SimFsError('ENOTDIR', syscall, path);
    return node;
  }

  /** Everything reachable now, depth first in name order (the root itself left out). */
  private walk(): { readonly path: string; readonly node: SimNode }[] {
    const out: { path: string; node: SimNode }[] = [];
    const visit = (dir: DirNode, prefix: string): void => {
      for (const name of [...dir.current.keys()].sort()) {
        const node = dir.current.get(name)!;
        const path = `${prefix}/${name}`;
        out.push({ path, node });
        if (node.kind === 'dir') visit(node, path);
      }
    };
    visit(this.root, '');
    return out;
  }
}

function isFile(node: SimNode): node is FileNode {
  return node.kind === 'file';
}

function checkOffset(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${what} must be a non-negative integer, got ${n}`);
}

/** A file after power loss: durable bytes plus a prefix of its unsynced changes, the last write perhaps torn. */
function crashFile(
  file: FileNode,
  rng: Prng,
  report: { keptWrites: number; lostWrites: number; tornWrites: number },
): void {
  const changes = file.unsynced.takeAll();
  const kept = changes.length === 0 ? 0 : rng.int(0, changes.length);
  for (let i = 0; i < kept; i++) {
    const change = changes[i]!;
    const last = i === kept - 1;
    if (last && change.kind === 'write' && change.data.length >= 2 && rng.chance(0.5)) {
      const reached = rng.int(1, change.data.length - 1);
      file.durable.apply({
        kind: 'write',
        position: change.position,
        data: change.data.subarray(0, reached),
      });
      report.tornWrites++;
    } else {
      file.durable.apply(change);
      report.keptWrites++;
    }
  }
  report.lostWrites += changes.length - kept;
  file.current = new Bytes(file.durable);
}
