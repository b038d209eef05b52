import type { Snapshot } from '../raft/types.js';
import { decodeSnapshotFile, encodeSnapshotFile } from './snapshot-codec.js';

const snapshot: Snapshot = {
  metadata: { index: 120, term: 7, confState: { voters: ['a', 'b', 'ç'], learners: ['d'] } },
  data: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff),
};

describe('snapshot file codec', () => {
  it('round-trips metadata, membership and data', () => {
    expect(decodeSnapshotFile(encodeSnapshotFile(snapshot))).toEqual(snapshot);
  });

  it('round-trips an empty snapshot', () => {
    const empty: Snapshot = {
      metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
      data: new Uint8Array(),
    };
    expect(decodeSnapshotFile(encodeSnapshotFile(empty))).toEqual(empty);
  });

  it('detects a flipped bit anywhere after the magic', () => {
    const good = encodeSnapshotFile(snapshot);
    for (let i = 8; i < good.length; i++) {
      const bad = good.slice();
      bad[i] = bad[i]! ^ 0x10;
      expect(() => decodeSnapshotFile(bad)).toThrow(/checksum mismatch/);
    }
  });

  it('detects truncation and extension', () => {
    const good = encodeSnapshotFile(snapshot);
    expect(() => decodeSnapshotFile(good.subarray(0, good.length - 1))).toThrow(/checksum mismatch/);
    const longer = new Uint8Array(good.length + 1);
    longer.set(good);
    expect(() => decodeSnapshotFile(longer)).toThrow(/checksum mismatch/);
    expect(() => decodeSnapshotFile(good.subarray(0, 10))).toThrow(/shorter than the header/);
  });

  it('rejects files of another format', () => {
    const other = encodeSnapshotFile(snapshot);
    other[0] = 0x58;
    expect(() => decodeSnapshotFile(other)).toThrow(/bad magic/);
  });
});
