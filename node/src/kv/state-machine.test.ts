import { KvCodecError } from './binary.js';
import { encodeCommand } from './command-codec.js';
import {
  KvInvariantError,
  KvStateMachine,
  kvStateMachineOptions,
  lowersDataFormat,
} from './state-machine.js';
import { b, command, del, interval, key, prefix, put, text } from '../../testing/kv/test-helpers.js';
import type { CommandResult, Compare, Operation, RangeOptions, TxnOp } from './types.js';

const all: RangeOptions = { limit: 0, keysOnly: false, countOnly: false };

/** A state machine fed like the apply loop feeds it: consecutive indexes. */
class Harness {
  readonly sm = new KvStateMachine();
  index = 0;
  exec(op: Operation, timestampMs = 0): CommandResult {
    return this.sm.apply(++this.index, command(op, timestampMs)).result;
  }
  keys(range = prefix('')): string[] {
    return this.sm.range(range, all).kvs.map((kv) => text(kv.key));
  }
}

const txn = (compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): Operation => ({
  kind: 'txn',
  compare,
  success,
  failure,
});

describe('KvStateMachine: put, get and delete (etcd revision semantics)', () => {
  it('tracks create/mod revision and version per key and one store revision', () => {
    const h = new Harness();
    expect(h.sm.revision).toBe(0);
    expect(h.exec(put('a', '1'))).toEqual({ kind: 'put', revision: 1 });
    h.exec(put('b', '1'));
    h.exec(put('a', '2'));
    expect(h.sm.get('a')).toEqual({
      key: b('a'),
      value: b('2'),
      createRevision: 1,
      modRevision: 3,
      version: 2,
    });
    expect(h.sm.get('b')).toMatchObject({ createRevision: 2, modRevision: 2, version: 1 });
    expect(h.sm.revision).toBe(3);
  });

  it('returns the previous key-value when asked', () => {
    const h = new Harness();
    h.exec(put('a', '1'));
    expect(h.exec(put('a', '2', true))).toEqual({
      kind: 'put',
      revision: 2,
      prevKv: { key: b('a'), value: b('1'), createRevision: 1, modRevision: 1, version: 1 },
    });
    expect(h.exec(put('new', 'x', true))).toEqual({ kind: 'put', revision: 3 });
  });

  it('resets version and create revision after a delete', () => {
    const h = new Harness();
    h.exec(put('a', '1'));
    h.exec(put('a', '2'));
    expect(h.exec(del(key('a'), true))).toEqual({
      kind: 'delete',
      revision: 3,
      deleted: 1,
      prevKvs: [{ key: b('a'), value: b('2'), createRevision: 1, modRevision: 2, version: 2 }],
      slotsServed: 4096,
    });
    expect(h.sm.get('a')).toBeUndefined();
    h.exec(put('a', '3'));
    expect(h.sm.get('a')).toMatchObject({ createRevision: 4, modRevision: 4, version: 1 });
  });

  it('does not bump the revision for a delete that deletes nothing', () => {
    const h = new Harness();
    h.exec(put('a', '1'));
    expect(h.exec(del(key('zzz')))).toEqual({
      kind: 'delete',
      revision: 1,
      deleted: 0,
      prevKvs: [],
      slotsServed: 4096,
    });
    expect(h.sm.revision).toBe(1);
  });

  it('deletes ranges and prefixes', () => {
    const h = new Harness();
    for (const k of ['a', 'b/1', 'b/2', 'bb', 'c']) h.exec(put(k, 'v'));
    expect(h.exec(del(prefix('b/')))).toMatchObject({ deleted: 2, revision: 6 });
    expect(h.keys()).toEqual(['a', 'bb', 'c']);
    expect(h.exec(del(interval('a', 'c')))).toMatchObject({ deleted: 2 });
    expect(h.keys()).toEqual(['c']);
    expect(h.exec(del(interval('')))).toMatchObject({ deleted: 1 });
    expect(h.sm.keyCount).toBe(0);
  });

  it('copies keys and values, so the caller may reuse its buffers', () => {
    const h = new Harness();
    const k = b('key');
    const v = b('val');
    h.exec({ kind: 'put', key: k, value: v, prevKv: false });
    k[0] = 0;
    v[0] = 0;
    expect(text(h.sm.get('key')?.value ?? new Uint8Array())).toBe('val');
  });
});

