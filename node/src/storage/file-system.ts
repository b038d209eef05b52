// The file-system operations the durable storage uses, behind one interface: node's own fs in production, a simulated
// disk in the deterministic simulation (node/testing/sim/sim-file-system.ts), which loses unsynced writes at a crash,
// tears tails, delays fsyncs and fills up. Only what the storage needs is here; errors carry node's errno codes
// (ENOENT, EEXIST, ENOSPC, ...) in `code`, as NodeJS.ErrnoException does, whichever implementation raised them.

import * as fs from 'node:fs/promises';

export type OpenFlags = 'r' | 'r+' | 'w' | 'wx';

export interface StorageFileHandle {
  /** Writes `length` bytes of `data` from `offset` at file `position`; may write fewer (the caller loops). */
  write(
    data: Uint8Array,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ readonly bytesWritten: number }>;
  /** fsync: contents and metadata durable. */
  sync(): Promise<void>;
  /** fdatasync: contents durable (and the size, which is all the WAL needs). */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

export interface StorageFileSystem {
  /** mkdir -p; resolves to the first directory it created, or undefined when `path` existed. */
  mkdir(path: string): Promise<string | undefined>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Uint8Array>;
  /** Creates or replaces a file's contents (not synced). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  stat(path: string): Promise<{ readonly size: number }>;
  open(path: string, flags: OpenFlags): Promise<StorageFileHandle>;
  truncate(path: string, length: number): Promise<void>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** Hard link; fails with EEXIST when `newPath` exists (what the directory lock relies on). */
  link(existingPath: string, newPath: string): Promise<void>;
  realpath(path: string): Promise<string>;
}

/** node's own file system. */
export const nodeFileSystem: StorageFileSystem = {
  mkdir: (path) => fs.mkdir(path, { recursive: true }),
  readdir: (path) => fs.readdir(path),
  readFile: async (path) => new Uint8Array(await fs.readFile(path)),
  writeFile: (path, data) => fs.writeFile(path, data),
  stat: (path) => fs.stat(path),
  open: (path, flags) => fs.open(path, flags),
  truncate: (path, length) => fs.truncate(path, length),
  unlink: (path) => fs.unlink(path),
  rename: (from, to) => fs.rename(from, to),
  link: (existingPath, newPath) => fs.link(existingPath, newPath),
  realpath: (path) => fs.realpath(path),
};
