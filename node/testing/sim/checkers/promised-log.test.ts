import type { Entry, HardState, Snapshot } from '../../../src/raft/index.js';
import { PromisedLog, PromisedLogError } from './promised-log.js';

function e(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: new Uint8Array([index]) };
}
const hs = (term: number, commit: number, vote = ''): HardState => ({ term, vote, commit });
const snap = (index: number, term: number): Snapshot => ({
  metadata: { index, term, confState: { voters: ['n1'], learners: [] } },
  data: new Uint8Array([9]),
});

/** Entries 1..3 in term 1 and a vote for n2 in term 2, synced. */
function synced(): PromisedLog {
  const log = new PromisedLog();
  for (const i of [1, 2, 3]) log.write({ kind: 'entry', entry: e(i, 1) });
  log.write({ kind: 'hardState', hardState: hs(2, 2, 'n2') });
  log.sync();
  return log;
}

describe('PromisedLog', () => {
  test('the promised log view: terms from the snapshot on, nothing for unsynced writes', () => {
    const log = new PromisedLog();
    log.write({ kind: 'installSnapshot', snapshot: snap(3, 2) });
    log.write({ kind: 'entry', entry: e(4, 2) });
    log.sync();
    log.write({ kind: 'entry', entry: e(5, 3) });
    expect([log.firstIndex(), log.lastIndex()]).toEqual([4, 4]);
    expect([2, 3, 4, 5].map((i) => log.termAt(i))).toEqual([undefined, 2, 2, undefined]);
    log.sync();
    expect(log.termAt(5)).toBe(3);
    const empty = new PromisedLog();
    expect([empty.firstIndex(), empty.lastIndex(), empty.termAt(0)]).toEqual([1, 0, 0]);
  });

  test('a restart that recovered everything synced (and perhaps more) keeps every promise', () => {
    const log = synced();
    log.write({ kind: 'entry', entry: e(4, 2) });
    log.crash();
    expect(
      log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 1)], hardState: hs(2, 2, 'n2') }),
    ).toBeUndefined();
    expect(
      log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 1), e(4, 2)], hardState: hs(3, 4, '') }),
    ).toBeUndefined();
    // A snapshot that covers synced entries stands in for them.
    expect(
      log.brokenPromise({ snapshot: snap(2, 1), entries: [e(3, 1)], hardState: hs(2, 2, 'n2') }),
    ).toBeUndefined();
  });

  test('a synced entry, term, vote or commit that did not come back is named', () => {
    const log = synced();
    log.crash();
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 1)], hardState: hs(2, 2, 'n2') })).toBe(
      'the synced entry 3@1 did not come back',
    );
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 2)], hardState: hs(2, 2, 'n2') })).toBe(
      'the synced entry 3@1 came back as 3@2',
    );
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 1)], hardState: hs(1, 2) })).toBe(
      'the synced term 2 came back as 1',
    );
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 1)], hardState: hs(2, 2, 'n3') })).toBe(
      "the vote for n2 synced in term 2 came back as 'n3'",
    );
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 1)], hardState: hs(2, 1, 'n2') })).toBe(
      'the synced commit index 2 came back as 1',
    );
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 1), e(3, 1)] })).toBe(
      'the synced hard state (term 2) did not come back',
    );
  });

  test('an interrupted write may have replaced the promised log from the index it touched on', () => {
    const log = synced();
    // A new leader's entry 2 overwrites the tail: issued, not synced, when the power went.
    log.write({ kind: 'entry', entry: e(2, 2) });
    log.crash();
    expect(log.brokenPromise({ entries: [e(1, 1)], hardState: hs(2, 2, 'n2') })).toBeUndefined();
    expect(log.brokenPromise({ entries: [e(1, 1), e(2, 2)], hardState: hs(2, 2, 'n2') })).toBeUndefined();
    expect(log.brokenPromise({ entries: [], hardState: hs(2, 2, 'n2') })).toBe(
      'the synced entry 1@1 did not come back',
    );
    // After the restart the recovered log is the promise.
    log.reset({ entries: [e(1, 1)], hardState: hs(2, 2, 'n2') });
    expect(log.lastIndex()).toBe(1);
  });

  test('a saved snapshot is promised, and compaction drops the log up to it', () => {
    const log = synced();
    log.compact(snap(2, 1));
    expect([log.firstIndex(), log.lastIndex(), log.termAt(2)]).toEqual([3, 3, 1]);
    log.crash();
    expect(
      log.brokenPromise({ snapshot: snap(1, 1), entries: [e(2, 1), e(3, 1)], hardState: hs(2, 2, 'n2') }),
    ).toBe('the snapshot at 2 was saved, but the restart found only one at 1');
    expect(() => log.compact(snap(9, 1))).toThrow(PromisedLogError);
  });
});
