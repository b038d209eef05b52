// The filesystem steps that make a file change survive power loss. A rename or a new file is a change to the
// directory, so the directory itself must be fsynced; a file's contents must be fsynced before it is renamed into
// place, or a crash can leave the new name pointing at empty or partial data.
// The file system is a parameter (node's by default) so the simulator runs these same steps on its simulated disk.

import { nodeFileSystem, type StorageFileHandle, type StorageFileSystem } from './file-system.js';

/** fsyncs a directory so created, renamed and removed entries in it are durable. */
export async function fsyncDir(dir: string, fs: StorageFileSystem = nodeFileSystem): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes all of `data` at `position`, looping over short writes (bounded: each pass must make progress). */
export async function writeFully(
  handle: StorageFileHandle,
  data: Uint8Array,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    if (bytesWritten <= 0) throw new Error(`write made no progress at byte ${position + done}`);
    done += bytesWritten;
  }
}

/**
 * Atomically replaces `path` with `data`: write `path.tmp`, fsync it, rename over `path`, fsync the directory.
 * After a crash `path` holds either the old or the new contents; a leftover `.tmp` is garbage the caller ignores.
 */
export async function writeFileAtomic(
  dir: string,
  name: string,
  data: Uint8Array,
  fs: StorageFileSystem = nodeFileSystem,
): Promise<void> {
  const path = `${dir}/${name}`;
  const tmp = `${path}.tmp`;
  const handle = await fs.open(tmp, 'w');
  try {
    await writeFully(handle, data, 0);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  await fs.rename(tmp, path);
  await fsyncDir(dir, fs);
}
