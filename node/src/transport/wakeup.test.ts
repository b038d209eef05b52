import { Wakeup } from './wakeup.js';

describe('Wakeup', () => {
  it('resolves a waiter at the next notify', async () => {
    const wake = new Wakeup();
    let woken = false;
    const waiting = wake.wait().then(() => {
      woken = true;
    });
    await Promise.resolve();
    expect(woken).toBe(false);
    wake.notify();
    await waiting;
    expect(woken).toBe(true);
  });

  it('remembers a notify that came before the wait (no lost wake-up), once', async () => {
    const wake = new Wakeup();
    wake.notify();
    wake.notify();
    await wake.wait(); // consumes the remembered notify
    let second = false;
    void wake.wait().then(() => {
      second = true;
    });
    await Promise.resolve();
    await Promise.resolve();
    expect(second).toBe(false);
    wake.notify();
    await Promise.resolve();
    expect(second).toBe(true);
  });

  it('until() re-checks its condition after every notify', async () => {
    const wake = new Wakeup();
    let value = 0;
    const done = wake.until(() => value >= 3);
    for (let i = 0; i < 3; i += 1) {
      value += 1;
      wake.notify();
      await Promise.resolve();
    }
    await done;
    expect(value).toBe(3);
  });
});
