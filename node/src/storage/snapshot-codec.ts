// The snapshot file format. Little-endian:
//   0  8 bytes magic "RSNAPv01"
//   8  u32 CRC-32C of every byte from offset 12 to the end of the file
//   12 u32 metadata length M
//   16 metadata: u64 index, u64 term, u32 voter count, per voter (u32 length, UTF-8 id), then the same for learners
//   16 + M: u64 data length D, then D bytes of state-machine data (the file ends exactly there)
// The checksum covers the lengths too, so a truncated or extended file is caught as well as flipped bits.

import type { ConfState, NodeId, Snapshot, SnapshotMetadata } from '../raft/types.js';
import { ByteReader, DecodeError, putU64 } from './binary.js';
import { crc32c } from './crc32c.js';

const MAGIC = new TextEncoder().encode('RSNAPv01');
const HEADER_BYTES = 16;

const utf8 = new TextEncoder();

function encodeIds(ids: readonly NodeId[]): Uint8Array[] {
  return ids.map((id) => utf8.encode(id));
}

export function encodeSnapshotFile(snapshot: Snapshot): Uint8Array {
  const { metadata, data } = snapshot;
  const voters = encodeIds(metadata.confState.voters);
  const learners = encodeIds(metadata.confState.learners);
  const idsBytes = (ids: Uint8Array[]): number => 4 + ids.reduce((n, id) => n + 4 + id.length, 0);
  const metaBytes = 16 + idsBytes(voters) + idsBytes(learners);
  const buf = new Uint8Array(HEADER_BYTES + metaBytes + 8 + data.length);
  const view = new DataView(buf.buffer);
  buf.set(MAGIC, 0);
  view.setUint32(12, metaBytes, true);
  let p = HEADER_BYTES;
  putU64(view, p, metadata.index, 'snapshot index');
  putU64(view, p + 8, metadata.term, 'snapshot term');
  p += 16;
  for (const ids of [voters, learners]) {
    view.setUint32(p, ids.length, true);
    p += 4;
    for (const id of ids) {
      view.setUint32(p, id.length, true);
      buf.set(id, p + 4);
      p += 4 + id.length;
    }
  }
  putU64(view, p, data.length, 'snapshot data length');
  buf.set(data, p + 8);
  view.setUint32(8, crc32c(buf, 12), true);
  return buf;
}

function decodeIds(r: ByteReader, what: string): NodeId[] {
  const count = r.u32(`${what} count`);
  // Each id takes at least 4 bytes, so a count beyond that is malformed (and would otherwise loop for long).
  if (count * 4 > r.remaining) throw new DecodeError(`${what} count ${count} exceeds the metadata size`);
  const ids: NodeId[] = [];
  for (let i = 0; i < count; i++) ids.push(r.utf8(r.u32(`${what} id length`), `${what} id`));
  return ids;
}

/** Decodes and verifies a snapshot file. Throws DecodeError with the reason when it is not intact. */
export function decodeSnapshotFile(buf: Uint8Array): Snapshot {
  if (buf.length < HEADER_BYTES)
    throw new DecodeError(`file of ${buf.length} bytes is shorter than the header`);
  for (let i = 0; i < MAGIC.length; i++) {
    if (buf[i] !== MAGIC[i]) throw new DecodeError('bad magic: not a snapshot file of this format');
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(8, true) !== crc32c(buf, 12)) throw new DecodeError('checksum mismatch');
  const metaBytes = view.getUint32(12, true);
  const meta = new ByteReader(buf, HEADER_BYTES, Math.min(buf.length, HEADER_BYTES + metaBytes));
  const index = meta.u64('snapshot index');
  const term = meta.u64('snapshot term');
  const confState: ConfState = { voters: decodeIds(meta, 'voter'), learners: decodeIds(meta, 'learner') };
  meta.expectEnd('snapshot metadata');
  const body = new ByteReader(buf, HEADER_BYTES + metaBytes);
  const data = body.bytesCopy(body.u64('snapshot data length'), 'snapshot data');
  body.expectEnd('snapshot file');
  const metadata: SnapshotMetadata = { index, term, confState };
  return { metadata, data };
}
