// The JSON form of a transaction for `raftctl txn FILE|-`:
// {
//   "compare": [{ "key": "k", "target": "value" | "version" | "modRevision" | "createRevision" | "exists",
//                 "op": "=" | "!=" | "<" | ">", "value": "v" | 3 | true }],
//   "success": [{ "put": { "key": "k", "value": "v" } } | { "delete": { "key": "k" } | { "prefix": "p/" } }
//               | { "get": { "key": "k" } | { "prefix": "p/" } }],
//   "failure": [ …same as success… ]
// }
import {
  Compare_Operator,
  type Compare,
  type KeyRange,
  type RequestOp,
  type TxnRequest,
} from '../../shared/api/generated/raftstore/v1/kv.js';
import { UsageError } from './raftctl-args.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const OPS: Record<string, Compare_Operator> = {
  '=': Compare_Operator.OPERATOR_EQUAL,
  '!=': Compare_Operator.OPERATOR_NOT_EQUAL,
  '<': Compare_Operator.OPERATOR_LESS,
  '>': Compare_Operator.OPERATOR_GREATER,
};

type Json = Record<string, unknown>;

function obj(v: unknown, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new UsageError(`${where} must be an object`);
  return v as Json;
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string') throw new UsageError(`${where} must be a string`);
  return v;
}

function range(v: unknown, where: string): KeyRange {
  const o = obj(v, where);
  if (typeof o.key === 'string') return { kind: { $case: 'key', key: enc(o.key) } };
  if (typeof o.prefix === 'string') return { kind: { $case: 'prefix', prefix: enc(o.prefix) } };
  throw new UsageError(`${where} needs "key" or "prefix"`);
}

function compare(v: unknown, i: number): Compare {
  const where = `compare[${i}]`;
  const o = obj(v, where);
  const operator = OPS[str(o.op, `${where}.op`)];
  if (operator === undefined) throw new UsageError(`${where}.op must be one of = != < >`);
  const key = enc(str(o.key, `${where}.key`));
  const num = (x: unknown): number => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      throw new UsageError(`${where}.value must be a non-negative integer`);
    return x;
  };
  switch (o.target) {
    case 'value':
      return { key, operator, target: { $case: 'value', value: enc(str(o.value, `${where}.value`)) } };
    case 'version':
      return { key, operator, target: { $case: 'version', version: num(o.value) } };
    case 'modRevision':
      return { key, operator, target: { $case: 'modRevision', modRevision: num(o.value) } };
    case 'createRevision':
      return { key, operator, target: { $case: 'createRevision', createRevision: num(o.value) } };
    case 'exists':
      if (typeof o.value !== 'boolean') throw new UsageError(`${where}.value must be true or false`);
      return { key, operator, target: { $case: 'exists', exists: o.value } };
    default:
      throw new UsageError(`${where}.target must be value, version, modRevision, createRevision or exists`);
  }
}

function op(v: unknown, where: string): RequestOp {
  const o = obj(v, where);
  if (o.put !== undefined) {
    const p = obj(o.put, `${where}.put`);
    return {
      op: {
        $case: 'put',
        put: {
          key: enc(str(p.key, `${where}.put.key`)),
          value: enc(str(p.value, `${where}.put.value`)),
          prevKv: false,
        },
      },
    };
  }
  if (o.delete !== undefined)
    return { op: { $case: 'delete', delete: { range: range(o.delete, `${where}.delete`), prevKv: false } } };
  if (o.get !== undefined) {
    return {
      op: {
        $case: 'range',
        range: { range: range(o.get, `${where}.get`), limit: 0, keysOnly: false, countOnly: false },
      },
    };
  }
  throw new UsageError(`${where} needs one of put, delete, get`);
}

function list(v: unknown, where: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new UsageError(`${where} must be an array`);
  return v;
}

export function parseTxnSpec(text: string, shardId: number | undefined): Omit<TxnRequest, 'header'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`the transaction is not valid JSON: ${(err as Error).message}`);
  }
  const o = obj(parsed, 'the transaction');
  return {
    shardId,
    compare: list(o.compare, 'compare').map(compare),
    success: list(o.success, 'success').map((x, i) => op(x, `success[${i}]`)),
    failure: list(o.failure, 'failure').map((x, i) => op(x, `failure[${i}]`)),
  };
}
