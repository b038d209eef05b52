// WAL framing: how records sit in a segment file, and how a segment is scanned back, telling a torn tail (a write
// the crash interrupted: never acknowledged, safe to drop) from corruption (damage to data that was once fsynced:
// never dropped silently).
//
// Frame layout (little-endian), 16-byte header then payload:
//   0  u32 payload length
//   4  u8  record type (1..255; 0 is never valid, so a zero-filled region never parses)
//   5  3 bytes reserved, zero
//   8  u32 CRC-32C of header bytes 0..7
//   12 u32 CRC-32C of the payload
//   16 payload
// The header has its own checksum so a flipped bit in a length is caught before the length is trusted: the scanner
// can then look past a bad frame for a later valid one, which is what separates corruption from a torn tail.

import { crc32c } from './crc32c.js';

export const FRAME_HEADER_BYTES = 16;

export interface Frame {
  readonly type: number;
  /** Byte offset of the frame header within the segment. */
  readonly offset: number;
  /** The payload, a view into the scanned buffer. */
  readonly payload: Uint8Array;
}

/** Damage found while scanning: `torn` may be truncated away, `corrupt` must stop recovery. */
export interface FrameDamage {
  readonly kind: 'torn' | 'corrupt';
  readonly offset: number;
  readonly reason: string;
}

export interface ScanResult {
  readonly frames: readonly Frame[];
  /** Offset just past the last valid frame: where the valid data ends and where appends continue. */
  readonly validBytes: number;
  readonly damage?: FrameDamage;
}

/** Writes one frame header at `offset` for the payload already placed right after it. */
export function writeFrameHeader(buf: Uint8Array, offset: number, type: number, payloadBytes: number): void {
  if (!Number.isInteger(type) || type < 1 || type > 255)
    throw new RangeError(`record type ${type} is not 1..255`);
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 0xffff_ffff) {
    throw new RangeError(`payload of ${payloadBytes} bytes does not fit a frame`);
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset, payloadBytes, true);
  view.setUint8(offset + 4, type);
  view.setUint8(offset + 5, 0);
  view.setUint16(offset + 6, 0, true);
  view.setUint32(offset + 8, crc32c(buf, offset, offset + 8), true);
  const payloadStart = offset + FRAME_HEADER_BYTES;
  view.setUint32(offset + 12, crc32c(buf, payloadStart, payloadStart + payloadBytes), true);
}

type FrameCheck =
  | { readonly ok: true; readonly frame: Frame; readonly next: number }
  | { readonly ok: false; readonly reason: string };

function checkFrame(buf: Uint8Array, view: DataView, offset: number, maxPayloadBytes: number): FrameCheck {
  const available = buf.length - offset;
  if (available < FRAME_HEADER_BYTES) {
    return {
      ok: false,
      reason: `only ${available} bytes left, less than a ${FRAME_HEADER_BYTES}-byte frame header`,
    };
  }
  if (view.getUint32(offset + 8, true) !== crc32c(buf, offset, offset + 8)) {
    return { ok: false, reason: 'frame header checksum mismatch' };
  }
  const length = view.getUint32(offset, true);
  const type = view.getUint8(offset + 4);
  if (type === 0 || view.getUint8(offset + 5) !== 0 || view.getUint16(offset + 6, true) !== 0) {
    return { ok: false, reason: `frame header has type ${type} or non-zero reserved bytes` };
  }
  if (length > maxPayloadBytes) {
    return {
      ok: false,
      reason: `frame payload of ${length} bytes exceeds the ${maxPayloadBytes}-byte bound`,
    };
  }
  const payloadStart = offset + FRAME_HEADER_BYTES;
  if (payloadStart + length > buf.length) {
    return { ok: false, reason: `frame payload of ${length} bytes runs past the end of the file` };
  }
  if (view.getUint32(offset + 12, true) !== crc32c(buf, payloadStart, payloadStart + length)) {
    return { ok: false, reason: 'frame payload checksum mismatch' };
  }
  return {
    ok: true,
    frame: { type, offset, payload: buf.subarray(payloadStart, payloadStart + length) },
    next: payloadStart + length,
  };
}

function isZero(buf: Uint8Array, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/** The first offset > `from` where a complete valid frame starts, or undefined. */
function findValidFrameAfter(
  buf: Uint8Array,
  view: DataView,
  from: number,
  maxPayloadBytes: number,
): number | undefined {
  for (let p = from + 1; p + FRAME_HEADER_BYTES <= buf.length; p++) {
    // Cheap filter before the header checksum: type non-zero and reserved bytes zero.
    if (buf[p + 4] === 0 || buf[p + 5] !== 0 || buf[p + 6] !== 0 || buf[p + 7] !== 0) continue;
    if (checkFrame(buf, view, p, maxPayloadBytes).ok) return p;
  }
  return undefined;
}

/**
 * Scans a whole segment. The first frame that does not check out ends the valid data; what follows decides what
 * it was:
 * - only zeros (a preallocated or never-written tail) or nothing that parses: a torn tail;
 * - a complete valid frame somewhere after it: corruption. Appends are serialised and each one is fsynced before the
 *   next is written, so a valid frame after a bad one means the bad one was already durable.
 * The rule is fail-closed: if out-of-order sector writes of a single torn append happened to leave a later record of
 * that same append intact, it reports corruption (the operator decides) rather than guessing.
 */
export function scanFrames(buf: Uint8Array, maxPayloadBytes: number): ScanResult {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const frames: Frame[] = [];
  let offset = 0;
  while (offset < buf.length) {
    const check = checkFrame(buf, view, offset, maxPayloadBytes);
    if (check.ok) {
      frames.push(check.frame);
      offset = check.next;
      continue;
    }
    if (isZero(buf, offset)) {
      return {
        frames,
        validBytes: offset,
        damage: { kind: 'torn', offset, reason: `zero-filled tail (${check.reason})` },
      };
    }
    const later = findValidFrameAfter(buf, view, offset, maxPayloadBytes);
    if (later !== undefined) {
      return {
        frames,
        validBytes: offset,
        damage: {
          kind: 'corrupt',
          offset,
          reason: `${check.reason}; a valid record follows at offset ${later}`,
        },
      };
    }
    return { frames, validBytes: offset, damage: { kind: 'torn', offset, reason: check.reason } };
  }
  return { frames, validBytes: offset };
}
