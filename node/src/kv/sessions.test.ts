import { SessionError, SessionTable, type SessionConfig } from './sessions.js';
import type { CommandResult } from './types.js';

const config: SessionConfig = { ttlMs: 100, maxSessions: 3, maxResultsPerSession: 2 };
const result = (revision: number): CommandResult => ({ kind: 'put', revision });

describe('SessionTable', () => {
  it('applies a first request (sequence 1) and answers its retry from the cache', () => {
    const table = new SessionTable(config);
    expect(table.check({ clientId: 'a', sequence: 1 })).toEqual({ kind: 'apply' });
    table.record({ clientId: 'a', sequence: 1 }, result(10), 0);
    expect(table.check({ clientId: 'a', sequence: 1 })).toEqual({ kind: 'duplicate', result: result(10) });
    expect(table.check({ clientId: 'a', sequence: 2 })).toEqual({ kind: 'apply' });
  });

  it('refuses an unknown client that does not start at sequence 1', () => {
    const check = new SessionTable(config).check({ clientId: 'ghost', sequence: 5 });
    expect(check.kind).toBe('refused');
    expect(check.kind === 'refused' && check.result.code).toBe('sessionUnknown');
  });

  it('keeps only the newest results and refuses a retry of an older one', () => {
    const table = new SessionTable(config);
    for (let seq = 1; seq <= 3; seq++) table.record({ clientId: 'a', sequence: seq }, result(seq), seq);
    expect(table.check({ clientId: 'a', sequence: 3 })).toEqual({ kind: 'duplicate', result: result(3) });
    expect(table.check({ clientId: 'a', sequence: 2 })).toEqual({ kind: 'duplicate', result: result(2) });
    const old = table.check({ clientId: 'a', sequence: 1 });
    expect(old.kind === 'refused' && old.result.code).toBe('resultEvicted');
  });

  it('expires sessions idle for ttlMs, oldest first, and only those', () => {
    const table = new SessionTable(config);
    table.record({ clientId: 'a', sequence: 1 }, result(1), 0);
    table.record({ clientId: 'b', sequence: 1 }, result(2), 50);
    expect(table.expire(99)).toBe(0);
    expect(table.expire(100)).toBe(1);
    expect([...table.sessions()].map((s) => s.clientId)).toEqual(['b']);
  });

  it('evicts the least recently used session beyond maxSessions', () => {
    const table = new SessionTable(config);
    table.record({ clientId: 'a', sequence: 1 }, result(1), 1);
    table.record({ clientId: 'b', sequence: 1 }, result(2), 2);
    table.record({ clientId: 'c', sequence: 1 }, result(3), 3);
    table.record({ clientId: 'a', sequence: 2 }, result(4), 4); // a becomes most recent
    table.record({ clientId: 'd', sequence: 1 }, result(5), 5);
    expect([...table.sessions()].map((s) => s.clientId)).toEqual(['c', 'a', 'd']);
  });

  it('refuses to record a stale sequence or a backwards clock (apply-loop bugs)', () => {
    const table = new SessionTable(config);
    table.record({ clientId: 'a', sequence: 2 }, result(1), 10);
    expect(() => table.record({ clientId: 'a', sequence: 2 }, result(1), 10)).toThrow(SessionError);
    expect(() => table.record({ clientId: 'a', sequence: 3 }, result(1), 9)).toThrow(/backwards/);
  });

  it('restores exactly what sessions() listed, and rejects an out-of-order list', () => {
    const table = new SessionTable(config);
    table.record({ clientId: 'a', sequence: 1 }, result(1), 1);
    table.record({ clientId: 'b', sequence: 4 }, result(2), 2);
    const listed = [...table.sessions()];
    expect([...SessionTable.restore(config, listed).sessions()]).toEqual(listed);
    expect(() => SessionTable.restore(config, [...listed].reverse())).toThrow(/out of order/);
    expect(() => SessionTable.restore(config, [listed[0]!, listed[0]!])).toThrow(/duplicate session/);
  });

  it('rejects a config without positive integer bounds', () => {
    expect(() => new SessionTable({ ...config, maxSessions: 0 })).toThrow(
      /maxSessions must be a positive integer/,
    );
  });

  it("takes in another group's sessions: the later sequence, the newest results of both, within the bounds", () => {
    const table = new SessionTable(config);
    table.record({ clientId: 'a', sequence: 1 }, result(1), 10);
    table.merge(
      {
        clientId: 'a',
        lastSequence: 3,
        lastSeenMs: 500,
        results: new Map([
          [2, result(2)],
          [3, result(3)],
        ]),
      },
      20,
    );
    expect(table.check({ clientId: 'a', sequence: 3 })).toEqual({ kind: 'duplicate', result: result(3) });
    expect(table.check({ clientId: 'a', sequence: 2 })).toEqual({ kind: 'duplicate', result: result(2) });
    expect(table.check({ clientId: 'a', sequence: 1 }).kind).toBe('refused'); // trimmed to 2 results, never re-applied
    expect(table.check({ clientId: 'a', sequence: 4 })).toEqual({ kind: 'apply' });
    // A client this group never saw: its retry is answered, its next request applies.
    table.merge({ clientId: 'b', lastSequence: 7, lastSeenMs: 1, results: new Map([[7, result(7)]]) }, 20);
    expect(table.check({ clientId: 'b', sequence: 7 })).toEqual({ kind: 'duplicate', result: result(7) });
    expect(table.check({ clientId: 'b', sequence: 8 })).toEqual({ kind: 'apply' });
    // Merged sessions count as used now, on this group's clock, and the table stays bounded.
    expect([...table.sessions()].map((x) => [x.clientId, x.lastSeenMs])).toEqual([
      ['a', 20],
      ['b', 20],
    ]);
    for (const id of ['c', 'd'])
      table.merge({ clientId: id, lastSequence: 1, lastSeenMs: 0, results: new Map() }, 30);
    expect(table.size).toBe(3);
    expect(() =>
      table.merge({ clientId: 'c', lastSequence: 1, lastSeenMs: 0, results: new Map() }, 25),
    ).toThrow(SessionError);
  });
});
