// Liveness as a measure rather than a yes/no: how much of what a seed achieves healthy does it still achieve under
// its faults? The same seed is run again with every fault switched off (seed-config.ts withoutFaults: same clients,
// core limits and timings), and the client operations answered in both runs are compared. Faults cost progress, so
// the ratio is mostly below 1; a seed far below the others points at a core that recovers badly (an election that
// takes much longer than it should, a follower that never catches up), which the safety checkers cannot see.
// A flagged seed is a lead to read, not a failure.
import type { Profile } from './seed-config.js';
import { runSeed, type SeedResult, type SimOptions } from './simulator.js';

/**
 * A seed is flagged when its ratio is below this fraction of the median ratio of seeds of its profile in the same
 * batch: profiles differ by design (figure8 and elections seeds cut off most new leaders), so "far below" is judged
 * among seeds that suffer the same kind of faults.
 */
export const FAR_BELOW_MEDIAN = 0.25;

export interface Liveness {
  /** Client operations answered (writes acknowledged, reads served) with the seed's faults. */
  readonly completed: number;
  /** The same with every fault switched off. */
  readonly completedHealthy: number;
  /** completed / completedHealthy (1 when the healthy run answered nothing either). */
  readonly ratio: number;
  /** Violations of the fault-free run: a healthy cluster must pass every checker too. */
  readonly healthyViolations: readonly string[];
}

export function livenessOf(faulty: SeedResult, healthy: SeedResult): Liveness {
  const completed = faulty.stats.completed;
  const completedHealthy = healthy.stats.completed;
  const ratio = completedHealthy === 0 ? 1 : completed / completedHealthy;
  return { completed, completedHealthy, ratio, healthyViolations: healthy.violations };
}

/** Runs the seed's fault-free twin (its checkers on, its history not checked for linearizability: it is calm). */
export function runHealthyTwin(options: SimOptions): Promise<SeedResult> {
  const { trace: _trace, ...rest } = options;
  return runSeed({ ...rest, faultsOff: true, checkLinearizability: false });
}

/** Runs a seed and its fault-free twin. */
export async function runSeedWithLiveness(
  options: SimOptions,
): Promise<{ result: SeedResult; liveness: Liveness }> {
  const result = await runSeed(options);
  return { result, liveness: livenessOf(result, await runHealthyTwin(options)) };
}

export interface MeasuredSeed {
  readonly seed: number;
  readonly profile: Profile;
  readonly ratio: number;
}

/** The spread of the ratios per profile, and the seeds far below their profile's median. */
export function summarizeLiveness(measured: readonly MeasuredSeed[]): {
  lines: string[];
  flagged: MeasuredSeed[];
} {
  const lines: string[] = [];
  const flagged: MeasuredSeed[] = [];
  const profiles = [...new Set(measured.map((m) => m.profile))].sort();
  for (const profile of profiles) {
    const sorted = measured.filter((m) => m.profile === profile).sort((a, b) => a.ratio - b.ratio);
    const at = (q: number): number =>
      sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.ratio;
    const median = at(0.5);
    const far = sorted.filter((m) => m.ratio < median * FAR_BELOW_MEDIAN);
    flagged.push(...far);
    lines.push(
      `liveness ${profile} (${sorted.length} seeds; operations answered with faults / without): ` +
        `min ${at(0).toFixed(2)}, p10 ${at(0.1).toFixed(2)}, median ${median.toFixed(2)}; ` +
        `far below (< ${FAR_BELOW_MEDIAN} × median): ${far.length === 0 ? 'none' : far.map((m) => `${m.seed} (${m.ratio.toFixed(2)})`).join(', ')}`,
    );
  }
  return { lines, flagged: flagged.sort((a, b) => a.seed - b.seed) };
}
