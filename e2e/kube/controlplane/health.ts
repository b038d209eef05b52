// Bounded waiting: poll a probe until it passes, the daemon dies, or the deadline passes, with an error that says
// which and shows the daemon's last log lines.
import { setTimeout as sleep } from 'node:timers/promises';

/** A probe resolves `true` when healthy, or a short string saying why not yet. Thrown errors count as "not yet". */
export type Probe = () => Promise<true | string>;

export interface WaitOptions {
  readonly what: string;
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Checked between probes: a daemon that exited will never become healthy, so fail at once. */
  readonly alive?: () => boolean;
  /** Extra context for the error (typically a log tail). */
  readonly detail?: () => string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<unknown>;
}

export class WaitError extends Error {
  override readonly name = 'WaitError';
}

/** Resolves with the elapsed milliseconds once `probe` returns true. */
export async function waitFor(probe: Probe, opts: WaitOptions): Promise<number> {
  const now = opts.now ?? Date.now;
  const pause = opts.sleep ?? sleep;
  const start = now();
  let last = 'not probed yet';
  for (;;) {
    try {
      const r = await probe();
      if (r === true) return now() - start;
      last = r;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    const detail = (): string => (opts.detail ? `\n--- last log lines ---\n${opts.detail()}` : '');
    if (opts.alive && !opts.alive())
      throw new WaitError(`${opts.what}: process exited (last probe: ${last})${detail()}`);
    if (now() - start >= opts.timeoutMs) {
      throw new WaitError(
        `${opts.what}: not healthy after ${opts.timeoutMs} ms (last probe: ${last})${detail()}`,
      );
    }
    await pause(opts.intervalMs ?? 250);
  }
}

/** Probe for a plain-HTTP endpoint that answers 200 when healthy (etcd /health, CoreDNS /ready). */
export function httpProbe(url: string, timeoutMs: number): Probe {
  return async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.text()).slice(0, 200).trim();
    return res.status === 200 ? true : `HTTP ${res.status} ${body}`;
  };
}
