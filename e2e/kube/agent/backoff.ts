// Restart back-off for crashed containers (what CrashLoopBackOff waits for), as the kubelet does it: the delay
// starts at initial, doubles per crash up to max, and resets once a container has run cleanly for resetAfter.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  resetAfterMs: number;
}

export const KUBELET_BACKOFF: BackoffPolicy = { initialMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000 };

export function validateBackoff(p: BackoffPolicy): BackoffPolicy {
  if (!(p.initialMs > 0 && p.maxMs >= p.initialMs && p.resetAfterMs > 0))
    throw new Error(`invalid back-off policy ${JSON.stringify(p)}`);
  return p;
}

/** Delay before the next start, given the delay used last time (undefined: never crashed) and how long it ran. */
export function nextRestartDelayMs(
  p: BackoffPolicy,
  previousDelayMs: number | undefined,
  ranForMs: number,
): number {
  if (previousDelayMs === undefined || ranForMs >= p.resetAfterMs) return p.initialMs;
  return Math.min(previousDelayMs * 2, p.maxMs);
}

/** Whether a terminated container restarts at all under the pod's restartPolicy. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number): boolean {
  switch (restartPolicy ?? 'Always') {
    case 'Always':
      return true;
    case 'OnFailure':
      return exitCode !== 0;
    default:
      return false;
  }
}
