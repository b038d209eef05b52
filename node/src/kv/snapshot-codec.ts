// The whole key-value state as one byte string: what the Raft snapshot carries to a lagging or new replica. Equal
// states give equal bytes (keys in order, sessions in their table order, fixed-width integers; a compressed body
// from the same zlib build), so replicas and tests can compare snapshots directly. A CRC-32 trailer catches
// corruption and truncation; decoding also checks the invariants a state must satisfy before it may replace a
// replica's state.
//
// Layout: "RSKV" | u8 format=3 | body | u32 crc32 of every preceding byte
//   body: u64 appliedIndex | u64 revision | u64 clockMs |
//         u32 keys, (bytes key, bytes value, u64 createRevision, u64 modRevision, u64 version)* |
//         sessions (session-codec.ts) |
//         ownership: u64 epoch, u32 runs, (u16 start, u16 end, u8 state, u32 peer, u64 epoch)* (slot-ownership.ts) |
//         copy cursors: u32 n, (u64 epoch, bytes key)* in ascending epoch order (copy-cursors.ts)
// or, once the group's data format is 2 or more (shared/versioning/data-format.ts):
//         "RSKV" | u8 format=4 | u8 dataFormat | deflate-raw of the format-3 body | u32 crc32 of every preceding byte
// Format 3 is what a group of data format 1 writes, byte for byte as releases before data formats wrote it, so they
// can read it; it implies data format 1. Format 4 is never written for data format 1 (one spelling per state).
// Older formats still read: 2 (before imports kept a copy cursor) has no cursor section, so an import under way
// resumes its copy from the first key (a repeat the target absorbs); 1 (before slots could move) has no ownership
// section either: the group owns what it owned at creation.

import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { BASE_DATA_FORMAT, MAX_DATA_FORMAT } from '../../shared/versioning/data-format.js';
import { ByteReader, ByteWriter, KvCodecError } from './binary.js';
import { compareBytes, describeKey } from './bytes.js';
import { crc32 } from './crc32.js';
import { readSessions, writeSessions } from './session-codec.js';
import type { CopyCursor } from './copy-cursors.js';
import type { SlotOwnershipSpec, SlotRun, SlotState } from '../sharding/slot-ownership.js';
import type { Session, StoredValue } from './types.js';

export const SNAPSHOT_MAGIC = Uint8Array.of(0x52, 0x53, 0x4b, 0x56); // "RSKV"
/** What a group of data format 1 writes, and every release before data formats reads (up to it). */
export const SNAPSHOT_FORMAT = 3;
/** What a group of data format 2 or more writes: the format-3 body, compressed. */
export const COMPRESSED_SNAPSHOT_FORMAT = 4;
const FORMAT_WITHOUT_CURSORS = 2;
const FORMAT_WITHOUT_OWNERSHIP = 1;
/** The data format from which snapshots are compressed (DATA_FORMAT_HISTORY). */
const COMPRESSED_SINCE_DATA_FORMAT = 2;

/** Magic and format byte: where the body of a format-3 snapshot starts. */
const BODY_START = SNAPSHOT_MAGIC.length + 1;
/** Magic, format byte and data format byte: where the compressed body of a format-4 snapshot starts. */
const COMPRESSED_BODY_START = BODY_START + 1;

/**
 * deflate level 1, the fastest. A snapshot is encoded on the event loop (the replica takes a consistent cut of the
 * state between two Readys), so whatever compression costs, the member's gRPC and Raft traffic wait for it. Level 1
 * deflates a typical snapshot at ~350 MB/s, about a sixth of what encoding the state costs already, and keeps most
 * of the gain: on JSON-like values its output is within a third of level 6's, in a quarter of the time.
 */
const DEFLATE_LEVEL = 1;

/**
 * The most a compressed snapshot's body may inflate to: the bound the snapshot store puts on a file it reads back
 * (RaftDiskStorage's maxSnapshotBytes default), so compression admits no state the uncompressed format could not
 * carry. A corrupt or hostile body that inflates further is refused when it passes it, with a KvCodecError.
 */
