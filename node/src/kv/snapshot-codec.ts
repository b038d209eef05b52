// The whole key-value state as one byte string: what the Raft snapshot carries to a lagging or new replica. Equal
// states give equal bytes (keys in order, sessions in their table order, fixed-width integers), so replicas and
// tests can compare snapshots directly. A CRC-32 trailer catches corruption and truncation; decoding also checks
// the invariants a state must satisfy before it may replace a replica's state.
//
// Layout: "RSKV" | u8 format=3 | u64 appliedIndex | u64 revision | u64 clockMs |
//         u32 keys, (bytes key, bytes value, u64 createRevision, u64 modRevision, u64 version)* |
//         sessions (session-codec.ts) |
//         ownership: u64 epoch, u32 runs, (u16 start, u16 end, u8 state, u32 peer, u64 epoch)* (slot-ownership.ts) |
//         copy cursors: u32 n, (u64 epoch, bytes key)* in ascending epoch order (copy-cursors.ts) |
//         u32 crc32 of every preceding byte
// Older formats still read: 2 (before imports kept a copy cursor) has no cursor section, so an import under way
// resumes its copy from the first key (a repeat the target absorbs); 1 (before slots could move) has no ownership
// section either: the group owns what it owned at creation.

import { ByteReader, ByteWriter, KvCodecError } from './binary.js';
import { compareBytes, describeKey } from './bytes.js';
import { crc32 } from './crc32.js';
import { readSessions, writeSessions } from './session-codec.js';
import type { CopyCursor } from './copy-cursors.js';
import type { SlotOwnershipSpec, SlotRun, SlotState } from '../sharding/slot-ownership.js';
import type { Session, StoredValue } from './types.js';

export const SNAPSHOT_MAGIC = Uint8Array.of(0x52, 0x53, 0x4b, 0x56); // "RSKV"
export const SNAPSHOT_FORMAT = 3;
const FORMAT_WITHOUT_CURSORS = 2;
const FORMAT_WITHOUT_OWNERSHIP = 1;

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
}

export interface DecodedKvSnapshot extends Omit<KvSnapshotState, 'ownership'> {
  readonly entries: readonly (readonly [Uint8Array, StoredValue])[];
  readonly sessions: readonly Session[];
  /** Undefined in a format-1 snapshot: the group serves what it served when it was created. */
  readonly ownership: SlotOwnershipSpec | undefined;
  /** Empty in formats 1 and 2. */
  readonly cursors: readonly CopyCursor[];
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

export function encodeKvSnapshot(state: KvSnapshotState): Uint8Array {
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
  const body = w.finish();
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body));
  return out;
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

/** Throws KvCodecError if the bytes are corrupt, truncated, of an unknown format or describe an impossible state. */
export function decodeKvSnapshot(bytes: Uint8Array): DecodedKvSnapshot {
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
  const r = new ByteReader(bytes, 'snapshot', SNAPSHOT_MAGIC.length, bodyEnd);
  const format = r.u8('format');
  if (
    format !== SNAPSHOT_FORMAT &&
    format !== FORMAT_WITHOUT_CURSORS &&
    format !== FORMAT_WITHOUT_OWNERSHIP
  ) {
    throw new KvCodecError(`unknown snapshot format ${format}`);
  }
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
  return { appliedIndex, revision, clockMs, entries, sessions, ownership, cursors };
}
