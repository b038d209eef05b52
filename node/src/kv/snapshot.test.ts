import { KvCodecError } from './binary.js';
import { seededRandom } from '../random/prng.js';
import { encodeKvSnapshot, decodeKvSnapshot, MAX_SNAPSHOT_BODY_BYTES } from './snapshot-codec.js';
import { KvStateMachine, kvStateMachineOptions } from './state-machine.js';
import { b, command, del, interval, key, prefix, put } from '../../testing/kv/test-helpers.js';
import type { Command, IngestOp } from './types.js';
import { deflateRawSync } from 'node:zlib';
import { crc32 } from './crc32.js';
import { SlotOwnership } from '../sharding/slot-ownership.js';
import { keySlot } from '../../shared/sharding/slot.js';

const sessions = { ttlMs: 10_000, maxSessions: 50, maxResultsPerSession: 2 };

/** A snapshot of an older `format`: this one's bytes without the newer sections, `dropBytes` just before the CRC. */
function olderFormat(current: Uint8Array, format: number, dropBytes: number): Uint8Array {
  const body = current.slice(0, current.length - 4 - dropBytes);
  body[4] = format;
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body));
  return out;
}

/** A reproducible log mixing every command kind, sessions (with retries) and advancing leader timestamps. */
function log(seed: number, length: number): Command[] {
  const rng = seededRandom(seed);
  const pick = (n: number): number => Math.floor(rng() * n);
  const keyOf = (): string => `k${pick(40)}`;
  const commands: Command[] = [];
  const sequences = new Map<string, number>();
  for (let i = 0; i < length; i++) {
    const t = i * 100;
    const r = rng();
    const op =
      r < 0.5
        ? put(keyOf(), `v${i}`, rng() < 0.3)
        : r < 0.6
          ? del(key(keyOf()), true)
          : r < 0.65
            ? del(rng() < 0.5 ? prefix(`k${pick(4)}`) : interval(keyOf(), keyOf() + '~'))
            : {
                kind: 'txn' as const,
                compare: [
                  {
                    key: b(keyOf()),
                    operator: 'greater' as const,
                    target: { kind: 'version' as const, version: 1 },
                  },
                ],
                success: [
                  put(keyOf(), 's'),
                  {
                    kind: 'range' as const,
                    range: prefix('k1'),
                    options: { limit: 3, keysOnly: false, countOnly: false },
                  },
                ],
                failure: [del(key(keyOf()))],
              };
    if (rng() < 0.4) {
      const client = `client-${pick(8)}`;
      const retry = rng() < 0.25 && sequences.has(client);
      const sequence = retry ? (sequences.get(client) ?? 1) : (sequences.get(client) ?? 0) + 1;
      sequences.set(client, sequence);
      commands.push(command(op, t, { clientId: client, sequence }));
    } else {
      commands.push(command(op, t));
    }
  }
  return commands;
}

function run(
  commands: readonly Command[],
  seed = 1,
  machine = new KvStateMachine(kvStateMachineOptions(sessions, seed)),
  firstIndex = 1,
): KvStateMachine {
  commands.forEach((c, i) => machine.apply(firstIndex + i, c));
  return machine;
}