describe('KvStateMachine: range reads', () => {
  const h = new Harness();
  for (const k of ['a', 'ab', 'abc', 'b', 'c']) h.exec(put(k, `v-${k}`));

  it('reads by prefix, by interval with an open or closed end, and by exact key', () => {
    expect(h.keys(prefix('ab'))).toEqual(['ab', 'abc']);
    expect(h.keys(interval('ab', 'c'))).toEqual(['ab', 'abc', 'b']);
    expect(h.keys(interval('b'))).toEqual(['b', 'c']);
    expect(h.keys(key('abc'))).toEqual(['abc']);
    expect(h.keys(key('zz'))).toEqual([]);
    expect(h.keys(prefix(''))).toEqual(['a', 'ab', 'abc', 'b', 'c']);
  });

  it('applies the limit but counts the whole range', () => {
    const result = h.sm.range(prefix(''), { limit: 2, keysOnly: false, countOnly: false });
    expect(result.kvs.map((kv) => text(kv.key))).toEqual(['a', 'ab']);
    expect(result).toMatchObject({ more: true, count: 5, revision: 5 });
    expect(h.sm.range(prefix(''), { limit: 5, keysOnly: false, countOnly: false }).more).toBe(false);
  });

  it('returns keys only, or only the count', () => {
    const keysOnly = h.sm.range(prefix('a'), { limit: 0, keysOnly: true, countOnly: false });
    expect(keysOnly.kvs.every((kv) => kv.value.length === 0 && kv.version === 1)).toBe(true);
    expect(h.sm.range(prefix('a'), { limit: 0, keysOnly: false, countOnly: true })).toEqual({
      kind: 'range',
      revision: 5,
      kvs: [],
      more: false,
      count: 3,
    });
  });

  it('orders binary keys bytewise, including 0x00 and 0xff, and scans a 0xff prefix to the end', () => {
    const bin = new Harness();
    const keys = [[0xff], [0xff, 0xff], [0xff, 0x00], [0x00], [0x7f], [0x80]].map((k) => Uint8Array.from(k));
    for (const k of keys) bin.exec({ kind: 'put', key: k, value: new Uint8Array(0), prevKv: false });
    const order = bin.sm.range(prefix(''), all).kvs.map((kv) => [...kv.key]);
    expect(order).toEqual([[0x00], [0x7f], [0x80], [0xff], [0xff, 0x00], [0xff, 0xff]]);
    const ff = bin.sm
      .range({ kind: 'prefix', prefix: Uint8Array.of(0xff, 0xff) }, all)
      .kvs.map((kv) => [...kv.key]);
    expect(ff).toEqual([[0xff, 0xff]]);
  });
});

describe('KvStateMachine: transactions', () => {
  const cmp = (k: string, operator: Compare['operator'], target: Compare['target']): Compare => ({
    key: b(k),
    operator,
    target,
  });

  it('runs the success branch when every compare holds, the failure branch otherwise', () => {
    const h = new Harness();
    h.exec(put('a', '1'));
    const casOp = (expected: string) =>
      txn(
        [cmp('a', 'equal', { kind: 'value', value: b(expected) })],
        [put('a', 'new')],
        [put('failed', 'yes')],
      );
    expect(h.exec(casOp('wrong'))).toMatchObject({ succeeded: false, revision: 2 });
    expect(h.sm.get('a')?.value).toEqual(b('1'));
    expect(h.sm.get('failed')?.value).toEqual(b('yes'));
    expect(h.exec(casOp('1'))).toMatchObject({ succeeded: true, revision: 3 });
    expect(h.sm.get('a')?.value).toEqual(b('new'));
  });

  it('evaluates every target with every operator against the stored key', () => {
    const h = new Harness();
    h.exec(put('x', 'other'));
    h.exec(put('k', 'm'));
    h.exec(put('k', 'm')); // k: create 2, mod 3, version 2
    const holds = (c: Compare): boolean => {
      const r = h.exec(txn([c], []));
      return r.kind === 'txn' && r.succeeded;
    };
    expect(holds(cmp('k', 'equal', { kind: 'value', value: b('m') }))).toBe(true);
    expect(holds(cmp('k', 'less', { kind: 'value', value: b('n') }))).toBe(true);
    expect(holds(cmp('k', 'greater', { kind: 'value', value: b('l') }))).toBe(true);
    expect(holds(cmp('k', 'notEqual', { kind: 'value', value: b('m') }))).toBe(false);
    expect(holds(cmp('k', 'equal', { kind: 'createRevision', revision: 2 }))).toBe(true);
    expect(holds(cmp('k', 'equal', { kind: 'modRevision', revision: 3 }))).toBe(true);
    expect(holds(cmp('k', 'less', { kind: 'modRevision', revision: 3 }))).toBe(false);
    expect(holds(cmp('k', 'greater', { kind: 'version', version: 1 }))).toBe(true);
    expect(holds(cmp('k', 'equal', { kind: 'exists', exists: true }))).toBe(true);
    expect(holds(cmp('k', 'notEqual', { kind: 'exists', exists: true }))).toBe(false);
  });

  it('treats a missing key as revision 0, version 0, not existing, and fails any value compare', () => {
    const h = new Harness();
    const holds = (c: Compare): boolean => {
      const r = h.exec(txn([c], []));
      return r.kind === 'txn' && r.succeeded;
    };
    expect(holds(cmp('none', 'equal', { kind: 'createRevision', revision: 0 }))).toBe(true);
    expect(holds(cmp('none', 'equal', { kind: 'version', version: 0 }))).toBe(true);
    expect(holds(cmp('none', 'equal', { kind: 'exists', exists: false }))).toBe(true);
    expect(holds(cmp('none', 'equal', { kind: 'value', value: new Uint8Array(0) }))).toBe(false);
    expect(holds(cmp('none', 'notEqual', { kind: 'value', value: b('x') }))).toBe(false);
  });

  it('applies all writes at one new revision; later ops see earlier ones', () => {
    const h = new Harness();
    h.exec(put('gone', 'x'));
    const result = h.exec(
      txn(
        [],
        [
          put('a', '1'),
          put('a', '2'),
          del(key('gone')),
          { kind: 'range', range: prefix(''), options: { limit: 10, keysOnly: false, countOnly: false } },
        ],
      ),
    );
    expect(result.kind === 'txn' && result.revision).toBe(2);
    expect(h.sm.get('a')).toMatchObject({ createRevision: 2, modRevision: 2, version: 2 });
    const range = result.kind === 'txn' ? result.responses[3] : undefined;
    expect(range?.kind === 'range' && range.kvs.map((kv) => text(kv.key))).toEqual(['a']);
    expect(result.kind === 'txn' && result.responses.every((r) => r.revision === 2)).toBe(true);
  });

  it('leaves the revision alone when the chosen branch writes nothing', () => {
    const h = new Harness();
    h.exec(put('a', '1'));
    const r = h.exec(
      txn([], [del(key('missing')), { kind: 'range', range: key('a'), options: { ...all, limit: 1 } }]),
    );
    expect(r).toMatchObject({ kind: 'txn', revision: 1, succeeded: true });
    expect(h.sm.revision).toBe(1);
  });
});

