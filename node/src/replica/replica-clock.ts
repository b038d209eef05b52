// The replica's time: when it ticks, when a request times out, how long a stage took. Real timers in the node, simulated
// ones in the deterministic simulation (node/testing/sim), which advances time itself and must see every timer the
// host loop sets, or a seed would not replay.

/** Cancels a timer; calling it after the timer fired, or twice, is harmless. */
export type CancelTimer = () => void;

export interface ReplicaClock {
  /** Monotonic milliseconds. */
  now(): number;
  /** Runs `fn` once after `ms`; never keeps the process alive on its own account. */
  setTimer(fn: () => void, ms: number): CancelTimer;
  /** Runs `fn` every `ms` until cancelled. */
  setRepeating(fn: () => void, ms: number): CancelTimer;
}

/** The process's own timers and monotonic clock. */
export const systemClock: ReplicaClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
  setRepeating: (fn, ms) => {
    const timer = setInterval(fn, ms);
    return () => clearInterval(timer);
  },
};
