// One incarnation of a member's process, as the simulation runs it: everything the real host loop is woken by —
// its timers, the completion of its disk operations — goes through here, so the simulation can freeze the process
// (a pause: SIGSTOP, a long GC), thaw it, or kill it (a crash: nothing of it ever runs again, whatever promise it
// was awaiting). Time is the simulation's: a timer set for `ms` fires when simulated time reaches it.
import type { CancelTimer, ReplicaClock } from '../../src/replica/replica-clock.js';

/** The simulation's event scheduler: callbacks at simulated milliseconds, in (time, order of scheduling) order. */
export interface SimScheduler {
  now(): number;
  at(timeMs: number, fn: () => void): void;
}

/** Bound on callbacks held while paused: a frozen process has at most its timers and in-flight disk operations. */
const MAX_HELD = 100_000;

export class SimProcess {
  private state: 'running' | 'paused' | 'dead' = 'running';
  private held: (() => void)[] = [];

  constructor(private readonly scheduler: SimScheduler) {}

  get alive(): boolean {
    return this.state !== 'dead';
  }

  get paused(): boolean {
    return this.state === 'paused';
  }

  /** Runs `fn` now if the process runs, on resume if it is paused, never if it died. */
  run(fn: () => void): void {
    if (this.state === 'running') fn();
    else if (this.state === 'paused') {
      if (this.held.length >= MAX_HELD)
        throw new Error(`a paused process holds more than ${MAX_HELD} wake-ups`);
      this.held.push(fn);
    }
  }

  /** Resolves after `ms` of simulated time, gated like any wake-up of this process (never, once it died). */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.scheduler.at(this.scheduler.now() + ms, () => this.run(resolve)));
  }

  pause(): void {
    if (this.state === 'running') this.state = 'paused';
  }

  /** Thaws the process: what came due while it was frozen runs now, in order (a timer fires once, as in node). */
  resume(): void {
    if (this.state !== 'paused') return;
    this.state = 'running';
    const held = this.held;
    this.held = [];
    for (const fn of held) this.run(fn);
  }

  kill(): void {
    this.state = 'dead';
    this.held = [];
  }

  /** The host loop's clock: simulated time, timers that belong to this incarnation. */
  clock(): ReplicaClock {
    const scheduler = this.scheduler;
    return {
      now: () => scheduler.now(),
      setTimer: (fn, ms): CancelTimer => {
        let cancelled = false;
        scheduler.at(scheduler.now() + Math.max(0, ms), () =>
          this.run(() => {
            if (!cancelled) fn();
          }),
        );
        return () => {
          cancelled = true;
        };
      },
      setRepeating: (fn, ms): CancelTimer => {
        let cancelled = false;
        let pending = false;
        const every = Math.max(1, ms);
        const fire = (): void => {
          if (cancelled || !this.alive) return;
          // A frozen process's interval fires once when it thaws, not once per missed period.
          if (!pending) {
            pending = true;
            this.run(() => {
              pending = false;
              if (!cancelled) fn();
            });
          }
          scheduler.at(scheduler.now() + every, fire);
        };
        scheduler.at(scheduler.now() + every, fire);
        return () => {
          cancelled = true;
        };
      },
    };
  }
}
