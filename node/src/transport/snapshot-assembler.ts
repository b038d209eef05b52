// Reassembles the data of one SendSnapshot stream. The header announces the size and SHA-256; the buffer is
// allocated once for that size (refused above maxBytes, so a peer cannot make us allocate without bound), every
// chunk is bounds-checked as it arrives, and finish() refuses a short stream or a wrong digest. Each refusal is a
// PeerRejectedError carrying the gRPC status the sender receives.

import { createHash, type Hash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { PeerRejectedError } from './errors.js';

const SHA256_BYTES = 32;

export class SnapshotAssembler {
  private readonly data: Uint8Array;
  private readonly hash: Hash = createHash('sha256');
  private received = 0;
  chunks = 0;

  constructor(
    private readonly sizeBytes: number,
    private readonly sha256: Uint8Array,
    maxBytes: number,
  ) {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
      throw new PeerRejectedError(status.INVALID_ARGUMENT, `snapshot size ${sizeBytes} is not a byte count`);
    }
    if (sizeBytes > maxBytes) {
      throw new PeerRejectedError(
        status.RESOURCE_EXHAUSTED,
        `snapshot of ${sizeBytes} bytes exceeds this member's limit of ${maxBytes} bytes`,
      );
    }
    if (sha256.length !== SHA256_BYTES) {
      throw new PeerRejectedError(
        status.INVALID_ARGUMENT,
        `snapshot sha256 has ${sha256.length} bytes, not 32`,
      );
    }
    this.data = new Uint8Array(sizeBytes);
  }

  get receivedBytes(): number {
    return this.received;
  }

  append(chunk: Uint8Array): void {
    if (this.received + chunk.length > this.sizeBytes) {
      throw new PeerRejectedError(
        status.INVALID_ARGUMENT,
        `snapshot stream carries more than the announced ${this.sizeBytes} bytes ` +
          `(${this.received} received, chunk of ${chunk.length})`,
      );
    }
    this.data.set(chunk, this.received);
    this.hash.update(chunk);
    this.received += chunk.length;
    this.chunks += 1;
  }

  /** The complete, verified data. */
  finish(): Uint8Array {
    if (this.received !== this.sizeBytes) {
      throw new PeerRejectedError(
        status.INVALID_ARGUMENT,
        `snapshot stream truncated: ${this.received} of ${this.sizeBytes} announced bytes received`,
      );
    }
    const digest = this.hash.digest();
    if (!digest.equals(this.sha256)) {
      throw new PeerRejectedError(
        status.DATA_LOSS,
        `snapshot data corrupt: sha256 ${digest.toString('hex')} != announced ${Buffer.from(this.sha256).toString('hex')}`,
      );
    }
    return this.data;
  }
}