export const MAX_SNAPSHOT_BODY_BYTES = 1024 * 1024 * 1024;

export interface DecodeKvSnapshotOptions {
  /** Bound on a format-4 body once inflated (MAX_SNAPSHOT_BODY_BYTES unless given). */
  readonly maxBodyBytes?: number;
}

export interface KvSnapshotState {
  readonly appliedIndex: number;
  readonly revision: number;
  readonly clockMs: number;
  /** In ascending key order. */
  readonly entries: Iterable<readonly [Uint8Array, StoredValue]>;
  /** In session table order (least recently used first). */
  readonly sessions: Iterable<Session>;
  readonly ownership: SlotOwnershipSpec;
  /** In ascending epoch order (CopyCursors.toList). */
  readonly cursors: readonly CopyCursor[];
  /** The group's data format: 1 writes format 3, 2 and more write format 4. */
  readonly dataFormat: number;
}

export interface DecodedKvSnapshot extends Omit<KvSnapshotState, 'ownership'> {
  readonly entries: readonly (readonly [Uint8Array, StoredValue])[];
  readonly sessions: readonly Session[];
  /** Undefined in a format-1 snapshot: the group serves what it served when it was created. */
  readonly ownership: SlotOwnershipSpec | undefined;
  /** Empty in formats 1 and 2. */
  readonly cursors: readonly CopyCursor[];
  /** BASE_DATA_FORMAT in formats 1 to 3. */
  readonly dataFormat: number;
}

const MIN_ENTRY_BYTES = 4 + 4 + 8 * 3;
const MIN_RUN_BYTES = 2 + 2 + 1 + 4 + 8;
const MIN_CURSOR_BYTES = 8 + 4;
const RUN_STATES: readonly SlotState[] = ['absent', 'owned', 'leaving', 'importing', 'imported'];

function writeOwnership(w: ByteWriter, ownership: SlotOwnershipSpec): void {
  w.u64(ownership.epoch).u32(ownership.runs.length);
  for (const run of ownership.runs) {
    w.u8(run.start >>> 8)
      .u8(run.start & 0xff)
      .u8(run.end >>> 8)
      .u8(run.end & 0xff)
      .u8(RUN_STATES.indexOf(run.state))
      .u32(run.peer)
      .u64(run.epoch);
  }
}

/** Reads the section; whether the runs describe a valid ownership is checked by SlotOwnership.fromSpec. */
function readOwnership(r: ByteReader): SlotOwnershipSpec {
  const epoch = r.u64('ownership epoch');
  const n = r.count('slot run count', MIN_RUN_BYTES);
  const runs: SlotRun[] = [];
  for (let i = 0; i < n; i++) {
    const start = (r.u8('run start') << 8) | r.u8('run start');
    const end = (r.u8('run end') << 8) | r.u8('run end');
    const code = r.u8('run state');
    const state = RUN_STATES[code];
    if (state === undefined) throw new KvCodecError(`unknown slot state ${code}`);
    runs.push({ start, end, state, peer: r.u32('run peer'), epoch: r.u64('run epoch') });
  }
  return { epoch, runs };
}

function writeCursors(w: ByteWriter, cursors: readonly CopyCursor[]): void {
  w.u32(cursors.length);
  for (const c of cursors) w.u64(c.epoch).bytes(c.key);
}

/** Reads the section; whether each cursor's epoch is an import under way is checked against the ownership later. */
function readCursors(r: ByteReader): CopyCursor[] {
  const n = r.count('copy cursor count', MIN_CURSOR_BYTES);
  const cursors: CopyCursor[] = [];
  for (let i = 0; i < n; i++) {
    const epoch = r.u64('copy cursor epoch');
    const key = r.bytes('copy cursor key');
    const previous = cursors.at(-1)?.epoch ?? 0;
    if (epoch <= previous) {
      throw new KvCodecError(`snapshot copy cursors: epoch ${epoch} does not follow epoch ${previous}`);
    }
    if (key.length === 0) throw new KvCodecError(`snapshot copy cursor of epoch ${epoch} is an empty key`);
    cursors.push({ epoch, key });
  }
  return cursors;
}

