import { createHash, randomBytes } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { PeerRejectedError } from './errors.js';
import { SnapshotAssembler } from './snapshot-assembler.js';

const sha = (data: Uint8Array): Uint8Array => createHash('sha256').update(data).digest();

function rejection(fn: () => unknown): PeerRejectedError {
  try {
    fn();
  } catch (error) {
    if (error instanceof PeerRejectedError) return error;
    throw error;
  }
  throw new Error('expected a PeerRejectedError');
}

describe('SnapshotAssembler', () => {
  const data = randomBytes(10_000);

  it('reassembles chunks in order and verifies size and digest', () => {
    const assembler = new SnapshotAssembler(data.length, sha(data), 1 << 20);
    for (let offset = 0; offset < data.length; offset += 3000)
      assembler.append(data.subarray(offset, offset + 3000));
    expect(assembler.chunks).toBe(4);
    expect(Buffer.from(assembler.finish()).equals(data)).toBe(true);
  });

  it('accepts an empty snapshot', () => {
    const empty = new Uint8Array(0);
    expect(new SnapshotAssembler(0, sha(empty), 10).finish()).toHaveLength(0);
  });

  it('refuses an announced size over the limit before allocating it', () => {
    const error = rejection(() => new SnapshotAssembler(2 ** 40, sha(data), 1 << 20));
    expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error.details).toContain('exceeds');
  });

  it('refuses a digest that is not 32 bytes', () => {
    expect(rejection(() => new SnapshotAssembler(10, new Uint8Array(5), 100)).code).toBe(
      status.INVALID_ARGUMENT,
    );
  });

  it('refuses more bytes than announced', () => {
    const assembler = new SnapshotAssembler(100, sha(data.subarray(0, 100)), 1 << 20);
    assembler.append(data.subarray(0, 60));
    const error = rejection(() => assembler.append(data.subarray(60, 120)));
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('more than the announced 100 bytes');
  });

  it('refuses a truncated stream', () => {
    const assembler = new SnapshotAssembler(data.length, sha(data), 1 << 20);
    assembler.append(data.subarray(0, 5000));
    const error = rejection(() => assembler.finish());
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.details).toContain('truncated: 5000 of 10000');
  });

  it('refuses corrupted data with DATA_LOSS', () => {
    const corrupted = Buffer.from(data);
    corrupted[1234] = (corrupted[1234] ?? 0) ^ 0x01;
    const assembler = new SnapshotAssembler(data.length, sha(data), 1 << 20);
    assembler.append(corrupted);
    const error = rejection(() => assembler.finish());
    expect(error.code).toBe(status.DATA_LOSS);
    expect(error.details).toContain('corrupt');
  });
});
