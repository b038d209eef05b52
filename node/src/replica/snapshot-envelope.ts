// What a Raft snapshot of this node carries: the member directory (addresses of members whose conf-change entries
// were compacted away) and the state machine's own snapshot bytes. Versioned so the format can evolve.
import type { MemberInfo } from './member-directory.js';

const MAGIC = 0x52534e31; // "RSN1"

export class SnapshotEnvelopeError extends Error {
  override readonly name = 'SnapshotEnvelopeError';
}

export interface SnapshotEnvelope {
  readonly members: readonly MemberInfo[];
  readonly machine: Uint8Array;
}

export function encodeSnapshotEnvelope(envelope: SnapshotEnvelope): Uint8Array {
  const members = new TextEncoder().encode(JSON.stringify(envelope.members));
  const out = new Uint8Array(8 + members.byteLength + envelope.machine.byteLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, members.byteLength);
  out.set(members, 8);
  out.set(envelope.machine, 8 + members.byteLength);
  return out;
}

export function decodeSnapshotEnvelope(bytes: Uint8Array): SnapshotEnvelope {
  if (bytes.byteLength < 8) throw new SnapshotEnvelopeError(`snapshot too short (${bytes.byteLength} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0) !== MAGIC)
    throw new SnapshotEnvelopeError('snapshot does not start with the RSN1 magic');
  const length = view.getUint32(4);
  if (8 + length > bytes.byteLength)
    throw new SnapshotEnvelopeError('snapshot member list overruns the data');
  const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  if (!Array.isArray(parsed)) throw new SnapshotEnvelopeError('snapshot member list is not an array');
  const members = parsed.map((m: unknown): MemberInfo => {
    const r = m as Record<string, unknown>;
    if (
      typeof r.id !== 'string' ||
      typeof r.name !== 'string' ||
      typeof r.peerAddress !== 'string' ||
      typeof r.clientAddress !== 'string'
    ) {
      throw new SnapshotEnvelopeError('snapshot member entry is malformed');
    }
    return { id: r.id, name: r.name, peerAddress: r.peerAddress, clientAddress: r.clientAddress };
  });
  return { members, machine: bytes.subarray(8 + length) };
}
