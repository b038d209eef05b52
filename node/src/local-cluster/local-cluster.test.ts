// A failed start says why: which members ran and what each logged last, and leaves no process behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCluster } from './local-cluster.js';

test('a start that elects no leader names each member, how it ended and its last log lines', async () => {
  const baseDir = await mkdtemp(join(tmpdir(), 'raftstore-local-cluster-test-'));
  try {
    // An option the node rejects: every member exits at once with a usage error, so no leader can appear.
    const started = LocalCluster.start({
      members: 2,
      baseDir,
      extraArgs: ['--no-such-option=1'],
      startTimeoutMs: 4000,
    });
    const error = await started.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/^no leader within \d+ ms; logs in /);
    expect(error?.message).toMatch(
      /\nm0: not running \(exit 2\); last log lines:\n(?: {2}.*\n)*? {2}.*no-such-option/,
    );
    expect(error?.message).toMatch(
      /\nm1: not running \(exit 2\); last log lines:\n(?: {2}.*\n)*? {2}.*no-such-option/,
    );
  } finally {
    await rm(baseDir, { recursive: true, force: true });
  }
}, 60_000);
