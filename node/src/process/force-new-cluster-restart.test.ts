// The restart side of ForceNewCluster against the real disk storage: what it rewrites must be what the next
// recovery reads back (an entry appended at commit+1 replaces the discarded suffix in the WAL too), and the marker
// is gone only once the new log is durable.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/logger.js';
import { decodeConfChange } from '../raft/conf-change.js';
import type { Entry, Snapshot } from '../raft/types.js';
import { RaftDiskStorage, type RecoveredState } from '../storage/raft-disk-storage.js';
import { ForceNewClusterError } from './force-new-cluster.js';
import {
  FORCE_NEW_CLUSTER_MARKER,
  readForceNewClusterMarker,
  writeForceNewClusterMarker,
} from './force-new-cluster-marker.js';
import { forceNewClusterOnRestart, forceNewClusterStartRefusal } from './force-new-cluster-restart.js';

let dir: string;
let lines: string[];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'force-new-cluster-test-'));
  lines = [];
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const logger = () =>
  createLogger({
    level: 'info',
    cluster: 'c1',
    shard: 0,
    member: 'a',
    destination: { write: (line: string) => void lines.push(line) },
  });

const open = () =>
  RaftDiskStorage.open(dir, {
    identity: { clusterId: 'c1', shardId: '0', memberName: 'a', nodeId: 'a' },
    randomBytes: (n) => new Uint8Array(n).fill(7),
  });

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new TextEncoder().encode(`put ${index}`),
});
const snapshot = (voters: string[]): Snapshot => ({
  metadata: { index: 1, term: 1, confState: { voters, learners: [] } },
  data: new TextEncoder().encode('state@1'),
});
const MARKER = { requestedAt: '2030-01-01T00:00:00.000Z', commit: 5, lastIndex: 8, lastLogTerm: 3 };

/** A member of `voters` whose log runs to 8 (terms 2 then 3) with entries up to `commit` committed. */
async function seed(voters: string[], commit: number): Promise<void> {
  const s = await open();
  try {
    s.takeRecoveredState();
    await s.append({ term: 3, vote: 'a', commit: 1 }, [], snapshot(voters));
    await s.append(
      { term: 3, vote: 'a', commit },
      [2, 3, 4, 5, 6, 7, 8].map((i) => entry(i, i < 5 ? 2 : 3)),
      undefined,
    );
  } finally {
    await s.close();
  }
}

/** Opens the directory, runs the restart step when a marker is there, and closes it again. */
async function restart(): Promise<RecoveredState> {
  const s = await open();
  try {
    const recovered = s.takeRecoveredState();
    const marker = await readForceNewClusterMarker(dir);
    if (!marker) return recovered;
    return await forceNewClusterOnRestart({ storage: s, recovered, marker, self: 'a', logger: logger() });
  } finally {
    await s.close();
  }
}

const shape = (state: RecoveredState) => ({
  hardState: state.hardState,
  entries: state.entries.map((e) =>
    e.type === 'confChange'
      ? `${e.index}@${e.term} ${JSON.stringify(decodeConfChange(e.data))}`
      : `${e.index}@${e.term}`,
  ),
});

