// Real member processes stopped with SIGTERM the way a StatefulSet does it when two pods are deleted at once: a
// follower is already stopping when the leader starts its hand-off. The stopping follower must decline leadership,
// the leader must offer it to the member that stays, and both must finish inside their grace period (exit 0; the
// hard stop at the end of the grace period exits 1).
import { readFile, rm } from 'node:fs/promises';
import { LocalCluster } from '../local-cluster/local-cluster.js';

const GRACE_MS = 4000;

async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('two members stopped together: the stopping follower declines leadership, the one that stays takes it, both exit 0', async () => {
  const cluster = await LocalCluster.start({
    members: 3,
    fsync: false,
    logLevel: 'info',
    extraArgs: [`--shutdown-grace-ms=${GRACE_MS}`],
  });
  try {
    const leader = await cluster.waitForLeader(30_000);
    // Every follower equally caught up: the leader offers leadership in configuration order (m0, m1, m2), so the
    // first follower in that order is the one it would pick. That one is stopping.
    const names = cluster.members.map((m) => m.name);
    const stopping = names.find((n) => n !== leader)!;
    const stays = names.find((n) => n !== leader && n !== stopping)!;
    const followerExit = cluster.signal(stopping, 'SIGTERM');
    const stoppingLog = cluster.member(stopping).logFile;
    await until(
      'the follower to begin stopping',
      async () => (await readFile(stoppingLog, 'utf8')).includes('shutting down'),
      10_000,
    );
    const leaderExit = cluster.signal(leader, 'SIGTERM');
    expect(await followerExit).toBe(0);
    expect(await leaderExit).toBe(0);
    const log = await readFile(cluster.member(leader).logFile, 'utf8');
    const handedTo = log
      .split('\n')
      .filter((l) => l.includes('handed leadership over before stopping'))
      .map((l) => (JSON.parse(l) as { next?: string }).next);
    expect(handedTo).toEqual([stays]);
  } finally {
    await cluster.killAll();
    await rm(cluster.baseDir, { recursive: true, force: true });
  }
}, 120_000);