function checkDataFormat(dataFormat: number): void {
  if (!Number.isInteger(dataFormat) || dataFormat < BASE_DATA_FORMAT || dataFormat > MAX_DATA_FORMAT) {
    throw new KvCodecError(
      `snapshot of data format ${dataFormat}: this build reads data formats ${BASE_DATA_FORMAT} to ${MAX_DATA_FORMAT}`,
    );
  }
}

/** The bytes followed by their CRC-32. */
function sealed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 4);
  out.set(bytes);
  new DataView(out.buffer).setUint32(bytes.length, crc32(bytes));
  return out;
}

export function encodeKvSnapshot(state: KvSnapshotState): Uint8Array {
  checkDataFormat(state.dataFormat);
  const w = new ByteWriter(64 * 1024);
  for (const byte of SNAPSHOT_MAGIC) w.u8(byte);
  w.u8(SNAPSHOT_FORMAT).u64(state.appliedIndex).u64(state.revision).u64(state.clockMs);
  const entries = [...state.entries];
  w.u32(entries.length);
  for (const [key, stored] of entries) {
    w.bytes(key).bytes(stored.value).u64(stored.createRevision).u64(stored.modRevision).u64(stored.version);
  }
  writeSessions(w, state.sessions);
  writeOwnership(w, state.ownership);
  writeCursors(w, state.cursors);
  const plain = w.finish();
  if (state.dataFormat < COMPRESSED_SINCE_DATA_FORMAT) return sealed(plain);
  const compressed = deflateRawSync(plain.subarray(BODY_START), { level: DEFLATE_LEVEL });
  const head = new Uint8Array(COMPRESSED_BODY_START + compressed.length);
  head.set(SNAPSHOT_MAGIC);
  head[BODY_START - 1] = COMPRESSED_SNAPSHOT_FORMAT;
  head[BODY_START] = state.dataFormat;
  head.set(compressed, COMPRESSED_BODY_START);
  return sealed(head);
}

function checkEntry(
  key: Uint8Array,
  stored: StoredValue,
  previous: Uint8Array | undefined,
  revision: number,
): void {
  if (key.length === 0) throw new KvCodecError('snapshot holds an empty key');
  if (previous !== undefined && compareBytes(previous, key) >= 0) {
    throw new KvCodecError('snapshot keys are not in strictly ascending order');
  }
  const { createRevision, modRevision, version } = stored;
  if (createRevision < 1 || createRevision > modRevision || modRevision > revision || version < 1) {
    throw new KvCodecError(
      `snapshot key ${describeKey(key)}: inconsistent revisions (create ${createRevision}, mod ${modRevision}, version ${version}, ` +
        `store ${revision})`,
    );
  }
}

/**
 * Inflates a format-4 body: bounded (maxBodyBytes), and refused unless the deflate stream ends exactly where the
 * body does (trailing bytes after it would be a second spelling of the same snapshot).
 */
function inflateBody(compressed: Uint8Array, maxBodyBytes: number): Uint8Array {
  let inflated: { buffer: Buffer; engine: { bytesWritten: number } };
  try {
    // `info` hands back the engine too, whose bytesWritten is the compressed input the stream consumed.
    inflated = inflateRawSync(compressed, { maxOutputLength: maxBodyBytes, info: true }) as unknown as {
      buffer: Buffer;
      engine: { bytesWritten: number };
    };
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') {
      throw new KvCodecError(`snapshot body inflates past the ${maxBodyBytes}-byte bound`, { cause });
    }
    const message = (cause as { message?: unknown }).message;
    throw new KvCodecError(
      `snapshot body does not inflate (${typeof message === 'string' ? message : String(cause)})`,
      { cause },
    );
  }
  if (inflated.engine.bytesWritten !== compressed.length) {
    throw new KvCodecError(
      `snapshot: ${compressed.length - inflated.engine.bytesWritten} bytes follow the end of the compressed body`,
    );
  }
  const { buffer } = inflated;
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

