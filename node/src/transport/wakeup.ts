// A level-triggered wake-up for a single waiting worker. Every event a worker cares about (a message queued, a
// stream drained or finished, a timer, a stop request) calls notify(); the worker re-checks its state after each
// wake. One long-lived waiter instead of Promise.race over long-lived promises, which would pile up reactions.

export class Wakeup {
  private waiter: (() => void) | undefined;
  private pending = false;

  notify(): void {
    const waiter = this.waiter;
    if (waiter === undefined) {
      this.pending = true;
      return;
    }
    this.waiter = undefined;
    waiter();
  }

  /** Resolves at the next notify(), or at once if one happened since the last wait. */
  wait(): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Waits until `condition` holds, re-checking after every notify(). */
  async until(condition: () => boolean): Promise<void> {
    while (!condition()) await this.wait();
  }
}
