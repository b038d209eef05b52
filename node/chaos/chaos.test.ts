// The short chaos runs of `npm test`: real member processes, kill -9 of the leader and a restart while clients
// write, then kill -9 of every member and a restart; the history must be linearizable and no acknowledged write
// lost. The sharded one also reshards 2 → 3 → 2 meanwhile (about 30 s here) and checks the final layout. The long
// randomized version is `npm run chaos:local [--shards N]`.
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

test(
  'sharded: 2 groups reshard to 3 and back while a leader is killed: linearizable, nothing lost, layout even',
  async () => {
    const outDir = await mkdtemp(join(tmpdir(), 'raftstore-chaos-test-'));
    try {
      const result = await chaosRun({
        seed: 11,
        members: 3,
        shards: 2,
        durationMs: 0,
        outDir,
        clients: 3,
        keys: 4,
        requiredFaults: ['kill-leader'],
        warmupMs: 1000,
        log: () => {},
      });
      const events = await readFile(join(outDir, 'seed-11', 'events.log'), 'utf8');
      expect(events).toMatch(/kill-leader: kill -9 /);
      expect(events).toMatch(/reshard out 2->3 even: 0:1366 1:1365 2:1365/);
      expect(events).toMatch(/reshard back 3->2 even: 0:2048 1:2048 2:0/);
      expect(events).toMatch(/final layout over shards 0,1: even/);
      expect(result.reshard?.batches.length).toBe(12);
      expect({
        unavailable: result.unavailable,
        reshardError: result.reshardError,
        layoutError: result.layoutError,
        check: result.check,
        lost: result.lost,
      }).toEqual({
        unavailable: undefined,
        reshardError: undefined,
        layoutError: undefined,
        check: 'linearizable',
        lost: [],
      });
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  },
  TEST_TIMEOUT_MS,
);