/** Throws KvCodecError if the bytes are corrupt, truncated, of an unknown format or describe an impossible state. */
export function decodeKvSnapshot(
  bytes: Uint8Array,
  options: DecodeKvSnapshotOptions = {},
): DecodedKvSnapshot {
  if (bytes.length < SNAPSHOT_MAGIC.length + 1 + 4) {
    throw new KvCodecError(`snapshot is ${bytes.length} bytes, too short to be one`);
  }
  for (let i = 0; i < SNAPSHOT_MAGIC.length; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw new KvCodecError('not a key-value snapshot (bad magic)');
  }
  const bodyEnd = bytes.length - 4;
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bodyEnd);
  const actual = crc32(bytes, 0, bodyEnd);
  if (stored !== actual) {
    throw new KvCodecError(
      `snapshot checksum mismatch: stored ${stored}, computed ${actual} (corrupt or truncated)`,
    );
  }
  const format = bytes[BODY_START - 1] ?? 0;
  if (format === COMPRESSED_SNAPSHOT_FORMAT) {
    if (bodyEnd < COMPRESSED_BODY_START) throw new KvCodecError('snapshot of format 4 has no data format');
    const dataFormat = bytes[BODY_START] ?? 0;
    checkDataFormat(dataFormat);
    if (dataFormat < COMPRESSED_SINCE_DATA_FORMAT) {
      throw new KvCodecError(
        `snapshot of format 4 at data format ${dataFormat}, which is written as format ${SNAPSHOT_FORMAT}`,
      );
    }
    const body = inflateBody(
      bytes.subarray(COMPRESSED_BODY_START, bodyEnd),
      options.maxBodyBytes ?? MAX_SNAPSHOT_BODY_BYTES,
    );
    return readBody(new ByteReader(body, 'snapshot'), SNAPSHOT_FORMAT, dataFormat);
  }
  if (
    format !== SNAPSHOT_FORMAT &&
    format !== FORMAT_WITHOUT_CURSORS &&
    format !== FORMAT_WITHOUT_OWNERSHIP
  ) {
    throw new KvCodecError(`unknown snapshot format ${format}`);
  }
  return readBody(new ByteReader(bytes, 'snapshot', BODY_START, bodyEnd), format, BASE_DATA_FORMAT);
}

/** Reads a body of `format` (1 to 3; a format-4 body is a format-3 one) to its end. */
function readBody(r: ByteReader, format: number, dataFormat: number): DecodedKvSnapshot {
  const appliedIndex = r.u64('applied index');
  const revision = r.u64('revision');
  const clockMs = r.u64('clock');
  // Each applied entry raises the revision by at most one.
  if (revision > appliedIndex) {
    throw new KvCodecError(`snapshot revision ${revision} is beyond its applied index ${appliedIndex}`);
  }

  const entryCount = r.count('key count', MIN_ENTRY_BYTES);
  const entries: (readonly [Uint8Array, StoredValue])[] = [];
  let previous: Uint8Array | undefined;
  for (let i = 0; i < entryCount; i++) {
    const key = r.bytes('key');
    const value: StoredValue = {
      value: r.bytes('value'),
      createRevision: r.u64('create revision'),
      modRevision: r.u64('mod revision'),
      version: r.u64('version'),
    };
    checkEntry(key, value, previous, revision);
    entries.push([key, value]);
    previous = key;
  }

  const sessions = readSessions(r, clockMs);
  const ownership = format === FORMAT_WITHOUT_OWNERSHIP ? undefined : readOwnership(r);
  const cursors = format === SNAPSHOT_FORMAT ? readCursors(r) : [];
  r.end();
  return { appliedIndex, revision, clockMs, entries, sessions, ownership, cursors, dataFormat };
}
