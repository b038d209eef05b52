// The chaos coordinator against real state machines behind the slot-move API: it reshards 3 → 4 → 3 and the keys
// come back with their values; calls that fail (never delivered, or applied with the reply lost) are retried at the
// same epoch until the batch is done; a group that never answers ends the reshard with a clear error after a bounded
// number of attempts. The planted bug is shown to be invisible to the layout: only the data checks can catch it.
import { keySlot } from '../shared/sharding/slot.js';
import {
  InProcessGroup,
  InProcessSlotGroups,
  type FailurePlan,
} from '../testing/reshard/in-process-slot-groups.js';
import { b, put, text } from '../testing/kv/test-helpers.js';
import { MeteredSlotGroups } from './metered-slot-groups.js';
import { withPlantedBug } from './planted-bugs.js';
import { reshardKeys } from './reshard-plan.js';
import { reshardOutAndBack, ReshardError, RESHARD_LIMITS, type ReshardReport } from './reshard.js';

const KEYS = reshardKeys(3, 12);

interface World {
  readonly groups: InProcessGroup[];
  readonly api: InProcessSlotGroups;
  readonly events: string[];
  readonly lifecycle: string[];
  run(): Promise<ReshardReport>;
}

function world(failing?: FailurePlan, plant = false): World {
  const groups = [0, 1, 2, 3].map((shard) => new InProcessGroup(shard, 3));
  // Each key written in the group that owns it at creation (group 3 owns nothing yet).
  KEYS.forEach((k, i) => {
    const owner = groups.find((g) => g.machine.ownership.serves(keySlot(k)))!;
    expect(owner.run(put(k, `v${i}`)).kind).toBe('put');
  });
  const api = new InProcessSlotGroups(groups, failing);
  const events: string[] = [];
  const lifecycle: string[] = [];
  let clock = 0;
  return {
    groups,
    api,
    events,
    lifecycle,
    run: () =>
      reshardOutAndBack({
        shards: 3,
        groups: new MeteredSlotGroups(plant ? withPlantedBug(api, 'skip-copy') : api, () => clock),
        startNewShard: () => {
          lifecycle.push('start');
          return Promise.resolve();
        },
        stopNewShard: () => {
          lifecycle.push('stop');
          return Promise.resolve();
        },
        event: (line) => events.push(line),
        now: () => clock,
        // Logical time: each pause advances the clock, so deadlines are checked without waiting.
        sleep: (ms) => {
          clock += ms;
          return Promise.resolve();
        },
      }),
  };
}

function valueOf(w: World, key: string): string | undefined {
  const owner = w.groups.filter((g) => g.machine.ownership.serves(keySlot(key)));
  expect(owner).toHaveLength(1);
  const kv = owner[0]!.machine.get(b(key));
  return kv === undefined ? undefined : text(kv.value);
}

test('3 -> 4 -> 3: twelve batches, every key back in an original group with its value, shard 3 stopped last', async () => {
  const w = world();
  const report = await w.run();
  expect(report.batches).toHaveLength(12);
  expect(report.batches.every((x) => x.attempts === 1)).toBe(true);
  // Half the keys are in slots that move: each is copied out and back.
  expect(report.keysCopied).toBe(12);
  expect(w.lifecycle).toEqual(['start', 'stop']);
  KEYS.forEach((k, i) => expect(valueOf(w, k)).toBe(`v${i}`));
  expect(w.groups[3]!.machine.ownership.ownedCount).toBe(0);
  expect(w.events.join('\n')).toMatch(/reshard out 3->4 even: 0:1024 1:1024 2:1024 3:1024/);
  expect(w.events.join('\n')).toMatch(/reshard back 4->3 even: 0:1366 1:1365 2:1365 3:0/);
  expect(w.events.at(-1)).toMatch(/^reshard summary: 12 batches \(12 attempts\), 12 keys copied/);
});

test('failed calls, before the group or after it applied, are driven again at the same epoch', async () => {
  // Every 7th call never arrives, every 11th applies and loses its reply.
  const w = world((call) => (call % 7 === 0 ? 'before' : call % 11 === 0 ? 'after' : 'ok'));
  const report = await w.run();
  expect(w.api.failures).toBeGreaterThan(10);
  expect(report.batches.reduce((n, x) => n + x.attempts, 0)).toBeGreaterThan(12);
  const retries = w.events.filter((e) => / attempt \d+ failed .*; again at epoch \d+$/.test(e));
  expect(retries.length).toBeGreaterThan(0);
  for (const line of retries) {
    const [, label, epoch] = /^reshard (.*) attempt \d+ failed .*again at epoch (\d+)$/.exec(line)!;
    expect(w.events.some((e) => e.startsWith(`reshard ${label} done at epoch ${epoch}:`))).toBe(true);
  }
  KEYS.forEach((k, i) => expect(valueOf(w, k)).toBe(`v${i}`));
  expect(w.groups[3]!.machine.ownership.ownedCount).toBe(0);
});

test('a group that never answers ends the reshard with a clear error, after a bounded number of attempts', async () => {
  const w = world((call) => (call > 40 ? 'before' : 'ok'));
  const error = await w.run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ReshardError);
  expect((error as Error).message).toMatch(
    /^out 3->4 batch \d\/6 slots \d+-\d+ \(\d+\) \d->3 at epoch \d+ did not complete after 40 attempts over \d+ ms; last error: UNAVAILABLE: call \d+ never reached the group$/,
  );
  expect(w.api.calls).toBeLessThan(40 + RESHARD_LIMITS.attemptsPerBatch * 10);
  expect(w.lifecycle).toEqual(['start']);
});

test('planted skip-copy: the reshard completes and the layout is even, but the moved keys are gone', async () => {
  const w = world(undefined, true);
  const report = await w.run();
  expect(report.batches).toHaveLength(12);
  expect(w.events.join('\n')).toMatch(/reshard back 4->3 even/);
  const missing = KEYS.filter((k) => valueOf(w, k) === undefined);
  expect(missing).toHaveLength(6); // every key that rode along with a move
});
