import { KvCodecError } from './binary.js';
import { decodeCommand, encodeCommand } from './command-codec.js';
import { b, command, del, interval, key, prefix, put } from '../../testing/kv/test-helpers.js';
import type { Command } from './types.js';

const everyShape: readonly Command[] = [
  command(put('k', 'v'), 0),
  command(put('k', '', true), Number.MAX_SAFE_INTEGER, { clientId: 'client-é', sequence: 7 }),
  command(del(key('k'), true), 5),
  command(del(prefix('')), 5),
  command(del(interval('a', 'b')), 5),
  command(del(interval('a')), 5),
  command({ kind: 'delete', range: { kind: 'key', key: Uint8Array.of(0, 0xff, 0) }, prevKv: false }, 1),
  command({ kind: 'txn', compare: [], success: [], failure: [] }, 2),
  command(
    {
      kind: 'txn',
      compare: [
        { key: b('a'), operator: 'equal', target: { kind: 'value', value: b('x') } },
        { key: b('b'), operator: 'notEqual', target: { kind: 'modRevision', revision: 3 } },
        { key: b('c'), operator: 'less', target: { kind: 'createRevision', revision: 4 } },
        { key: b('d'), operator: 'greater', target: { kind: 'version', version: 5 } },
        { key: b('e'), operator: 'equal', target: { kind: 'exists', exists: false } },
      ],
      success: [
        put('a', 'y', true),
        del(prefix('p'), true),
        {
          kind: 'range',
          range: interval('a', 'z'),
          options: { limit: 10, keysOnly: true, countOnly: false },
        },
      ],
      failure: [{ kind: 'range', range: key('a'), options: { limit: 0, keysOnly: false, countOnly: true } }],
    },
    9,
    { clientId: 'c', sequence: 1 },
  ),
  command({ kind: 'moveSlots', request: { step: 'freeze', slots: [0, 4095, 256], peer: 7, epoch: 3 } }, 4),
  command({ kind: 'moveSlots', request: { step: 'abort', slots: [1], peer: 0xfffffffe, epoch: 2 ** 40 } }, 4),
  command({ kind: 'moveSlots', request: { step: 'repoint', slots: [9, 10], peer: 2, epoch: 5 } }, 4),
  command(
    {
      kind: 'ingest',
      from: 2,
      epoch: 9,
      start: { kind: 'after', key: b('0') },
      kvs: [
        { key: b('a'), value: b('1'), version: 3 },
        { key: b('b'), value: new Uint8Array(0), version: 1 },
      ],
      seal: [12, 13],
      sessions: [
        {
          clientId: 'c',
          lastSequence: 4,
          lastSeenMs: 10,
          results: new Map([
            [3, { kind: 'put', revision: 2 }],
            [4, { kind: 'wrongShard', redirect: { slot: 5, epoch: 2, owner: undefined, moving: true } }],
          ]),
        },
      ],
    },
    5,
  ),
  command(
    { kind: 'ingest', from: 0, epoch: 1, start: { kind: 'first' }, kvs: [], seal: [], sessions: [] },
    6,
  ),
  command(
    {
      kind: 'ingest',
      from: 0,
      epoch: 1,
      start: { kind: 'unknown' },
      kvs: [{ key: b('a'), value: b('1'), version: 1 }],
      seal: [],
      sessions: [],
    },
    6,
  ),
  command({ kind: 'setDataFormat', format: 2 }, 7),
  command({ kind: 'setDataFormat', format: 255 }, 7), // unknown formats are refused where they apply, not here
];

