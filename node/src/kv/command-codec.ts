// Binary encoding of a Command, the payload of a normal Raft entry. A leading format byte lets a later version
// change the layout while still reading entries already in the log. The encoding is canonical (one byte string per
// command), so re-encoding a decoded command gives identical bytes.
//
// Layout (big-endian; bytes = u32 length + data; string = UTF-8 bytes):
//   u8 format=1 | u64 timestampMs | bool hasSession [string clientId | u64 sequence] | operation
//   operation: u8 1=put key value bool prevKv | 2=delete range bool prevKv | 3=txn compares ops(success) ops(failure)
//              | 4=moveSlots u8 step (1=import 2=freeze 3=seal 4=activate 5=release 6=abort
//                7=repoint) slots u32 peer u64 epoch
//              | 5=ingest u32 from, u64 epoch, u32 n (bytes key, bytes value, u64 version)*n, slots seal, sessions
//              | 6=ingest as 5 with, after the epoch, where the page starts: u8 1=first key | 2=after bytes key
//                (5 is what entries logged before pages carried their start hold; it still decodes, start unknown)
//              | 7=setDataFormat u8 format (since 0.2.0; never with a session: hasSession must be false).
//                Releases before data formats read tags 1-6 only: the entry is proposed only to change the format
//                (raising it needs every member to read it), and a member that applies one lowering the format
//                takes a snapshot past it, so an older release restarted on its data never replays it
//   slots: u32 n, u16 slot*n      sessions: as in session-codec.ts
//   range: u8 1=key bytes | 2=prefix bytes | 3=interval bytes start, bool hasEnd [bytes end]
//   compare: bytes key | u8 operator 1..4 | u8 target 1=value bytes | 2=mod u64 | 3=create u64 | 4=version u64 |
//            5=exists bool
//   txn op: u8 1=put | 2=delete | 3=range (range, u64 limit, bool keysOnly, bool countOnly)

import { ByteReader, ByteWriter, KvCodecError } from './binary.js';
import { readSessions, writeSessions } from './session-codec.js';
import type { PageStart } from './copy-cursors.js';
import type { SlotMoveStep } from '../sharding/slot-ownership.js';
import type {
  Command,
  Compare,
  CompareOperator,
  CompareTarget,
  DeleteOp,
  IngestedKey,
  IngestOp,
  KeyRange,
  MoveSlotsOp,
  Operation,
  PutOp,
  RangeOp,
  RangeOptions,
  SessionRef,
  SetDataFormatOp,
  TxnOp,
  TxnRequest,
} from './types.js';

export const COMMAND_FORMAT = 1;

const OPERATORS: readonly CompareOperator[] = ['equal', 'notEqual', 'less', 'greater'];

export function writeKeyRange(w: ByteWriter, range: KeyRange): void {
  switch (range.kind) {
    case 'key':
      w.u8(1).bytes(range.key);
      return;
    case 'prefix':
      w.u8(2).bytes(range.prefix);
      return;
    case 'interval':
      w.u8(3)
        .bytes(range.start)
        .bool(range.end !== undefined);
      if (range.end !== undefined) w.bytes(range.end);
      return;
  }
}

export function readKeyRange(r: ByteReader): KeyRange {
  const tag = r.u8('range kind');
  switch (tag) {
    case 1:
      return { kind: 'key', key: r.bytes('key') };
    case 2:
      return { kind: 'prefix', prefix: r.bytes('prefix') };
    case 3: {
      const start = r.bytes('range start');
      return r.bool('range has end')
        ? { kind: 'interval', start, end: r.bytes('range end') }
        : { kind: 'interval', start };
    }
    default:
      throw new KvCodecError(`unknown range kind ${tag}`);
  }
}

function writeRangeOptions(w: ByteWriter, options: RangeOptions): void {
  w.u64(options.limit).bool(options.keysOnly).bool(options.countOnly);
}

function readRangeOptions(r: ByteReader): RangeOptions {
  return { limit: r.u64('range limit'), keysOnly: r.bool('keysOnly'), countOnly: r.bool('countOnly') };
}

function writeCompare(w: ByteWriter, compare: Compare): void {
  w.bytes(compare.key).u8(OPERATORS.indexOf(compare.operator) + 1);
  const t = compare.target;
  switch (t.kind) {
    case 'value':
      w.u8(1).bytes(t.value);
      return;
    case 'modRevision':
      w.u8(2).u64(t.revision);
      return;
    case 'createRevision':
      w.u8(3).u64(t.revision);
      return;
    case 'version':
      w.u8(4).u64(t.version);
      return;
    case 'exists':
      w.u8(5).bool(t.exists);
      return;
  }
}