describe('KvStateMachine: the apply loop', () => {
  it('refuses to apply an index twice or out of order', () => {
    const sm = new KvStateMachine();
    sm.apply(5, command(put('a', '1')));
    expect(() => sm.apply(5, command(put('a', '1')))).toThrow(KvInvariantError);
    expect(() => sm.applyNoop(4)).toThrow(/index 5 is already applied/);
    expect(sm.revision).toBe(1);
  });

  it('applies encoded entries; an empty entry is a no-op that only moves the applied index', () => {
    const sm = new KvStateMachine();
    expect(sm.applyEntry(1, new Uint8Array(0))).toBeUndefined();
    expect(sm.applyEntry(2, encodeCommand(command(put('a', '1'))))?.result).toEqual({
      kind: 'put',
      revision: 1,
    });
    expect(sm.appliedIndex).toBe(2);
    expect(() => sm.applyEntry(3, Uint8Array.of(1, 2, 3))).toThrow(KvCodecError);
  });
});

describe('KvStateMachine: idempotent retries', () => {
  const session = { ttlMs: 1000, maxSessions: 2, maxResultsPerSession: 1 };

  it('answers a retry with the first result without applying it again', () => {
    const sm = new KvStateMachine(kvStateMachineOptions(session));
    const first = sm.apply(1, command(put('counter', '1', true), 10, { clientId: 'c1', sequence: 1 }));
    sm.apply(2, command(put('counter', '2'), 11)); // someone else writes in between
    const retry = sm.apply(3, command(put('counter', '1', true), 12, { clientId: 'c1', sequence: 1 }));
    expect(retry).toEqual({ result: first.result, duplicate: true });
    expect(sm.get('counter')).toMatchObject({ value: b('2'), version: 2 });
    expect(sm.revision).toBe(2);
    expect(sm.appliedIndex).toBe(3);
  });

  it('expires a session by leader timestamps, identically on every replica', () => {
    const sm = new KvStateMachine(kvStateMachineOptions(session));
    sm.apply(1, command(put('a', '1'), 0, { clientId: 'c1', sequence: 1 }));
    sm.apply(2, command(put('b', '1'), 999));
    expect(sm.sessionCount).toBe(1);
    sm.apply(3, command(put('b', '2'), 1000));
    expect(sm.sessionCount).toBe(0);
    const late = sm.apply(4, command(put('a', '2'), 1001, { clientId: 'c1', sequence: 2 }));
    expect(late.result).toMatchObject({ kind: 'sessionError', code: 'sessionUnknown' });
    expect(sm.get('a')?.value).toEqual(b('1'));
  });

  it('keeps time monotonic when a new leader stamps an earlier time', () => {
    const sm = new KvStateMachine(kvStateMachineOptions(session));
    sm.apply(1, command(put('a', '1'), 5000, { clientId: 'c1', sequence: 1 }));
    sm.apply(2, command(put('b', '1'), 10)); // new leader with a clock behind
    expect(sm.clockMs).toBe(5000);
    expect(sm.apply(3, command(put('a', '1'), 20, { clientId: 'c1', sequence: 1 })).duplicate).toBe(true);
  });

  it('bounds the number of sessions, evicting the least recently used', () => {
    const sm = new KvStateMachine(kvStateMachineOptions(session));
    sm.apply(1, command(put('a', '1'), 1, { clientId: 'c1', sequence: 1 }));
    sm.apply(2, command(put('a', '2'), 2, { clientId: 'c2', sequence: 1 }));
    sm.apply(3, command(put('a', '3'), 3, { clientId: 'c3', sequence: 1 }));
    expect(sm.sessionCount).toBe(2);
    const evicted = sm.apply(4, command(put('a', '4'), 4, { clientId: 'c1', sequence: 2 }));
    expect(evicted.result).toMatchObject({ code: 'sessionUnknown' });
  });
});