describe('command codec', () => {
  it.each(everyShape.map((c, i) => [i, c] as const))(
    'round-trips shape %i exactly and canonically',
    (_, cmd) => {
      const bytes = encodeCommand(cmd);
      const decoded = decodeCommand(bytes);
      expect(decoded).toStrictEqual(cmd);
      expect(encodeCommand(decoded)).toEqual(bytes);
    },
  );

  it('rejects every truncation of a valid command', () => {
    const last = everyShape[everyShape.length - 1];
    if (last === undefined) throw new Error('test setup');
    const bytes = encodeCommand(last);
    for (let length = 0; length < bytes.length; length++) {
      expect(() => decodeCommand(bytes.subarray(0, length))).toThrow(KvCodecError);
    }
  });

  it('rejects trailing bytes, unknown formats and unknown tags', () => {
    const bytes = encodeCommand(command(put('k', 'v')));
    expect(() => decodeCommand(Uint8Array.of(...bytes, 0))).toThrow(/trailing/);
    expect(() => decodeCommand(Uint8Array.of(2, ...bytes.subarray(1)))).toThrow(/unknown command format 2/);
    const badOp = bytes.slice();
    badOp[10] = 9; // format(1) + timestamp(8) + hasSession(1), then the operation tag
    expect(() => decodeCommand(badOp)).toThrow(/unknown operation kind 9/);
  });

  it('keeps the slot-move step codes of entries already logged, repoint appended as 7', () => {
    const bytes = encodeCommand(
      command({ kind: 'moveSlots', request: { step: 'repoint', slots: [9], peer: 2, epoch: 5 } }, 4),
    );
    // format(1) + timestamp(8) + hasSession(1) + tag(1), then the step code
    expect(bytes[10]).toBe(4);
    expect(bytes[11]).toBe(7);
    const release = encodeCommand(
      command({ kind: 'moveSlots', request: { step: 'release', slots: [9], peer: 2, epoch: 5 } }, 4),
    );
    expect(release[11]).toBe(5);
    const unknown = bytes.slice();
    unknown[11] = 8;
    expect(() => decodeCommand(unknown)).toThrow(/unknown slot move step 8/);
  });

  it('reads an ingest entry logged before pages carried their start: applied as then, start unknown', () => {
    // Written by the encoder of that time: format 1, timestamp 6, no session, tag 5, from 2, epoch 9, key a=1 v3,
    // seal [12], no sessions.
    const logged = Buffer.from(
      '01000000000000000600050000000200000000000000090000000100000001610000000131000000000000000300000001000c00000000',
      'hex',
    );
    const decoded = decodeCommand(logged);
    expect(decoded.op).toMatchObject({
      kind: 'ingest',
      from: 2,
      epoch: 9,
      start: { kind: 'unknown' },
      seal: [12],
    });
    expect(encodeCommand(decoded)).toEqual(new Uint8Array(logged));
  });

  it('rejects an ingest page that starts after an empty key or at an unknown kind of start', () => {
    const start = (code: number, ...rest: number[]): Uint8Array => {
      const bytes = encodeCommand(
        command({
          kind: 'ingest',
          from: 0,
          epoch: 1,
          start: { kind: 'first' },
          kvs: [],
          seal: [],
          sessions: [],
        }),
      );
      const at = 1 + 8 + 1 + 1 + 4 + 8; // format, timestamp, hasSession, tag, from, epoch: then the start
      return Uint8Array.of(...bytes.subarray(0, at), code, ...rest, ...bytes.subarray(at + 1));
    };
    expect(decodeCommand(start(1)).op).toMatchObject({ start: { kind: 'first' } });
    expect(() => decodeCommand(start(2, 0, 0, 0, 0))).toThrow(/starts after an empty key/);
    expect(() => decodeCommand(start(3))).toThrow(/unknown ingest page start 3/);
  });

  it('writes setDataFormat as tag 7 and its format, and never with a session', () => {
    const bytes = encodeCommand(command({ kind: 'setDataFormat', format: 2 }, 7));
    // format 1, timestamp 7, no session, tag 7, format 2: a release before data formats stops at the tag.
    expect(Buffer.from(bytes).toString('hex')).toBe('010000000000000007000702');
    expect(() =>
      encodeCommand(command({ kind: 'setDataFormat', format: 2 }, 7, { clientId: 'c', sequence: 1 })),
    ).toThrow(new KvCodecError('a setDataFormat command carries no session'));
    // The same entry spelled with a session, as no encoder writes it: refused, so each command has one spelling.
    const withSession = Buffer.from('0100000000000000070100000001630000000000000001' + '0702', 'hex');
    expect(() => decodeCommand(withSession)).toThrow(/carries no session/);
    expect(() => decodeCommand(bytes.subarray(0, bytes.length - 1))).toThrow(/data format needs 1 bytes/);
  });

  it('rejects a count the input cannot hold before allocating for it', () => {
    const bytes = encodeCommand(command({ kind: 'txn', compare: [], success: [], failure: [] }));
    const huge = bytes.slice();
    huge.set([0xff, 0xff, 0xff, 0xff], 11); // the compare count
    expect(() => decodeCommand(huge)).toThrow(/compare count 4294967295 cannot fit/);
  });
});
