import type { Entry } from '../raft/types.js';
import { scanFrames } from './wal-frame.js';
import { decodeRecord, encodeRecords, largestPayloadBytes, type WalRecord } from './wal-record.js';

const entry = (index: number, term: number, data: number[], type: Entry['type'] = 'normal'): Entry => ({
  index,
  term,
  type,
  data: Uint8Array.from(data),
});

function roundTrip(records: WalRecord[]): WalRecord[] {
  const scan = scanFrames(encodeRecords(records), 1 << 20);
  expect(scan.damage).toBeUndefined();
  return scan.frames.map((f) => decodeRecord(f.type, f.payload));
}

describe('wal records', () => {
  it('round-trips entries, hard state and snapshot markers in order', () => {
    const records: WalRecord[] = [
      { kind: 'snapshot', index: 41, term: 3 },
      { kind: 'entry', entry: entry(42, 3, [1, 2, 3]) },
      { kind: 'entry', entry: entry(43, 4, [], 'confChange') },
      { kind: 'hardState', hardState: { term: 4, vote: 'node-ü-7', commit: 42 } },
    ];
    expect(roundTrip(records)).toEqual(records);
  });

  it('round-trips the largest safe integers', () => {
    const max = Number.MAX_SAFE_INTEGER;
    const records: WalRecord[] = [
      { kind: 'entry', entry: entry(max, max, [0xff]) },
      { kind: 'hardState', hardState: { term: max, vote: '', commit: max } },
    ];
    expect(roundTrip(records)).toEqual(records);
  });

  it('refuses values that are not non-negative safe integers', () => {
    expect(() => encodeRecords([{ kind: 'entry', entry: entry(-1, 1, []) }])).toThrow(RangeError);
    expect(() => encodeRecords([{ kind: 'entry', entry: entry(1.5, 1, []) }])).toThrow(RangeError);
    expect(() => encodeRecords([{ kind: 'snapshot', index: 2 ** 53, term: 1 }])).toThrow(RangeError);
  });

  it('reports malformed payloads as decode errors', () => {
    expect(() => decodeRecord(1, new Uint8Array(5))).toThrow(/entry term needs 8 bytes/);
    expect(() => decodeRecord(9, new Uint8Array(0))).toThrow(/unknown WAL record type 9/);
    const badType = new Uint8Array(17);
    badType[16] = 7;
    expect(() => decodeRecord(1, badType)).toThrow(/unknown entry type code 7/);
    const tooBig = new Uint8Array(16);
    tooBig[7] = 0xff;
    expect(() => decodeRecord(3, tooBig)).toThrow(/does not fit a safe integer/);
    expect(() => decodeRecord(3, new Uint8Array(17))).toThrow(/trailing bytes/);
  });

  it('measures the largest payload for the per-record bound', () => {
    expect(largestPayloadBytes([{ kind: 'entry', entry: entry(1, 1, [1, 2, 3]) }])).toBe(20);
    expect(largestPayloadBytes([{ kind: 'hardState', hardState: { term: 1, vote: 'ab', commit: 0 } }])).toBe(
      18,
    );
  });
});