describe('KV snapshots', () => {
  it('round-trips: a restored machine snapshots to the same bytes and answers reads identically', () => {
    const original = run(log(3, 600));
    const bytes = original.snapshot();
    const restored = KvStateMachine.restore(bytes, kvStateMachineOptions(sessions, 99));
    expect(restored.snapshot()).toEqual(bytes);
    expect(restored.revision).toBe(original.revision);
    expect(restored.appliedIndex).toBe(600);
    expect(restored.clockMs).toBe(original.clockMs);
    expect(restored.sessionCount).toBe(original.sessionCount);
    const everything = { limit: 0, keysOnly: false, countOnly: false };
    expect(restored.range(prefix(''), everything)).toEqual(original.range(prefix(''), everything));
    expect(original.keyCount).toBeGreaterThan(5);
  });

  it('carries on identically after a restore, duplicates included', () => {
    const commands = log(4, 800);
    const straight = run(commands);
    const first = run(commands.slice(0, 500));
    const resumed = KvStateMachine.restore(first.snapshot(), kvStateMachineOptions(sessions, 5));
    const tail = commands.slice(500);
    const expected = run(commands.slice(0, 500));
    const results = tail.map((c, i) => resumed.apply(501 + i, c));
    const reference = tail.map((c, i) => expected.apply(501 + i, c));
    expect(results).toEqual(reference);
    expect(results.some((r) => r.duplicate)).toBe(true);
    expect(resumed.snapshot()).toEqual(straight.snapshot());
  });

  it('is deterministic byte for byte, whatever the skip-list coin flips', () => {
    const commands = log(5, 400);
    expect(run(commands, 1).snapshot()).toEqual(run(commands, 2).snapshot());
  });

  it('differs when the state differs', () => {
    const commands = log(6, 100);
    const a = run(commands);
    const c = run(commands);
    c.apply(101, command(put('k1', 'changed'), 100_000));
    expect(c.snapshot()).not.toEqual(a.snapshot());
  });

  it('round-trips an empty store', () => {
    const empty = new KvStateMachine();
    expect(KvStateMachine.restore(empty.snapshot()).snapshot()).toEqual(empty.snapshot());
  });

  it('detects any corrupted byte and any truncation', () => {
    const bytes = run(log(7, 30)).snapshot();
    for (let i = 0; i < bytes.length; i++) {
      const corrupt = bytes.slice();
      corrupt[i] = (corrupt[i] ?? 0) ^ 0x01;
      expect(() => KvStateMachine.restore(corrupt)).toThrow(KvCodecError);
    }
    for (const length of [0, 3, 10, bytes.length - 1]) {
      expect(() => KvStateMachine.restore(bytes.subarray(0, length))).toThrow(KvCodecError);
    }
    expect(() => KvStateMachine.restore(bytes.subarray(0, bytes.length - 1))).toThrow(/checksum mismatch/);
  });

  it('rejects a well-formed snapshot of an impossible state', () => {
    const base = {
      appliedIndex: 3,
      revision: 3,
      clockMs: 100,
      sessions: [],
      ownership: SlotOwnership.all().toSpec(),
      cursors: [],
      dataFormat: 1,
    };
    const stored = { value: b('v'), createRevision: 1, modRevision: 2, version: 1 };
    const unordered = encodeKvSnapshot({
      ...base,
      entries: [
        [b('b'), stored],
        [b('a'), stored],
      ],
    });
    expect(() => decodeKvSnapshot(unordered)).toThrow(/not in strictly ascending order/);
    const future = encodeKvSnapshot({ ...base, entries: [[b('a'), { ...stored, modRevision: 4 }]] });
    expect(() => decodeKvSnapshot(future)).toThrow(/inconsistent revisions/);
    const lateSession = encodeKvSnapshot({
      ...base,
      entries: [],
      sessions: [{ clientId: 'c', lastSequence: 1, lastSeenMs: 101, results: new Map() }],
    });
    expect(() => decodeKvSnapshot(lateSession)).toThrow(/seen after the snapshot's clock/);
    const unorderedSessions = encodeKvSnapshot({
      ...base,
      entries: [],
      sessions: [
        { clientId: 'late', lastSequence: 1, lastSeenMs: 50, results: new Map() },
        { clientId: 'early', lastSequence: 1, lastSeenMs: 10, results: new Map() },
      ],
    });
    expect(() => KvStateMachine.restore(unorderedSessions)).toThrow(KvCodecError);
    expect(() => KvStateMachine.restore(unorderedSessions)).toThrow(/snapshot: sessions out of order/);
    const ahead = encodeKvSnapshot({ ...base, appliedIndex: 2, entries: [] });
    expect(() => decodeKvSnapshot(ahead)).toThrow(/revision 3 is beyond its applied index 2/);
  });

  it('carries the slots the group serves and the moves under way', () => {
    const machine = new KvStateMachine(
      kvStateMachineOptions(undefined, 1, () => SlotOwnership.initial(0, 2)),
    );
    machine.apply(1, {
      timestampMs: 1,
      op: { kind: 'moveSlots', request: { step: 'freeze', slots: [3], peer: 1, epoch: 2 } },
    });
    machine.apply(2, {
      timestampMs: 2,
      op: { kind: 'moveSlots', request: { step: 'import', slots: [4000], peer: 1, epoch: 3 } },
    });
    const restored = KvStateMachine.restore(machine.snapshot(), kvStateMachineOptions());
    expect(restored.ownership.toSpec()).toEqual(machine.ownership.toSpec());
    expect(restored.ownership.stateOf(3)).toBe('leaving');
    expect(restored.ownership.stateOf(4000)).toBe('importing');
    expect(restored.snapshot()).toEqual(machine.snapshot());
  });

  it('reads a snapshot written before slots could move: the group keeps what it was created with', () => {
    const machine = new KvStateMachine();
    machine.apply(1, { timestampMs: 1, op: { kind: 'put', key: b('k'), value: b('v'), prevKv: false } });
    const v3 = machine.snapshot();
    // Format 1 is format 3 without the ownership section (epoch, run count, one run of 17 bytes) and the copy
    // cursor section (an empty one: its count) before the CRC.
    const v1 = olderFormat(v3, 1, 8 + 4 + 17 + 4);
    const restored = KvStateMachine.restore(
      v1,
      kvStateMachineOptions(undefined, 1, () => SlotOwnership.initial(0, 1)),
    );
    expect(restored.get('k')?.value).toEqual(b('v'));
    expect(restored.ownership.servesEverySlot).toBe(true);
    expect(restored.snapshot()).toEqual(v3);
  });

  it('carries each import’s copy cursor, and forgets it once the import is sealed', () => {
    const machine = new KvStateMachine(
      kvStateMachineOptions(undefined, 1, () => SlotOwnership.initial(0, 2)),
    );
    const slot = keySlot('k'); // in shard 1's half: shard 0 imports it
    expect(slot).toBeGreaterThanOrEqual(2048);
    machine.apply(1, {
      timestampMs: 1,
      op: { kind: 'moveSlots', request: { step: 'import', slots: [slot], peer: 1, epoch: 4 } },
    });
    const page = (start: IngestOp['start'], keys: string[], seal: number[] = []): Command => ({
      timestampMs: 1,
      op: {
        kind: 'ingest',
        from: 1,
        epoch: 4,
        start,
        kvs: keys.map((k) => ({ key: b(k), value: b(k), version: 1 })),
        seal,
        sessions: [],
      },
    });
    machine.apply(2, page({ kind: 'first' }, ['{k}a', '{k}b']));
    const restored = KvStateMachine.restore(machine.snapshot(), kvStateMachineOptions());
    expect(restored.copyCursor(4)).toEqual(b('{k}b'));
    expect(restored.snapshot()).toEqual(machine.snapshot());
    // The restored group goes on from where the copy stood.
    restored.apply(3, page({ kind: 'after', key: b('{k}b') }, ['{k}c']));
    expect(restored.copyCursor(4)).toEqual(b('{k}c'));
    restored.apply(4, page({ kind: 'after', key: b('{k}c') }, [], [slot]));
    expect(KvStateMachine.restore(restored.snapshot()).copyCursor(4)).toBeUndefined();
  });

  it('reads a snapshot written before imports kept a copy cursor: an import under way copies from the start', () => {
    const machine = new KvStateMachine(
      kvStateMachineOptions(undefined, 1, () => SlotOwnership.initial(1, 2)),
    );
    machine.apply(1, {
      timestampMs: 1,
      op: { kind: 'moveSlots', request: { step: 'import', slots: [3], peer: 0, epoch: 2 } },
    });
    const v3 = machine.snapshot();
    const v2 = olderFormat(v3, 2, 4); // format 2: no copy cursor section (here an empty one, its count)
    const restored = KvStateMachine.restore(v2, kvStateMachineOptions());
    expect(restored.ownership.stateOf(3)).toBe('importing');
    expect(restored.copyCursor(2)).toBeUndefined();
    expect(restored.snapshot()).toEqual(v3);
  });

  it('rejects a copy cursor out of order, empty, or of an epoch with nothing importing', () => {
    const ownership = SlotOwnership.initial(1, 2);
    ownership.apply({ step: 'import', slots: [3], peer: 0, epoch: 2 });
    const state = {
      appliedIndex: 1,
      revision: 0,
      clockMs: 1,
      sessions: [],
      entries: [],
      ownership: ownership.toSpec(),
      dataFormat: 1,
    };
    const snapshot = (cursors: { epoch: number; key: Uint8Array }[]): Uint8Array =>
      encodeKvSnapshot({ ...state, cursors });
    expect(KvStateMachine.restore(snapshot([{ epoch: 2, key: b('a') }])).copyCursor(2)).toEqual(b('a'));
    expect(() => KvStateMachine.restore(snapshot([{ epoch: 3, key: b('a') }]))).toThrow(
      /copy cursor for epoch 3, where nothing is importing/,
    );
    expect(() => decodeKvSnapshot(snapshot([{ epoch: 2, key: new Uint8Array() }]))).toThrow(
      /is an empty key/,
    );
    expect(() =>
      decodeKvSnapshot(
        snapshot([
          { epoch: 2, key: b('a') },
          { epoch: 2, key: b('b') },
        ]),
      ),
    ).toThrow(/epoch 2 does not follow epoch 2/);
  });

  it('rejects a snapshot with keys of a slot the group does not own, or an impossible ownership', () => {
    const key = b('k');
    const ownership = SlotOwnership.all();
    ownership.apply({ step: 'freeze', slots: [keySlot(key)], peer: 1, epoch: 2 });
    ownership.apply({ step: 'release', slots: [keySlot(key)], peer: 1, epoch: 2 });
    const state = {
      appliedIndex: 1,
      revision: 1,
      clockMs: 1,
      sessions: [],
      entries: [[key, { value: b('v'), createRevision: 1, modRevision: 1, version: 1 }] as const],
      ownership: ownership.toSpec(),
      cursors: [],
      dataFormat: 1,
    };
    expect(() => KvStateMachine.restore(encodeKvSnapshot(state))).toThrow(
      /of slot \d+, which it does not own/,
    );
    const gap = { ...state, entries: [], ownership: { epoch: 2, runs: ownership.toSpec().runs.slice(1) } };
    expect(() => KvStateMachine.restore(encodeKvSnapshot(gap))).toThrow(/snapshot: slot run/);
  });

  it('rejects bytes that are not a snapshot of this format', () => {
    const bytes = new KvStateMachine().snapshot();
    const otherMagic = bytes.slice();
    otherMagic[0] = 0;
    expect(() => decodeKvSnapshot(otherMagic)).toThrow(/bad magic/);
  });
});

describe('compressed KV snapshots (format 4, data format 2)', () => {
  const setFormat = (format: number): Command => command({ kind: 'setDataFormat', format }, 0);

  /** The state `commands` give after a first entry that set no format: what [setFormat(2), ...commands] give, at 1. */
  function atBaseFormat(commands: readonly Command[]): KvStateMachine {
    const machine = new KvStateMachine(kvStateMachineOptions(sessions, 1));
    machine.applyNoop(1);
    return run(commands, 1, machine, 2);
  }

  /** The bytes with their CRC recomputed after `edit`, so the decoder behind the checksum is what answers. */
  function resealed(bytes: Uint8Array, edit: (body: Uint8Array) => Uint8Array): Uint8Array {
    const body = edit(bytes.slice(0, bytes.length - 4));
    const out = new Uint8Array(body.length + 4);
    out.set(body);
    new DataView(out.buffer).setUint32(body.length, crc32(body));
    return out;
  }

  it('writes format 3 exactly as before data formats while the data format is 1', () => {
    // Written by release 0.1.0 for this state: shard 1 of 2, a key written and one deleted under a session, slot 100
    // importing from shard 0 at epoch 3 with one page in (a copy cursor).
    const golden = [
      '52534b56030000000000000005000000000000000400000000000001f400000002000000036d3930000000056d6f7665',
      '64000000000000000400000000000000040000000000000004000000047b617d79000000013200000000000000020000',
      '00000000000200000000000000010000000100000001630000000000000002000000000000012c000000020000000000',
      '000001010000000000000001000000000000000002080000000000000003000000000000000100000001000000047b61',
      '7d7800000001310000000000000001000000000000000100000000000000010000080000000000000000030000000400',
      '00006300ffffffff00000000000000000064006403000000000000000000000003006507ff00ffffffff000000000000',
      '000008000fff01ffffffff0000000000000000000000010000000000000003000000036d3930c091d5db',
    ].join('');
    const sm = new KvStateMachine(kvStateMachineOptions(sessions, 1, () => SlotOwnership.initial(1, 2)));
    sm.apply(1, command(put('{a}x', '1'), 100, { clientId: 'c', sequence: 1 }));
    sm.apply(2, command(put('{a}y', '2', true), 200));
    sm.apply(3, command(del(key('{a}x'), true), 300, { clientId: 'c', sequence: 2 }));
    sm.apply(
      4,
      command({ kind: 'moveSlots', request: { step: 'import', slots: [100], peer: 0, epoch: 3 } }, 400),
    );
    const page: IngestOp = {
      kind: 'ingest',
      from: 0,
      epoch: 3,
      start: { kind: 'first' },
      kvs: [{ key: b('m90'), value: b('moved'), version: 4 }],
      seal: [],
      sessions: [],
    };
    sm.apply(5, command(page, 500));
    expect(Buffer.from(sm.snapshot()).toString('hex')).toBe(golden);
    // Lowered back to 1 after a time at 2: format 3 again, the same bytes but for the entries it took.
    const lowered = run(
      [setFormat(2), setFormat(1)],
      1,
      new KvStateMachine(kvStateMachineOptions(sessions, 1)),
    );
    expect(lowered.snapshot()[4]).toBe(3);
    const never = new KvStateMachine(kvStateMachineOptions(sessions, 1));
    never.applyNoop(1);
    never.applyNoop(2);
    expect(lowered.snapshot()).toEqual(never.snapshot());
  });

  it('writes format 4 once the data format is 2, and restores it to the same state and bytes', () => {
    const commands = [setFormat(2), ...log(11, 600)];
    const original = run(commands);
    const bytes = original.snapshot();
    expect([...bytes.subarray(0, 6)]).toEqual([0x52, 0x53, 0x4b, 0x56, 4, 2]);
    const restored = KvStateMachine.restore(bytes, kvStateMachineOptions(sessions, 99));
    expect(restored.dataFormat).toBe(2);
    expect(restored.snapshot()).toEqual(bytes);
    expect(restored.appliedIndex).toBe(601);
    expect(restored.revision).toBe(original.revision);
    expect(restored.sessionCount).toBe(original.sessionCount);
    const everything = { limit: 0, keysOnly: false, countOnly: false };
    expect(restored.range(prefix(''), everything)).toEqual(original.range(prefix(''), everything));
    // The same state at data format 1 decodes to the same thing but the format.
    const plain = decodeKvSnapshot(atBaseFormat(log(11, 600)).snapshot());
    const compressed = decodeKvSnapshot(bytes);
    expect({ ...compressed, dataFormat: 1 }).toEqual(plain);
  });

  it('is much smaller than format 3 for compressible values', () => {
    const value = JSON.stringify({
      name: 'a user',
      email: 'someone@example.com',
      roles: ['reader', 'writer'],
    });
    const writes = Array.from({ length: 2000 }, (_, i) =>
      command(put(`user/${i}/profile`, value.repeat(4)), i),
    );
    const plain = run(writes).snapshot();
    const compressed = run([...writes, setFormat(2)]).snapshot();
    expect(plain[4]).toBe(3);
    expect(compressed[4]).toBe(4);
    expect(compressed.length * 10).toBeLessThan(plain.length);
  });

  it('refuses a truncated, corrupt or non-canonical format-4 snapshot with a KvCodecError that says why', () => {
    const bytes = run([setFormat(2), ...log(12, 100)]).snapshot();
    // Truncated or flipped: the checksum says so first.
    for (const length of [5, 6, 9, 20, bytes.length - 1]) {
      expect(() => decodeKvSnapshot(bytes.subarray(0, length))).toThrow(KvCodecError);
    }
    expect(() => decodeKvSnapshot(bytes.subarray(0, bytes.length - 1))).toThrow(/checksum mismatch/);
    // Behind a valid checksum: a cut or damaged deflate stream, bytes after it, an impossible data format.
    const cut = resealed(bytes, (body) => body.subarray(0, body.length - 10));
    expect(() => decodeKvSnapshot(cut)).toThrow(/snapshot body does not inflate \(unexpected end of file\)/);
    const damaged = resealed(bytes, (body) => {
      body[6] = 0xff; // the first deflate block header: a block type that does not exist
      return body;
    });
    expect(() => decodeKvSnapshot(damaged)).toThrow(/snapshot body does not inflate/);
    const trailing = resealed(bytes, (body) => Uint8Array.of(...body, 0));
    expect(() => decodeKvSnapshot(trailing)).toThrow(/1 bytes follow the end of the compressed body/);
    const atFormat = (format: number): Uint8Array =>
      resealed(bytes, (body) => {
        body[5] = format;
        return body;
      });
    expect(() => decodeKvSnapshot(atFormat(1))).toThrow(
      /format 4 at data format 1, which is written as format 3/,
    );
    expect(() => decodeKvSnapshot(atFormat(3))).toThrow(
      /snapshot of data format 3: this build reads data formats 1 to 2/,
    );
    expect(() => decodeKvSnapshot(resealed(bytes, (body) => body.subarray(0, 5)))).toThrow(
      /format 4 has no data format/,
    );
    // A body that inflates to a valid stream of the wrong content is judged like any other body.
    const emptyStream = resealed(bytes, (body) => Uint8Array.of(...body.subarray(0, 6), 0x03, 0x00));
    expect(() => decodeKvSnapshot(emptyStream)).toThrow(/snapshot truncated at byte 0: applied index/);
  });

  it('bounds what a body may inflate to', () => {
    expect(MAX_SNAPSHOT_BODY_BYTES).toBe(1024 * 1024 * 1024);
    const bytes = run([setFormat(2), ...log(13, 200)]).snapshot();
    // The body is the format-3 snapshot of the same state without its magic, format byte and CRC.
    const inflated = atBaseFormat(log(13, 200)).snapshot().length - 5 - 4;
    expect(decodeKvSnapshot(bytes, { maxBodyBytes: inflated }).dataFormat).toBe(2);
    const over = (): unknown => decodeKvSnapshot(bytes, { maxBodyBytes: inflated - 1 });
    expect(over).toThrow(KvCodecError);
    expect(over).toThrow(`snapshot body inflates past the ${inflated - 1}-byte bound`);
    // A body of zeros deflates ~1000:1: the bound stops it long before it is all in memory.
    const bomb = new Uint8Array(deflateRawSync(new Uint8Array(16 * 1024 * 1024), { level: 9 }));
    const hostile = resealed(
      Uint8Array.of(0x52, 0x53, 0x4b, 0x56, 4, 2, ...bomb, 0, 0, 0, 0),
      (body) => body,
    );
    expect(hostile.length).toBeLessThan(32 * 1024);
    expect(() => decodeKvSnapshot(hostile, { maxBodyBytes: 1024 * 1024 })).toThrow(
      /inflates past the 1048576-byte bound/,
    );
  });
});