function readCompare(r: ByteReader): Compare {
  const key = r.bytes('compare key');
  const operatorCode = r.u8('compare operator');
  const operator = OPERATORS[operatorCode - 1];
  if (operator === undefined) throw new KvCodecError(`unknown compare operator ${operatorCode}`);
  const tag = r.u8('compare target');
  let target: CompareTarget;
  switch (tag) {
    case 1:
      target = { kind: 'value', value: r.bytes('compare value') };
      break;
    case 2:
      target = { kind: 'modRevision', revision: r.u64('compare mod revision') };
      break;
    case 3:
      target = { kind: 'createRevision', revision: r.u64('compare create revision') };
      break;
    case 4:
      target = { kind: 'version', version: r.u64('compare version') };
      break;
    case 5:
      target = { kind: 'exists', exists: r.bool('compare exists') };
      break;
    default:
      throw new KvCodecError(`unknown compare target ${tag}`);
  }
  return { key, operator, target };
}

function writePut(w: ByteWriter, op: PutOp): void {
  w.bytes(op.key).bytes(op.value).bool(op.prevKv);
}

function readPut(r: ByteReader): PutOp {
  return { kind: 'put', key: r.bytes('put key'), value: r.bytes('put value'), prevKv: r.bool('put prevKv') };
}

function writeDelete(w: ByteWriter, op: DeleteOp): void {
  writeKeyRange(w, op.range);
  w.bool(op.prevKv);
}

function readDelete(r: ByteReader): DeleteOp {
  return { kind: 'delete', range: readKeyRange(r), prevKv: r.bool('delete prevKv') };
}

function writeTxnOp(w: ByteWriter, op: TxnOp): void {
  switch (op.kind) {
    case 'put':
      w.u8(1);
      writePut(w, op);
      return;
    case 'delete':
      w.u8(2);
      writeDelete(w, op);
      return;
    case 'range':
      w.u8(3);
      writeKeyRange(w, op.range);
      writeRangeOptions(w, op.options);
      return;
  }
}

function readTxnOp(r: ByteReader): TxnOp {
  const tag = r.u8('txn op kind');
  switch (tag) {
    case 1:
      return readPut(r);
    case 2:
      return readDelete(r);
    case 3: {
      const op: RangeOp = { kind: 'range', range: readKeyRange(r), options: readRangeOptions(r) };
      return op;
    }
    default:
      throw new KvCodecError(`unknown txn op kind ${tag}`);
  }
}

// Smallest encodings, used to reject counts the remaining input cannot hold before allocating for them.
const MIN_COMPARE_BYTES = 4 + 1 + 1 + 1;
const MIN_TXN_OP_BYTES = 1 + 1 + 4 + 1;

function writeTxn(w: ByteWriter, txn: TxnRequest): void {
  w.u32(txn.compare.length);
  for (const compare of txn.compare) writeCompare(w, compare);
  for (const ops of [txn.success, txn.failure]) {
    w.u32(ops.length);
    for (const op of ops) writeTxnOp(w, op);
  }
}

function readTxn(r: ByteReader): TxnRequest {
  const compareCount = r.count('compare count', MIN_COMPARE_BYTES);
  const compare = Array.from({ length: compareCount }, () => readCompare(r));
  const successCount = r.count('success count', MIN_TXN_OP_BYTES);
  const success = Array.from({ length: successCount }, () => readTxnOp(r));
  const failureCount = r.count('failure count', MIN_TXN_OP_BYTES);
  const failure = Array.from({ length: failureCount }, () => readTxnOp(r));
  return { kind: 'txn', compare, success, failure };
}

// Codes are the position + 1: append, never reorder (entries in the log keep their code).
const STEPS: readonly SlotMoveStep[] = [
  'import',
  'freeze',
  'seal',
  'activate',
  'release',
  'abort',
  'repoint',
];
const MIN_INGESTED_KEY_BYTES = 4 + 4 + 8;

function writeSlots(w: ByteWriter, slots: readonly number[]): void {
  w.u32(slots.length);
  for (const slot of slots) w.u8(slot >>> 8).u8(slot & 0xff);
}

function readSlots(r: ByteReader): number[] {
  const n = r.count('slot count', 2);
  return Array.from({ length: n }, () => (r.u8('slot') << 8) | r.u8('slot'));
}

function writeMoveSlots(w: ByteWriter, op: MoveSlotsOp): void {
  const { step, slots, peer, epoch } = op.request;
  w.u8(STEPS.indexOf(step) + 1);
  writeSlots(w, slots);
  w.u32(peer).u64(epoch);
}

