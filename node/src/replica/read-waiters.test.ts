import { ReadWaiters } from './read-waiters.js';

const waiter = (log: string[], name: string) => ({
  resolve: () => log.push(`${name} ok`),
  reject: (e: Error) => log.push(`${name} ${e.message}`),
});

describe('ReadWaiters', () => {
  test('contexts are unique across members: two members never send the leader the same context', () => {
    const a = new ReadWaiters('m0');
    const b = new ReadWaiters('m1');
    const ca = Buffer.from(a.register([])).toString('hex');
    const cb = Buffer.from(b.register([])).toString('hex');
    expect(ca).not.toBe(cb);
    expect(Buffer.from(a.register([])).toString('hex')).not.toBe(ca);
  });

  test('a read resolves once the state machine applied up to its read index', () => {
    const log: string[] = [];
    const r = new ReadWaiters('m0');
    const ctx = r.register([waiter(log, 'r1')]);
    r.onReadState(ctx, 10, 7);
    expect(log).toEqual([]);
    r.onApplied(9);
    expect(log).toEqual([]);
    r.onApplied(10);
    expect(log).toEqual(['r1 ok']);
    expect(r.size).toBe(0);
  });

  test('reads waiting for an index fail when leadership changes; unknown contexts are ignored', () => {
    const log: string[] = [];
    const r = new ReadWaiters('m0');
    r.register([waiter(log, 'r1'), waiter(log, 'r2')]);
    r.onReadState(new Uint8Array([1, 2, 3]), 5, 5);
    r.rejectAwaitingIndex(new Error('leader changed'));
    expect(log).toEqual(['r1 leader changed', 'r2 leader changed']);
  });
});
