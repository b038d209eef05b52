// The typed records the WAL stores, and their binary payloads (little-endian, no JSON: entries are the hot path).
//   entry     (type 1): u64 term, u64 index, u8 entry type (0 normal, 1 confChange), data = rest of the payload
//   hardState (type 2): u64 term, u64 commit, vote = rest of the payload as UTF-8
//   snapshot  (type 3): u64 index, u64 term — the log was replaced by this snapshot (a Ready carrying a snapshot):
//                       entries at or below it are gone, the next entry is index + 1.
// One append becomes one buffer of frames: snapshot marker first, then entries, then the hard state, so any prefix
// a crash leaves behind is itself consistent (the hard state's commit never points past entries written before it).

import type { Entry, EntryType, HardState } from '../raft/types.js';
import { ByteReader, DecodeError, putU64 } from './binary.js';
import { FRAME_HEADER_BYTES, writeFrameHeader } from './wal-frame.js';

export const RECORD_ENTRY = 1;
export const RECORD_HARD_STATE = 2;
export const RECORD_SNAPSHOT = 3;

export type WalRecord =
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'snapshot'; readonly index: number; readonly term: number };

const ENTRY_FIXED_BYTES = 17;
const HARD_STATE_FIXED_BYTES = 16;
const SNAPSHOT_BYTES = 16;

const utf8 = new TextEncoder();

function entryTypeCode(type: EntryType): number {
  switch (type) {
    case 'normal':
      return 0;
    case 'confChange':
      return 1;
  }
}

function payloadBytes(record: WalRecord, voteBytes: Uint8Array | undefined): number {
  switch (record.kind) {
    case 'entry':
      return ENTRY_FIXED_BYTES + record.entry.data.length;
    case 'hardState':
      return HARD_STATE_FIXED_BYTES + (voteBytes?.length ?? 0);
    case 'snapshot':
      return SNAPSHOT_BYTES;
  }
}

/** The largest payload among `records`, so callers can enforce the per-record bound before writing. */
export function largestPayloadBytes(records: readonly WalRecord[]): number {
  let max = 0;
  for (const r of records) {
    const vote = r.kind === 'hardState' ? utf8.encode(r.hardState.vote) : undefined;
    max = Math.max(max, payloadBytes(r, vote));
  }
  return max;
}

/** Encodes records as consecutive frames in one buffer, ready for a single write. */
export function encodeRecords(records: readonly WalRecord[]): Uint8Array {
  const votes = records.map((r) => (r.kind === 'hardState' ? utf8.encode(r.hardState.vote) : undefined));
  let total = 0;
  for (let i = 0; i < records.length; i++) total += FRAME_HEADER_BYTES + payloadBytes(records[i]!, votes[i]);
  const buf = new Uint8Array(total);
  const view = new DataView(buf.buffer);
  let offset = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    const vote = votes[i];
    const length = payloadBytes(record, vote);
    const p = offset + FRAME_HEADER_BYTES;
    let type: number;
    switch (record.kind) {
      case 'entry': {
        const e = record.entry;
        putU64(view, p, e.term, 'entry term');
        putU64(view, p + 8, e.index, 'entry index');
        view.setUint8(p + 16, entryTypeCode(e.type));
        buf.set(e.data, p + ENTRY_FIXED_BYTES);
        type = RECORD_ENTRY;
        break;
      }
      case 'hardState': {
        putU64(view, p, record.hardState.term, 'hard state term');
        putU64(view, p + 8, record.hardState.commit, 'hard state commit');
        if (vote) buf.set(vote, p + HARD_STATE_FIXED_BYTES);
        type = RECORD_HARD_STATE;
        break;
      }
      case 'snapshot': {
        putU64(view, p, record.index, 'snapshot index');
        putU64(view, p + 8, record.term, 'snapshot term');
        type = RECORD_SNAPSHOT;
        break;
      }
    }
    writeFrameHeader(buf, offset, type, length);
    offset = p + length;
  }
  return buf;
}

/** Decodes one frame's payload. Throws DecodeError for an unknown type or malformed payload. */
export function decodeRecord(type: number, payload: Uint8Array): WalRecord {
  const r = new ByteReader(payload);
  switch (type) {
    case RECORD_ENTRY: {
      const term = r.u64('entry term');
      const index = r.u64('entry index');
      const code = r.u8('entry type');
      if (code !== 0 && code !== 1) throw new DecodeError(`unknown entry type code ${code}`);
      const entry: Entry = {
        term,
        index,
        type: code === 0 ? 'normal' : 'confChange',
        data: r.rest('entry data'),
      };
      return { kind: 'entry', entry };
    }
    case RECORD_HARD_STATE: {
      const term = r.u64('hard state term');
      const commit = r.u64('hard state commit');
      const vote = r.utf8(r.remaining, 'hard state vote');
      return { kind: 'hardState', hardState: { term, vote, commit } };
    }
    case RECORD_SNAPSHOT: {
      const index = r.u64('snapshot index');
      const term = r.u64('snapshot term');
      r.expectEnd('snapshot record');
      return { kind: 'snapshot', index, term };
    }
    default:
      throw new DecodeError(`unknown WAL record type ${type}`);
  }
}