describe('forceNewClusterOnRestart', () => {
  it('discards the uncommitted suffix and appends the removals, on disk too, then deletes the marker', async () => {
    await seed(['a', 'b', 'c'], 5);
    await writeForceNewClusterMarker(dir, MARKER);

    const rewritten = await restart();
    const expected = {
      hardState: { term: 3, vote: 'a', commit: 7 },
      entries: [
        '2@2',
        '3@2',
        '4@2',
        '5@3',
        '6@3 {"type":"remove","nodeId":"b"}',
        '7@3 {"type":"remove","nodeId":"c"}',
      ],
    };
    expect(shape(rewritten)).toEqual(expected);
    expect(existsSync(join(dir, FORCE_NEW_CLUSTER_MARKER))).toBe(false);
    // What the next recovery reads: entries 6..8 of the old log are gone from the WAL as well.
    expect(shape(await restart())).toEqual(expected);

    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.level === 'warn');
    expect(warn).toMatchObject({ commit: 5, lastIndexBefore: 8, discarded: 3, removed: ['b', 'c'] });
    expect(warn?.msg).toBe(
      'forcing a new cluster: kept the log up to commit index 5, discarded 3 uncommitted entries (last index was 8), removed b, c; this member is now the only voter',
    );
  });

  it('is idempotent: a crash before the marker was deleted finds nothing more to do', async () => {
    await seed(['a', 'b', 'c'], 5);
    await writeForceNewClusterMarker(dir, MARKER);
    const first = await restart();
    await writeForceNewClusterMarker(dir, MARKER);
    expect(shape(await restart())).toEqual(shape(first));
    expect(shape(await restart())).toEqual(shape(first));
  });

  it('discards the suffix of a member that is alone already by writing its commit entry again', async () => {
    await seed(['a'], 6);
    await writeForceNewClusterMarker(dir, MARKER);
    const expected = {
      hardState: { term: 3, vote: 'a', commit: 6 },
      entries: ['2@2', '3@2', '4@2', '5@3', '6@3'],
    };
    expect(shape(await restart())).toEqual(expected);
    expect(shape(await restart())).toEqual(expected);
  });

  it('discards the whole log after the snapshot by writing its marker again', async () => {
    await seed(['a'], 1);
    await writeForceNewClusterMarker(dir, MARKER);
    const expected = { hardState: { term: 3, vote: 'a', commit: 1 }, entries: [] };
    expect(shape(await restart())).toEqual(expected);
    expect(shape(await restart())).toEqual(expected);
  });

  it('refuses, keeping the marker and the log, when this member is not a voter at its commit index', async () => {
    await seed(['b', 'c'], 5);
    await writeForceNewClusterMarker(dir, MARKER);
    await expect(restart()).rejects.toThrow(ForceNewClusterError);
    await expect(restart()).rejects.toThrow(
      `cannot force a new cluster from ${dir}: a is not a voter in the configuration at commit index 5 (voters b, c, learners none): only a voter may become the one voter of a new cluster; delete FORCE_NEW_CLUSTER there to start normally`,
    );
    expect(existsSync(join(dir, FORCE_NEW_CLUSTER_MARKER))).toBe(true);
    await rm(join(dir, FORCE_NEW_CLUSTER_MARKER));
    expect((await restart()).entries).toHaveLength(7);
  });

  it('reads back the marker it wrote and refuses one it did not', async () => {
    await writeForceNewClusterMarker(dir, MARKER);
    expect(await readForceNewClusterMarker(dir)).toEqual(MARKER);
    await writeForceNewClusterMarker(dir, { ...MARKER, commit: -1 });
    await expect(readForceNewClusterMarker(dir)).rejects.toThrow(
      `${join(dir, FORCE_NEW_CLUSTER_MARKER)} is not a valid force-new-cluster marker (commit is not a non-negative integer); delete it to start normally, or ask the member again with ForceNewCluster`,
    );
    await rm(join(dir, FORCE_NEW_CLUSTER_MARKER));
    expect(await readForceNewClusterMarker(dir)).toBeUndefined();
  });
});

describe('forceNewClusterStartRefusal', () => {
  it('lets only a restart (a directory with a log) go on: a fresh directory has nothing to keep', () => {
    expect(forceNewClusterStartRefusal('restart', '/data/FORCE_NEW_CLUSTER')).toBeUndefined();
    expect(forceNewClusterStartRefusal('bootstrap', '/data/FORCE_NEW_CLUSTER')).toBe(
      "/data/FORCE_NEW_CLUSTER asks to keep this member's data as a new cluster, but the data directory holds no log: there is nothing to keep; delete the marker to start as a founding member",
    );
    expect(forceNewClusterStartRefusal('join', '/data/FORCE_NEW_CLUSTER')).toMatch(
      /there is nothing to keep; delete the marker to start as a new member$/,
    );
  });
});
