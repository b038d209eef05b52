import { DEFAULT_WORLD, runReshardWorld, type PlantedBug } from './reshard-world.js';

const SEEDS = 300;

function run(seeds: number, plant?: PlantedBug) {
  const reports = Array.from({ length: seeds }, (_, i) =>
    runReshardWorld({ ...DEFAULT_WORLD, seed: i + 1, ...(plant === undefined ? {} : { plant }) }),
  );
  return {
    reports,
    failing: reports.filter((r) => r.violations.length > 0),
    sum: (f: (r: (typeof reports)[number]) => number) => reports.reduce((total, r) => total + f(r), 0),
  };
}

describe('slot moves between groups, with faults between every step', () => {
  it(`keep one writer per slot, a linearizable history and every acknowledged write (${SEEDS} seeds)`, () => {
    const { reports, failing, sum } = run(SEEDS);
    expect(failing.map((r) => r.violations[0])).toEqual([]);
    expect(reports.every((r) => r.lincheck === 'linearizable')).toBe(true);
    // The runs did what they claim: moves finished under traffic and faults.
    expect(sum((r) => r.moves)).toBeGreaterThan(SEEDS * 5);
    expect(sum((r) => r.operations)).toBeGreaterThan(SEEDS * 100);
    expect(sum((r) => r.faults.crashes)).toBeGreaterThan(SEEDS);
    expect(sum((r) => r.faults.restarts)).toBeGreaterThan(SEEDS / 2);
    expect(sum((r) => r.faults.lostReplies)).toBeGreaterThan(SEEDS * 5);
    expect(sum((r) => r.faults.staleSteps)).toBeGreaterThan(SEEDS / 4);
    expect(sum((r) => r.aborts)).toBeGreaterThan(SEEDS / 4);
    // A coordinator that resumed after a crash went on after the target's copy cursor: through crashes, restarts
    // from snapshots and stale coordinators' late pages, the live one never sent a key the target already held.
    expect(sum((r) => r.copy.keysSent)).toBeGreaterThan(SEEDS * 10);
    expect(sum((r) => r.copy.keysResent)).toBe(0);
  });

  it('catch a planted bug: the target seals its import on the first page and serves without the rest', () => {
    const { failing } = run(40, 'sealEarly');
    expect(failing.length).toBeGreaterThan(0);
    expect(failing[0]!.violations.join('\n')).toMatch(/lost|linearizability/);
  });

  it('catch a planted bug: the source is never frozen and keeps taking writes after the hand-off', () => {
    const { failing } = run(40, 'skipFreeze');
    expect(failing.length).toBeGreaterThan(0);
    expect(failing[0]!.violations.join('\n')).toMatch(/served by groups/);
  });
});
