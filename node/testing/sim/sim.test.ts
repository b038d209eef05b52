// The CI slice of the simulation: a couple of hundred short seeds of the real core under faults must show no
// violation; the same seed must replay identically; and deliberately broken hosts must be caught, which shows the
// checkers are sharp (a simulation whose checkers never fire proves nothing).
import { Prng } from '../../src/random/prng.js';
import { drawSeedConfig } from './seed-config.js';
import { runSeed, type SeedResult } from './simulator.js';

const CI_SEEDS = 100;
const CI_DURATION_MS = 3000;

function firstLine(r: SeedResult): string {
  return `seed ${r.seed}: ${r.violations[0]?.split('\n').slice(0, 4).join(' | ') ?? ''} (replay: npm run sim -- --seed ${r.seed} --duration-ms ${CI_DURATION_MS})`;
}

describe('deterministic cluster simulation', () => {
  test(`${CI_SEEDS} seeds of ${CI_DURATION_MS} simulated ms show no safety or linearizability violation`, () => {
    const failures: string[] = [];
    let operations = 0;
    let leaders = 0;
    for (let seed = 0; seed < CI_SEEDS; seed++) {
      const r = runSeed({ seed, durationMs: CI_DURATION_MS, lincheckDeadlineMs: 5000 });
      if (r.violations.length > 0) failures.push(firstLine(r));
      operations += r.stats.completed;
      leaders += r.stats.leaders;
    }
    expect(failures).toEqual([]);
    // Guard against a vacuous pass: the clients got answers and elections happened.
    expect(operations).toBeGreaterThan(CI_SEEDS * 50);
    expect(leaders).toBeGreaterThan(CI_SEEDS);
  }, 120_000);

  test('a seed replays exactly: same history, same statistics, same trace', () => {
    const traceA: string[] = [];
    const traceB: string[] = [];
    const a = runSeed({ seed: 4242, durationMs: 2000, trace: (l) => traceA.push(l) });
    const b = runSeed({ seed: 4242, durationMs: 2000, trace: (l) => traceB.push(l) });
    expect(b.history).toEqual(a.history);
    expect(b.stats).toEqual(a.stats);
    expect(traceB).toEqual(traceA);
    expect(traceA.length).toBeGreaterThan(100);
    const c = runSeed({ seed: 4243, durationMs: 2000 });
    expect(c.history).not.toEqual(a.history);
  });

  test('a seed with asynchronous persistence and Figure 8 faults replays exactly too', () => {
    let seed = 0;
    for (;;) {
      const cfg = drawSeedConfig(new Prng(seed).fork('config'), { durationMs: 2000 });
      if (cfg.profile === 'figure8' && cfg.node.fsyncMaxMs > 0) break;
      seed++;
    }
    const traceA: string[] = [];
    const traceB: string[] = [];
    const a = runSeed({ seed, durationMs: 2000, trace: (l) => traceA.push(l) });
    const b = runSeed({ seed, durationMs: 2000, trace: (l) => traceB.push(l) });
    expect(a.violations).toEqual([]);
    expect(traceB).toEqual(traceA);
    expect(b.history).toEqual(a.history);
  });

  test('the trace shows delivered messages, faults and client operations with simulated time', () => {
    const lines: string[] = [];
    runSeed({ seed: 7, durationMs: 3000, trace: (l) => lines.push(l) });
    expect(lines.some((l) => /^\s*\d+ms deliver n\d+→n\d+ (app|heartbeat)/.test(l))).toBe(true);
    expect(lines.some((l) => /LEADER of term \d+/.test(l))).toBe(true);
    expect(lines.some((l) => /client \d+ invoke c\d+\.\d+ /.test(l))).toBe(true);
    expect(lines.some((l) => /client \d+ return c\d+\.\d+ /.test(l))).toBe(true);
  });

  test('sharp: a host that acknowledges appends before its fsync loses data, and the run says so', () => {
    const caught: SeedResult[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const r = runSeed({ seed, durationMs: CI_DURATION_MS, hostBugs: { skipFsync: true } });
      if (r.violations.length > 0) caught.push(r);
    }
    expect(caught.length).toBeGreaterThan(0);
  }, 60_000);

  test('sharp: a host that lets a vote grant out before its fsync votes twice in a term, and the run says so', () => {
    const caught: SeedResult[] = [];
    let seed = 0;
    for (; seed < 100 && caught.length === 0; seed++) {
      const r = runSeed({ seed, durationMs: CI_DURATION_MS, hostBugs: { votesBeforeFsync: true } });
      if (r.violations.length > 0) caught.push(r);
    }
    expect(caught.map((r) => r.violations[0])).toEqual([expect.stringMatching(/^t=\d+: vote safety: /)]);
  }, 60_000);

  test('sharp: a host that serves reads from its local state without ReadIndex is not linearizable', () => {
    const caught: SeedResult[] = [];
    for (let seed = 0; seed < 20 && caught.length === 0; seed++) {
      const r = runSeed({ seed, durationMs: CI_DURATION_MS, hostBugs: { localReads: true } });
      if (r.lincheck === 'violation') caught.push(r);
    }
    expect(caught.length).toBeGreaterThan(0);
    expect(caught[0]!.violations[0]).toMatch(/^linearizability: /);
  }, 60_000);
});
