import type { Entry } from '../raft/types.js';
import { PendingProposals, type Waiter } from './pending-proposals.js';

function waiter(log: string[], name: string): Waiter<string> {
  return {
    resolve: (v) => log.push(`${name} resolved ${v}`),
    reject: (e) => log.push(`${name} ${e.message}`),
  };
}
const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: new Uint8Array(),
});
const overwritten = (w: Waiter<string>, term: number): void => w.reject(new Error(`dropped (term ${term})`));

describe('PendingProposals', () => {
  test('an applied entry of the same term is the proposal; another term means it was overwritten', () => {
    const log: string[] = [];
    const p = new PendingProposals<string>();
    p.add(5, 2, waiter(log, 'a'), overwritten);
    p.add(6, 2, waiter(log, 'b'), overwritten);
    p.take(entry(5, 2), overwritten)?.resolve('ok');
    expect(p.take(entry(6, 3), overwritten)).toBeUndefined();
    expect(log).toEqual(['a resolved ok', 'b dropped (term 2)']);
    expect(p.size).toBe(0);
  });

  // Found by the simulation running the real host loop: a leader that lost its uncommitted tail (it stepped down,
  // restarted, or a newer leader truncated it) and is elected again proposes at the indices it used before, while the
  // waiters of its earlier proposals there are still registered. The loop failed with "two proposals registered".
  test('a leader re-elected proposes again at an index it used in an earlier term: the old waiter is dropped', () => {
    const log: string[] = [];
    const p = new PendingProposals<string>();
    p.add(7, 3, waiter(log, 'old'), overwritten);
    p.add(7, 5, waiter(log, 'new'), overwritten);
    expect(log).toEqual(['old dropped (term 3)']);
    p.take(entry(7, 5), overwritten)?.resolve('ok');
    expect(log).toEqual(['old dropped (term 3)', 'new resolved ok']);
  });

  test('two proposals at one index in the same (or an older) term are a bug upstream, refused loudly', () => {
    const p = new PendingProposals<string>();
    p.add(7, 5, waiter([], 'a'), overwritten);
    expect(() => p.add(7, 5, waiter([], 'b'), overwritten)).toThrow(
      'two proposals at index 7: terms 5 and 5',
    );
    expect(() => p.add(7, 4, waiter([], 'c'), overwritten)).toThrow('terms 5 and 4');
  });
});
