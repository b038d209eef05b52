// Request validation, run by the member that proposes a command (and by the read path) before anything reaches the
// log. Each function returns undefined when the input is acceptable, or a message naming the rule or the limit
// broken, fit to return to the client as INVALID_ARGUMENT.

import { compareBytes } from './bytes.js';
import type { KvLimits } from './limits.js';
import type { Command, Compare, KeyRange, RangeOptions, SessionRef, TxnOp, TxnRequest } from './types.js';

const UTF8 = new TextEncoder();

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

export function validateKey(key: Uint8Array, limits: KvLimits, what = 'key'): string | undefined {
  if (key.length === 0) return `${what} is empty`;
  if (key.length > limits.maxKeyBytes) {
    return `${what} is ${key.length} bytes, over the ${limits.maxKeyBytes}-byte limit (maxKeyBytes)`;
  }
  return undefined;
}

export function validateValue(value: Uint8Array, limits: KvLimits): string | undefined {
  if (value.length > limits.maxValueBytes) {
    return `value is ${value.length} bytes, over the ${limits.maxValueBytes}-byte limit (maxValueBytes)`;
  }
  return undefined;
}

export function validateKeyRange(range: KeyRange, limits: KvLimits): string | undefined {
  switch (range.kind) {
    case 'key':
      return validateKey(range.key, limits);
    case 'prefix':
      // An empty prefix is allowed: it means every key.
      return range.prefix.length === 0 ? undefined : validateKey(range.prefix, limits, 'prefix');
    case 'interval': {
      if (range.start.length > 0) {
        const problem = validateKey(range.start, limits, 'range start');
        if (problem !== undefined) return problem;
      }
      if (range.end === undefined) return undefined;
      const problem = validateKey(range.end, limits, 'range end');
      if (problem !== undefined) return problem;
      if (compareBytes(range.start, range.end) >= 0) return 'range end must be greater than range start';
      return undefined;
    }
  }
}

export function validateRangeOptions(options: RangeOptions, limits: KvLimits): string | undefined {
  if (!isCount(options.limit)) return `range limit ${options.limit} is not a non-negative integer`;
  if (options.limit > limits.maxRangeLimit) {
    return `range limit ${options.limit} is over the ${limits.maxRangeLimit} limit (maxRangeLimit)`;
  }
  if (options.keysOnly && options.countOnly) return 'keysOnly and countOnly are mutually exclusive';
  return undefined;
}

/** A client's limit 0 ("as many as allowed") made explicit, so no read or cached result is unbounded. */
export function withDefaultRangeLimit(options: RangeOptions, limits: KvLimits): RangeOptions {
  return options.limit === 0 ? { ...options, limit: limits.maxRangeLimit } : options;
}

export function validateRangeRequest(
  range: KeyRange,
  options: RangeOptions,
  limits: KvLimits,
): string | undefined {
  return validateKeyRange(range, limits) ?? validateRangeOptions(options, limits);
}

function validateCompare(compare: Compare, limits: KvLimits): string | undefined {
  const problem = validateKey(compare.key, limits, 'compare key');
  if (problem !== undefined) return problem;
  const target = compare.target;
  switch (target.kind) {
    case 'value':
      return validateValue(target.value, limits);
    case 'modRevision':
    case 'createRevision':
      return isCount(target.revision)
        ? undefined
        : `compare ${target.kind} ${target.revision} is not a revision`;
    case 'version':
      return isCount(target.version) ? undefined : `compare version ${target.version} is not a version`;
    case 'exists':
      return compare.operator === 'equal' || compare.operator === 'notEqual'
        ? undefined
        : `compare on existence supports only equal and notEqual, not ${compare.operator}`;
  }
}

function validateTxnOp(op: TxnOp, limits: KvLimits): string | undefined {
  switch (op.kind) {
    case 'put':
      return validateKey(op.key, limits) ?? validateValue(op.value, limits);
    case 'delete':
      return validateKeyRange(op.range, limits);
    case 'range': {
      const problem = validateRangeRequest(op.range, op.options, limits);
      if (problem !== undefined) return problem;
      // The result of a transaction is cached in the session table: it must be bounded.
      if (op.options.limit === 0 && !op.options.countOnly) {
        return 'a range inside a transaction needs an explicit limit (see withDefaultRangeLimit)';
      }
      return undefined;
    }
  }
}

function validateTxn(txn: TxnRequest, limits: KvLimits): string | undefined {
  for (const [name, list] of [
    ['compare', txn.compare],
    ['success', txn.success],
    ['failure', txn.failure],
  ] as const) {
    if (list.length > limits.maxTxnOps) {
      return `txn has ${list.length} ${name} entries, over the ${limits.maxTxnOps} limit (maxTxnOps)`;
    }
  }
  for (const [i, compare] of txn.compare.entries()) {
    const problem = validateCompare(compare, limits);
    if (problem !== undefined) return `txn compare ${i}: ${problem}`;
  }
  for (const [name, ops] of [
    ['success', txn.success],
    ['failure', txn.failure],
  ] as const) {
    for (const [i, op] of ops.entries()) {
      const problem = validateTxnOp(op, limits);
      if (problem !== undefined) return `txn ${name} op ${i}: ${problem}`;
    }
  }
  return undefined;
}

function validateSession(session: SessionRef, limits: KvLimits): string | undefined {
  const idBytes = UTF8.encode(session.clientId).length;
  if (idBytes === 0) return 'client id is empty';
  if (idBytes > limits.maxClientIdBytes) {
    return `client id is ${idBytes} bytes, over the ${limits.maxClientIdBytes}-byte limit (maxClientIdBytes)`;
  }
  if (!Number.isSafeInteger(session.sequence) || session.sequence < 1) {
    return `sequence ${session.sequence} is not a positive integer`;
  }
  return undefined;
}

/** Everything a command must satisfy before it is proposed. */
export function validateCommand(command: Command, limits: KvLimits): string | undefined {
  if (!isCount(command.timestampMs)) return `timestamp ${command.timestampMs} is not a non-negative integer`;
  if (command.session !== undefined) {
    const problem = validateSession(command.session, limits);
    if (problem !== undefined) return problem;
  }
  const op = command.op;
  switch (op.kind) {
    case 'put':
      return validateKey(op.key, limits) ?? validateValue(op.value, limits);
    case 'delete':
      return validateKeyRange(op.range, limits);
    case 'txn':
      return validateTxn(op, limits);
    case 'moveSlots':
      return undefined; // judged where it applies (SlotOwnership.apply), which refuses it without a change
    case 'setDataFormat':
      return undefined; // judged where it applies (KvStateMachine), which refuses it without a change
    case 'ingest':
      for (const [i, kv] of op.kvs.entries()) {
        const problem = validateKey(kv.key, limits) ?? validateValue(kv.value, limits);
        if (problem !== undefined) return `ingested key ${i}: ${problem}`;
      }
      return undefined;
  }
}
