import { decide, LeaderElector, type ElectionClock, type LeaseRecord, type LeaseStore } from './lease.js';

const TIMING = { leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };

class MemoryLeaseStore implements LeaseStore {
  record: LeaseRecord | undefined;
  private rv = 0;
  failing = false;
  calls = 0;
  get(): Promise<LeaseRecord | undefined> {
    this.calls++;
    if (this.failing) return Promise.reject(new Error('apiserver unreachable'));
    return Promise.resolve(this.record === undefined ? undefined : { ...this.record });
  }
  create(r: LeaseRecord): Promise<LeaseRecord> {
    if (this.failing) return Promise.reject(new Error('apiserver unreachable'));
    if (this.record !== undefined) return Promise.reject(new Error('409 AlreadyExists'));
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return Promise.resolve({ ...this.record });
  }
  update(r: LeaseRecord): Promise<LeaseRecord> {
    if (this.failing) return Promise.reject(new Error('apiserver unreachable'));
    if (this.record?.resourceVersion !== r.resourceVersion) return Promise.reject(new Error('409 Conflict'));
    this.record = { ...r, resourceVersion: String(++this.rv) };
    return Promise.resolve({ ...this.record });
  }
}

class FakeClock implements ElectionClock {
  ms = 1_000_000;
  nowMs(): number {
    return this.ms;
  }
  nowIso(): string {
    return new Date(this.ms).toISOString();
  }
}

function held(holder: string, rv = '7'): LeaseRecord {
  return {
    holderIdentity: holder,
    leaseDurationSeconds: 15,
    acquireTime: 't0',
    renewTime: 't1',
    leaseTransitions: 3,
    resourceVersion: rv,
  };
}

describe('decide', () => {
  test('no Lease: create it as holder', () => {
    const d = decide(undefined, undefined, 'me', 0, 'now', TIMING);
    expect(d).toEqual({
      kind: 'create',
      record: expect.objectContaining({
        holderIdentity: 'me',
        leaseTransitions: 0,
        renewTime: 'now',
      }) as unknown,
    });
  });
  test('held by another: wait a full duration from when we first saw this version, on our own clock', () => {
    expect(decide(held('other'), undefined, 'me', 5000, 'now', TIMING)).toEqual({
      kind: 'wait',
      holder: 'other',
      expiresInMs: 15_000,
    });
    const seen = { resourceVersion: '7', atMs: 0 };
    expect(decide(held('other'), seen, 'me', 14_999, 'now', TIMING).kind).toBe('wait');
    const d = decide(held('other'), seen, 'me', 15_000, 'now', TIMING);
    expect(d).toMatchObject({
      kind: 'update',
      record: { holderIdentity: 'me', leaseTransitions: 4, acquireTime: 'now' },
    });
    // a renewal by the holder (new resourceVersion) restarts the wait
    expect(decide(held('other', '8'), seen, 'me', 20_000, 'now', TIMING).kind).toBe('wait');
  });
  test('our own Lease: renew without a transition; a released Lease is taken at once', () => {
    expect(decide(held('me'), undefined, 'me', 0, 'now', TIMING)).toMatchObject({
      kind: 'update',
      record: { renewTime: 'now', acquireTime: 't0', leaseTransitions: 3 },
    });
    expect(decide(held(''), undefined, 'me', 0, 'now', TIMING)).toMatchObject({
      kind: 'update',
      record: { holderIdentity: 'me', leaseTransitions: 4 },
    });
  });
});

describe('LeaderElector', () => {
  function elector(store: LeaseStore, clock: FakeClock, id: string, events: string[]): LeaderElector {
    const sleep = (ms: number): Promise<void> => {
      clock.ms += ms;
      return Promise.resolve();
    };
    return new LeaderElector(store, id, TIMING, clock, sleep, {
      onStartedLeading: () => events.push(`${id} leads`),
      onStoppedLeading: (reason) => events.push(`${id} lost: ${reason}`),
    });
  }

  test('rejects timing where a standby could take over before the leader gives up', () => {
    const bad = { leaseDurationSeconds: 10, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 };
    expect(
      () =>
        new LeaderElector(new MemoryLeaseStore(), 'a', bad, new FakeClock(), () => Promise.resolve(), {
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
    ).toThrow(/duration > deadline > retry/);
  });

  test('two candidates: one leads; the other takes over only after the lease expires', async () => {
    const store = new MemoryLeaseStore();
    const clock = new FakeClock();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    const b = elector(store, clock, 'b', events);
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    clock.ms += 14_000;
    expect(await b.tryAcquireOrRenew()).toBe(false); // b first saw it 14 s ago: not yet
    clock.ms += 1_000;
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(store.record?.holderIdentity).toBe('b');
    expect(store.record?.leaseTransitions).toBe(1);
  });

  test('the leader stops leading once it could not renew for the renew deadline', async () => {
    const store = new MemoryLeaseStore();
    const clock = new FakeClock();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    const ctl = new AbortController();
    let renewals = 0;
    const origUpdate = store.update.bind(store);
    store.update = (r) => {
      if (++renewals === 3) store.failing = true;
      return origUpdate(r);
    };
    await a.run(ctl.signal);
    expect(events[0]).toBe('a leads');
    expect(events[1]).toMatch(/^a lost: could not renew the Lease for 1[0-2] s/);
    expect(a.isLeader()).toBe(false);
    expect(store.calls).toBeLessThan(20); // bounded: gave up after the deadline, not retrying forever
  });

  test('release hands the Lease over at once; a standby acquires it on its next try', async () => {
    const store = new MemoryLeaseStore();
    const clock = new FakeClock();
    const events: string[] = [];
    const a = elector(store, clock, 'a', events);
    const b = elector(store, clock, 'b', events);
    const ctl = new AbortController();
    // a leads, and renews until aborted
    const run = a.run(ctl.signal);
    await Promise.resolve();
    ctl.abort();
    await run;
    expect(a.isLeader()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(await a.release()).toBe(true);
    expect(store.record?.holderIdentity).toBe('');
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(events).toEqual(['a leads']);
  });

  test('a failed write is a failed attempt, not an exception', async () => {
    const store = new MemoryLeaseStore();
    store.failing = true;
    const failures: string[] = [];
    const e = new LeaderElector(store, 'a', TIMING, new FakeClock(), () => Promise.resolve(), {
      onStartedLeading: () => undefined,
      onStoppedLeading: () => undefined,
      onAttemptFailed: (m) => failures.push(m),
    });
    expect(await e.tryAcquireOrRenew()).toBe(false);
    expect(failures).toEqual(['reading the Lease: apiserver unreachable']);
  });
});
