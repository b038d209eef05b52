// Conversions between the wire types (generated from node/proto) and the state machine's types (node/src/kv).
// Malformed input (an unset oneof, an unknown operator) becomes InvalidRequestError, never a crash.
import type * as wire from '../../shared/api/generated/raftstore/v1/kv.js';
import type {
  Compare,
  CompareOperator,
  DeleteResult,
  KeyRange,
  KeyValue,
  PutResult,
  RangeResult,
  TxnOp,
  TxnOpResult,
} from '../kv/types.js';
import { InvalidRequestError } from './request-error.js';

export function keyRangeFromWire(range: wire.KeyRange | undefined, what = 'range'): KeyRange {
  const kind = range?.kind;
  if (!kind) throw new InvalidRequestError(`${what} is required (key, prefix or interval)`);
  switch (kind.$case) {
    case 'key':
      return { kind: 'key', key: kind.key };
    case 'prefix':
      return { kind: 'prefix', prefix: kind.prefix };
    case 'interval':
      return kind.interval.end.byteLength === 0
        ? { kind: 'interval', start: kind.interval.start }
        : { kind: 'interval', start: kind.interval.start, end: kind.interval.end };
  }
}

const OPERATORS: Record<number, CompareOperator | undefined> = {
  1: 'equal',
  2: 'notEqual',
  3: 'less',
  4: 'greater',
};

export function compareFromWire(c: wire.Compare, i: number): Compare {
  const operator = OPERATORS[c.operator];
  if (!operator)
    throw new InvalidRequestError(`compare[${i}]: operator must be EQUAL, NOT_EQUAL, LESS or GREATER`);
  const target = c.target;
  if (!target)
    throw new InvalidRequestError(`compare[${i}]: a target (value, revision, version, exists) is required`);
  switch (target.$case) {
    case 'value':
      return { key: c.key, operator, target: { kind: 'value', value: target.value } };
    case 'modRevision':
      return { key: c.key, operator, target: { kind: 'modRevision', revision: target.modRevision } };
    case 'createRevision':
      return { key: c.key, operator, target: { kind: 'createRevision', revision: target.createRevision } };
    case 'version':
      return { key: c.key, operator, target: { kind: 'version', version: target.version } };
    case 'exists':
      if (operator !== 'equal' && operator !== 'notEqual') {
        throw new InvalidRequestError(`compare[${i}]: exists supports only EQUAL and NOT_EQUAL`);
      }
      return { key: c.key, operator, target: { kind: 'exists', exists: target.exists } };
  }
}

export function txnOpFromWire(op: wire.RequestOp, where: string): TxnOp {
  const o = op.op;
  if (!o) throw new InvalidRequestError(`${where}: an op (put, delete or range) is required`);
  switch (o.$case) {
    case 'put':
      return { kind: 'put', key: o.put.key, value: o.put.value, prevKv: o.put.prevKv };
    case 'delete':
      return {
        kind: 'delete',
        range: keyRangeFromWire(o.delete.range, `${where}.range`),
        prevKv: o.delete.prevKv,
      };
    case 'range':
      return {
        kind: 'range',
        range: keyRangeFromWire(o.range.range, `${where}.range`),
        options: { limit: o.range.limit, keysOnly: o.range.keysOnly, countOnly: o.range.countOnly },
      };
  }
}

export function keyValueToWire(kv: KeyValue): wire.KeyValue {
  return {
    key: kv.key,
    value: kv.value,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
  };
}

export function putResultToWire(r: PutResult, header: wire.PutResponse['header']): wire.PutResponse {
  return { header, prevKv: r.prevKv ? keyValueToWire(r.prevKv) : undefined };
}

export function deleteResultToWire(
  r: DeleteResult,
  header: wire.DeleteResponse['header'],
): wire.DeleteResponse {
  // 0 inside a transaction (the slots of a transaction are one slot, which its own key already names).
  return {
    header,
    deleted: r.deleted,
    prevKvs: r.prevKvs.map(keyValueToWire),
    slotsServed: r.slotsServed ?? 0,
  };
}

/** `slotsServed`: how many slots the group served when it read (0 inside a transaction, see deleteResultToWire). */
export function rangeResultToWire(
  r: RangeResult,
  header: wire.RangeResponse['header'],
  slotsServed = 0,
): wire.RangeResponse {
  return { header, kvs: r.kvs.map(keyValueToWire), more: r.more, count: r.count, slotsServed };
}

export function txnOpResultToWire(r: TxnOpResult, header: wire.PutResponse['header']): wire.ResponseOp {
  switch (r.kind) {
    case 'put':
      return { response: { $case: 'put', put: putResultToWire(r, header) } };
    case 'delete':
      return { response: { $case: 'delete', delete: deleteResultToWire(r, header) } };
    case 'range':
      return { response: { $case: 'range', range: rangeResultToWire(r, header) } };
  }
}
