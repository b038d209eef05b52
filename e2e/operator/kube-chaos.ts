// Faults on our Kubernetes for the operator's chaos test: each is injected through the node agent's fault API or
// kubectl, and the test watches what the operator reports while it lasts. A fault is either held (it lasts until the
// test heals it: a partition, a stopped node), so the reported health can be checked while it is true, or transient
// (it heals by itself: a deleted pod comes back, a killed process restarts), so its figure is whether and when the
// status saw it before it was over.
import { fault, kubectl } from '../smoke/cluster.js';
import { getCluster } from './raftcluster-view.js';

export type ExpectedHealth = 'degraded' | 'unhealthy';

export const podFault = {
  partition: (ns: string, pod: string): Promise<unknown> => fault('POST', `/pods/${ns}/${pod}/partition`),
  heal: (ns: string, pod: string): Promise<unknown> => fault('POST', `/pods/${ns}/${pod}/heal`),
  kill: (ns: string, pod: string): Promise<unknown> => fault('POST', `/pods/${ns}/${pod}/kill`),
  delete: (ns: string, pods: string[]): Promise<string> =>
    kubectl(['delete', 'pod', '-n', ns, '--wait=false', ...pods]),
};

export const nodeFault = {
  /** Power loss: heartbeats stop and the node's pod processes are SIGKILLed. */
  stop: (node: string): Promise<unknown> => fault('POST', `/nodes/${node}/stop?kill=true`),
  start: (node: string): Promise<unknown> => fault('POST', `/nodes/${node}/start`),
};

const POLL_MS = 200;

const isAtLeast = (health: string | undefined, expected: ExpectedHealth): boolean =>
  health === 'unhealthy' || (expected === 'degraded' && health === 'degraded');

/** Milliseconds from `injectedAt` until the status says `expected` (or worse); throws after `timeoutMs`. */
export async function waitReported(
  ns: string,
  cluster: string,
  expected: ExpectedHealth,
  injectedAt: number,
  timeoutMs: number,
): Promise<number> {
  for (;;) {
    const health = (await getCluster(ns, cluster)).status?.health;
    if (isAtLeast(health, expected)) return Date.now() - injectedAt;
    if (Date.now() - injectedAt > timeoutMs) {
      throw new Error(`${cluster}: still ${health} ${timeoutMs} ms after a fault that makes it ${expected}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * For a fault that heals by itself: watches from the injection until the status is healthy again, at least
 * `settleMs` after the injection (so that a fault the status has not seen yet is not taken as over).
 */
export async function watchTransient(
  ns: string,
  cluster: string,
  expected: ExpectedHealth,
  injectedAt: number,
  settleMs: number,
  timeoutMs: number,
): Promise<{ reportedAfterMs: number | undefined; healthyAfterMs: number }> {
  let reportedAfterMs: number | undefined;
  for (;;) {
    const health = (await getCluster(ns, cluster)).status?.health;
    const elapsed = Date.now() - injectedAt;
    if (reportedAfterMs === undefined && isAtLeast(health, expected)) reportedAfterMs = elapsed;
    if (health === 'healthy' && elapsed >= settleMs) return { reportedAfterMs, healthyAfterMs: elapsed };
    if (elapsed > timeoutMs)
      throw new Error(`${cluster}: not healthy ${timeoutMs} ms after a transient fault`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
