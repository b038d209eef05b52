// The FORCE_NEW_CLUSTER marker in a data directory: ForceNewCluster writes it before the member stops, and the next
// start finds it and rewrites the log (force-new-cluster.ts). A file, not a flag: the restart is done by a
// supervisor (Kubernetes restarts the container with the same arguments), and the request must survive a crash
// between the answer and the restart. Written atomically (temp file, fsync, rename, directory fsync) and deleted
// durably, so a crash leaves either no marker or a whole one.
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeFileAtomic } from '../storage/fs-durable.js';
import { ForceNewClusterError } from './force-new-cluster.js';

export const FORCE_NEW_CLUSTER_MARKER = 'FORCE_NEW_CLUSTER';

/** What the member said it keeps when it was asked; the restart recomputes it from the durable log. */
export interface ForceNewClusterMarker {
  /** ISO 8601 time of the request. */
  readonly requestedAt: string;
  readonly commit: number;
  readonly lastIndex: number;
  readonly lastLogTerm: number;
}

export async function writeForceNewClusterMarker(
  dataDir: string,
  marker: ForceNewClusterMarker,
): Promise<void> {
  await writeFileAtomic(
    dataDir,
    FORCE_NEW_CLUSTER_MARKER,
    new TextEncoder().encode(`${JSON.stringify(marker)}\n`),
  );
}

/** The marker, or undefined when there is none. Throws ForceNewClusterError when it is not one this code wrote. */
export async function readForceNewClusterMarker(dataDir: string): Promise<ForceNewClusterMarker | undefined> {
  const path = join(dataDir, FORCE_NEW_CLUSTER_MARKER);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseForceNewClusterMarker(text, path);
}

export function parseForceNewClusterMarker(text: string, path: string): ForceNewClusterMarker {
  const invalid = (why: string): ForceNewClusterError =>
    new ForceNewClusterError(
      `${path} is not a valid force-new-cluster marker (${why}); delete it to start normally, or ask the member again with ForceNewCluster`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw invalid('not an object');
  const v = value as Record<string, unknown>;
  if (typeof v.requestedAt !== 'string') throw invalid('requestedAt is not a string');
  for (const field of ['commit', 'lastIndex', 'lastLogTerm'] as const) {
    const n = v[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
      throw invalid(`${field} is not a non-negative integer`);
    }
  }
  return {
    requestedAt: v.requestedAt,
    commit: v.commit as number,
    lastIndex: v.lastIndex as number,
    lastLogTerm: v.lastLogTerm as number,
  };
}

/** Deletes the marker durably: once this resolves, a crash cannot bring it back. */
export async function removeForceNewClusterMarker(dataDir: string): Promise<void> {
  await unlink(join(dataDir, FORCE_NEW_CLUSTER_MARKER));
  await fsyncDir(dataDir);
}
