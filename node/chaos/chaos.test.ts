// The short chaos run of `npm test`: real member processes, kill -9 of the leader and a restart while clients
// write, then kill -9 of every member and a restart; the history must be linearizable and no acknowledged write
// lost. The long randomized version is `npm run chaos:local`.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJsonLines } from '../testing/lincheck/history.js';
import { chaosRun } from './run.js';

// A bound, not a timed assertion: the run itself aims at under 60 s, the machine is shared and loaded.
const TEST_TIMEOUT_MS = 240_000;

test(
  'kill -9 of the leader, restart, kill -9 of all, restart: linearizable and nothing lost',
  async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'raftstore-chaos-test-'));
    try {
      const result = await chaosRun({
        seed: 7,
        members: 3,
        durationMs: 0,
        outDir,
        clients: 3,
        keys: 3,
        requiredFaults: ['kill-leader'],
        warmupMs: 3000,
        log: () => {},
      });
      const events = await readFile(join(outDir, 'seed-7', 'events.log'), 'utf8');
      // The faults really happened, and the run produced a checkable history with acknowledged writes.
      expect(events).toMatch(/kill-leader: kill -9 m\d/);
      expect(events).toMatch(/kill -9 of every member/);
      const history = parseJsonLines(await readFile(result.historyFile, 'utf8'));
      expect(history.filter((op) => op.output !== undefined).length).toBeGreaterThan(10);
      expect({ unavailable: result.unavailable, check: result.check, lost: result.lost }).toEqual({
        unavailable: undefined,
        check: 'linearizable',
        lost: [],
      });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  },
  TEST_TIMEOUT_MS,
);