function readMoveSlots(r: ByteReader): MoveSlotsOp {
  const code = r.u8('move step');
  const step = STEPS[code - 1];
  if (step === undefined) throw new KvCodecError(`unknown slot move step ${code}`);
  const slots = readSlots(r);
  return {
    kind: 'moveSlots',
    request: { step, slots, peer: r.u32('move peer'), epoch: r.u64('move epoch') },
  };
}

/** Tag 5 for a page whose start is unknown, so an entry read from an older log encodes back to its own bytes. */
function writeIngest(w: ByteWriter, op: IngestOp): void {
  w.u8(op.start.kind === 'unknown' ? 5 : 6)
    .u32(op.from)
    .u64(op.epoch);
  if (op.start.kind === 'first') w.u8(1);
  else if (op.start.kind === 'after') w.u8(2).bytes(op.start.key);
  w.u32(op.kvs.length);
  for (const kv of op.kvs) w.bytes(kv.key).bytes(kv.value).u64(kv.version);
  writeSlots(w, op.seal);
  writeSessions(w, op.sessions);
}

function readPageStart(r: ByteReader): PageStart {
  const code = r.u8('ingest page start');
  switch (code) {
    case 1:
      return { kind: 'first' };
    case 2: {
      const key = r.bytes('ingest page start key');
      // No key is empty, so "after the empty key" would be a second spelling of "first": refused, to stay canonical.
      if (key.length === 0) throw new KvCodecError('an ingested page starts after an empty key');
      return { kind: 'after', key };
    }
    default:
      throw new KvCodecError(`unknown ingest page start ${code}`);
  }
}

function readIngest(r: ByteReader, positioned: boolean): IngestOp {
  const from = r.u32('ingest source');
  const epoch = r.u64('ingest epoch');
  const start: PageStart = positioned ? readPageStart(r) : { kind: 'unknown' };
  const n = r.count('ingested key count', MIN_INGESTED_KEY_BYTES);
  const kvs: IngestedKey[] = Array.from({ length: n }, () => ({
    key: r.bytes('ingested key'),
    value: r.bytes('ingested value'),
    version: r.u64('ingested version'),
  }));
  const seal = readSlots(r);
  return { kind: 'ingest', from, epoch, start, kvs, seal, sessions: readSessions(r) };
}

function writeOperation(w: ByteWriter, op: Operation): void {
  switch (op.kind) {
    case 'put':
      w.u8(1);
      writePut(w, op);
      return;
    case 'delete':
      w.u8(2);
      writeDelete(w, op);
      return;
    case 'txn':
      w.u8(3);
      writeTxn(w, op);
      return;
    case 'moveSlots':
      w.u8(4);
      writeMoveSlots(w, op);
      return;
    case 'ingest':
      writeIngest(w, op); // writes its own tag
      return;
    case 'setDataFormat':
      w.u8(7).u8(op.format);
      return;
  }
}

function readOperation(r: ByteReader): Operation {
  const tag = r.u8('operation kind');
  switch (tag) {
    case 1:
      return readPut(r);
    case 2:
      return readDelete(r);
    case 3:
      return readTxn(r);
    case 4:
      return readMoveSlots(r);
    case 5:
      return readIngest(r, false);
    case 6:
      return readIngest(r, true);
    case 7: {
      const op: SetDataFormatOp = { kind: 'setDataFormat', format: r.u8('data format') };
      return op;
    }
    default:
      throw new KvCodecError(`unknown operation kind ${tag}`);
  }
}

/** A setDataFormat entry carries no session (types.ts): one spelling per command, and no result to cache. */
function checkSessionAllowed(command: Command): void {
  if (command.session !== undefined && command.op.kind === 'setDataFormat') {
    throw new KvCodecError('a setDataFormat command carries no session');
  }
}

export function encodeCommand(command: Command): Uint8Array {
  checkSessionAllowed(command);
  const w = new ByteWriter();
  w.u8(COMMAND_FORMAT)
    .u64(command.timestampMs)
    .bool(command.session !== undefined);
  if (command.session !== undefined) w.string(command.session.clientId).u64(command.session.sequence);
  writeOperation(w, command.op);
  return w.finish();
}

/** Throws KvCodecError on any malformed input: unknown format or tag, truncation, trailing bytes. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(bytes, 'command');
  const format = r.u8('format');
  if (format !== COMMAND_FORMAT) throw new KvCodecError(`unknown command format ${format}`);
  const timestampMs = r.u64('timestamp');
  let session: SessionRef | undefined;
  if (r.bool('has session')) session = { clientId: r.string('client id'), sequence: r.u64('sequence') };
  const op = readOperation(r);
  r.end();
  const command: Command = session === undefined ? { timestampMs, op } : { timestampMs, session, op };
  checkSessionAllowed(command);
  return command;
}
