// Binary encoding of command results, needed because results are cached in the session table and the session
// table is part of a snapshot. Same conventions as command-codec.ts.
//
//   result: u8 1=put u64 revision, bool hasPrev [kv] | 2=delete u64 revision, u64 deleted, u32 n, kv*n |
//           3=range u64 revision, u32 n, kv*n, bool more, u64 count | 4=txn u64 revision, bool succeeded, u32 n,
//           result*n (put/delete/range only) | 5=sessionError u8 code (1=sessionUnknown 2=resultEvicted), string |
//           6=wrongShard u32 slot, u64 epoch, bool hasOwner [u32 owner], bool moving |
//           7=slots u64 revision, bool ok, u64 changed, string reason |
//           8=delete as 2, then u32 slotsServed (a delete command; 2 stays readable in older snapshots' sessions)
//   kv: bytes key | bytes value | u64 createRevision | u64 modRevision | u64 version

import { ByteReader, ByteWriter, KvCodecError } from './binary.js';
import type { CommandResult, KeyValue, RangeResult, TxnOpResult } from './types.js';

/** Anything the codec carries: a command's result, or a range result nested in a transaction's. */
type AnyResult = CommandResult | RangeResult;

const MIN_KV_BYTES = 4 + 4 + 8 * 3;
const MIN_RESULT_BYTES = 1 + 8 + 1;

export function writeKeyValue(w: ByteWriter, kv: KeyValue): void {
  w.bytes(kv.key).bytes(kv.value).u64(kv.createRevision).u64(kv.modRevision).u64(kv.version);
}

export function readKeyValue(r: ByteReader): KeyValue {
  return {
    key: r.bytes('kv key'),
    value: r.bytes('kv value'),
    createRevision: r.u64('kv create revision'),
    modRevision: r.u64('kv mod revision'),
    version: r.u64('kv version'),
  };
}

function readKeyValues(r: ByteReader): KeyValue[] {
  const n = r.count('kv count', MIN_KV_BYTES);
  return Array.from({ length: n }, () => readKeyValue(r));
}

function writeKeyValues(w: ByteWriter, kvs: readonly KeyValue[]): void {
  w.u32(kvs.length);
  for (const kv of kvs) writeKeyValue(w, kv);
}

export function writeResult(w: ByteWriter, result: AnyResult): void {
  switch (result.kind) {
    case 'put':
      w.u8(1)
        .u64(result.revision)
        .bool(result.prevKv !== undefined);
      if (result.prevKv !== undefined) writeKeyValue(w, result.prevKv);
      return;
    case 'delete':
      w.u8(result.slotsServed === undefined ? 2 : 8)
        .u64(result.revision)
        .u64(result.deleted);
      writeKeyValues(w, result.prevKvs);
      if (result.slotsServed !== undefined) w.u32(result.slotsServed);
      return;
    case 'range':
      w.u8(3).u64(result.revision);
      writeKeyValues(w, result.kvs);
      w.bool(result.more).u64(result.count);
      return;
    case 'txn':
      w.u8(4).u64(result.revision).bool(result.succeeded).u32(result.responses.length);
      for (const response of result.responses) writeResult(w, response);
      return;
    case 'sessionError':
      w.u8(5)
        .u8(result.code === 'sessionUnknown' ? 1 : 2)
        .string(result.message);
      return;
    case 'wrongShard': {
      const { slot, epoch, owner, moving } = result.redirect;
      w.u8(6)
        .u32(slot)
        .u64(epoch)
        .bool(owner !== undefined);
      if (owner !== undefined) w.u32(owner);
      w.bool(moving);
      return;
    }
    case 'slots':
      w.u8(7).u64(result.revision).bool(result.ok).u64(result.changed).string(result.reason);
      return;
    case 'dataFormat':
      // Its command carries no session, so the result is never cached; an encoding would be one more thing a
      // release before data formats could not read in a snapshot's session table.
      throw new KvCodecError('a data format result is never cached in a session');
  }
}

function readAnyResult(r: ByteReader): AnyResult {
  const tag = r.u8('result kind');
  switch (tag) {
    case 1: {
      const revision = r.u64('revision');
      return r.bool('has prevKv')
        ? { kind: 'put', revision, prevKv: readKeyValue(r) }
        : { kind: 'put', revision };
    }
    case 2:
    case 8:
      return {
        kind: 'delete',
        revision: r.u64('revision'),
        deleted: r.u64('deleted'),
        prevKvs: readKeyValues(r),
        ...(tag === 8 ? { slotsServed: r.u32('slots served') } : {}),
      };
    case 3:
      return {
        kind: 'range',
        revision: r.u64('revision'),
        kvs: readKeyValues(r),
        more: r.bool('more'),
        count: r.u64('count'),
      };
    case 4: {
      const revision = r.u64('revision');
      const succeeded = r.bool('succeeded');
      const n = r.count('response count', MIN_RESULT_BYTES);
      const responses: TxnOpResult[] = [];
      for (let i = 0; i < n; i++) {
        const response = readAnyResult(r);
        if (response.kind !== 'put' && response.kind !== 'delete' && response.kind !== 'range') {
          throw new KvCodecError(`a txn response cannot contain a ${response.kind} result`);
        }
        responses.push(response);
      }
      return { kind: 'txn', revision, succeeded, responses };
    }
    case 5: {
      const code = r.u8('session error code');
      if (code !== 1 && code !== 2) throw new KvCodecError(`unknown session error code ${code}`);
      return {
        kind: 'sessionError',
        code: code === 1 ? 'sessionUnknown' : 'resultEvicted',
        message: r.string('session error message'),
      };
    }
    case 6: {
      const slot = r.u32('redirect slot');
      const epoch = r.u64('redirect epoch');
      const owner = r.bool('redirect has owner') ? r.u32('redirect owner') : undefined;
      return { kind: 'wrongShard', redirect: { slot, epoch, owner, moving: r.bool('redirect moving') } };
    }
    case 7:
      return {
        kind: 'slots',
        revision: r.u64('revision'),
        ok: r.bool('ok'),
        changed: r.u64('changed'),
        reason: r.string('reason'),
      };
    default:
      throw new KvCodecError(`unknown result kind ${tag}`);
  }
}

/** A command's result: anything but a bare range result, which only occurs inside a transaction's. */
export function readResult(r: ByteReader): CommandResult {
  const result = readAnyResult(r);
  if (result.kind === 'range') throw new KvCodecError('a range result outside a transaction');
  return result;
}

export function encodeResult(result: CommandResult): Uint8Array {
  const w = new ByteWriter();
  writeResult(w, result);
  return w.finish();
}

export function decodeResult(bytes: Uint8Array): CommandResult {
  const r = new ByteReader(bytes, 'result');
  const result = readResult(r);
  r.end();
  return result;
}