describe('KvStateMachine: the data format', () => {
  const setFormat = (format: number): Operation => ({ kind: 'setDataFormat', format });

  it('starts at the base format and applies a format it knows, reporting the one before and the entry', () => {
    const h = new Harness();
    expect(h.sm.dataFormat).toBe(1);
    h.exec(put('a', '1'), 10);
    expect(h.exec(setFormat(2), 20)).toEqual({
      kind: 'dataFormat',
      ok: true,
      previous: 1,
      format: 2,
      index: 2,
      reason: '',
    });
    expect(h.sm.dataFormat).toBe(2);
    // Not a write: the revision stays; the leader's clock still moves time on.
    expect(h.sm.revision).toBe(1);
    expect(h.sm.clockMs).toBe(20);
    // Setting the format in effect is harmless.
    expect(h.exec(setFormat(2))).toMatchObject({ ok: true, previous: 2, format: 2, index: 3 });
    expect(h.exec(setFormat(1))).toMatchObject({ ok: true, previous: 2, format: 1, index: 4 });
    expect(h.sm.dataFormat).toBe(1);
  });

  it('refuses a format outside the ones this build knows, changing nothing', () => {
    const h = new Harness();
    h.exec(setFormat(2));
    for (const format of [0, 3, 255]) {
      const result = h.exec(setFormat(format));
      expect(result).toEqual({
        kind: 'dataFormat',
        ok: false,
        previous: 2,
        format: 2,
        index: h.index,
        reason: `data format ${format} is outside 1..2`,
      });
    }
    expect(h.sm.dataFormat).toBe(2);
    // Only the applied index moved: the same state as no-ops in their place.
    const replay = new KvStateMachine();
    replay.apply(1, command(setFormat(2)));
    replay.applyNoop(2);
    replay.applyNoop(3);
    replay.applyNoop(4);
    expect(h.sm.snapshot()).toEqual(replay.snapshot());
  });

  it('never records a data format result in a session, even given one', () => {
    const sm = new KvStateMachine();
    const outcome = sm.apply(1, {
      timestampMs: 1,
      session: { clientId: 'c', sequence: 1 },
      op: setFormat(2),
    });
    expect(outcome).toMatchObject({ result: { kind: 'dataFormat', ok: true }, duplicate: false });
    expect(sm.sessionCount).toBe(0);
    expect(() => sm.snapshot()).not.toThrow();
  });

  it('applies an encoded entry, and says when the format went down (a snapshot is due)', () => {
    const sm = new KvStateMachine();
    const raise = sm.applyEntry(1, encodeCommand(command(setFormat(2))))!;
    expect(lowersDataFormat(raise)).toBe(false);
    const refused = sm.applyEntry(2, encodeCommand(command(setFormat(7))))!;
    expect(lowersDataFormat(refused)).toBe(false);
    const lower = sm.applyEntry(3, encodeCommand(command(setFormat(1))))!;
    expect(lowersDataFormat(lower)).toBe(true);
    expect(lowersDataFormat(sm.apply(4, command(put('a', '1'))))).toBe(false);
  });

  it('survives a snapshot and a restore', () => {
    const h = new Harness();
    h.exec(put('a', '1'));
    h.exec(setFormat(2));
    const restored = KvStateMachine.restore(h.sm.snapshot());
    expect(restored.dataFormat).toBe(2);
    expect(restored.get('a')?.value).toEqual(b('1'));
    expect(restored.snapshot()).toEqual(h.sm.snapshot());
    restored.apply(3, command(setFormat(1)));
    expect(KvStateMachine.restore(restored.snapshot()).dataFormat).toBe(1);
  });
});
