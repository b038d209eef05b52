// A run's fault schedule, derived only from the seed so that a failing run can be replayed with --seed. The
// workload's interleaving is not reproducible (real processes and real time), the faults and their order are.
import { Prng } from '../src/random/prng.js';

export type FaultKind =
  | 'kill-leader'
  | 'kill-follower'
  | 'pause-leader'
  | 'pause-follower'
  | 'isolate-leader'
  | 'isolate-follower'
  | 'transfer-leadership'
  | 'replace-member';

export interface Fault {
  readonly kind: FaultKind;
  /** How long the fault lasts before it is healed (killed members restart, paused ones resume). */
  readonly holdMs: number;
  /** Quiet time after healing, before the next fault. */
  readonly settleMs: number;
  /** Picks among followers, so the same seed picks the same relative member. */
  readonly pick: number;
}

export interface Schedule {
  readonly seed: number;
  readonly faults: readonly Fault[];
  /** Every run ends with kill -9 of all members and a restart; then each key is read back. */
  readonly killAllAtEnd: true;
}

const KINDS: readonly FaultKind[] = [
  'kill-leader',
  'kill-follower',
  'pause-leader',
  'pause-follower',
  'isolate-leader',
  'isolate-follower',
  'transfer-leadership',
  'replace-member',
];

export function makeSchedule(
  seed: number,
  durationMs: number,
  required: readonly FaultKind[] = [],
): Schedule {
  const rng = new Prng(seed);
  const faults: Fault[] = [];
  let total = 0;
  const push = (kind: FaultKind): void => {
    const holdMs = rng.int(500, 2500);
    const settleMs = rng.int(300, 1500);
    faults.push({ kind, holdMs, settleMs, pick: rng.int(0, 1_000) });
    total += holdMs + settleMs;
  };
  for (const kind of required) push(kind);
  while (total < durationMs) push(KINDS[rng.int(0, KINDS.length - 1)]!);
  return { seed, faults, killAllAtEnd: true };
}
