// The sequential specification of our key-value store: a map from string keys to string values with put, get,
// delete and compare-and-set. The state is an immutable map, so the model is also correct on a history that is not
// partitioned by key (the tests rely on this to compare partitioned and whole-history checks).
import { hashString } from './hash.js';
import type { Operation } from './history.js';
import type { Model } from './model.js';
import { prunableKv } from './kv-prune.js';
import type { KvInput, KvOutput } from './kv-types.js';
import { precheckKv } from './precheck.js';

export type { KvInput, KvOutput } from './kv-types.js';

export type KvState = ReadonlyMap<string, string>;

const EMPTY: KvState = new Map();

function withValue(state: KvState, key: string, value: string): KvState {
  if (state.get(key) === value) return state;
  const next = new Map(state);
  next.set(key, value);
  return next;
}

function without(state: KvState, key: string): KvState {
  if (!state.has(key)) return state;
  const next = new Map(state);
  next.delete(key);
  return next;
}

function step(state: KvState, input: KvInput, output: KvOutput | undefined): { ok: boolean; state: KvState } {
  // An output for a different operation kind can never be explained by any order.
  if (output !== undefined && output.op !== input.op) return { ok: false, state };
  const current = state.get(input.key) ?? null;
  switch (input.op) {
    case 'put':
      return { ok: true, state: withValue(state, input.key, input.value) };
    case 'get':
      return { ok: output === undefined || (output.op === 'get' && output.value === current), state };
    case 'delete': {
      const ok = output === undefined || (output.op === 'delete' && output.deleted === (current !== null));
      return { ok, state: without(state, input.key) };
    }
    case 'cas': {
      // With an unknown outcome the model is still deterministic: at this point in the order the cas succeeds
      // exactly when the value matches. "Never applied" is covered by ordering it after everything else.
      const succeeds = current === input.expected;
      const ok = output === undefined || (output.op === 'cas' && output.succeeded === succeeds);
      return { ok, state: succeeds ? withValue(state, input.key, input.value) : state };
    }
  }
}

function partition(ops: readonly Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[][] {
  const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of ops) {
    const part = byKey.get(op.input.key);
    if (part === undefined) byKey.set(op.input.key, [op]);
    else part.push(op);
  }
  return [...byKey.values()];
}

/**
 * Every comparison the model makes is against a value some operation observes (a read's result, a cas's
 * expectation) or against absence; two values nobody observes behave identically. Merging them all into one
 * value keeps the verdict and lets the search merge states, and makes timed-out writes of unobserved values
 * interchangeable (wgl.ts linearizes interchangeable ones in call order only).
 */
function canonicalize(ops: readonly Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[] {
  const observed = new Set<string>();
  for (const op of ops) {
    if (op.output?.op === 'get' && op.output.value !== null)
      observed.add(`${op.input.key}\0${op.output.value}`);
    if (op.input.op === 'cas' && op.input.expected !== null)
      observed.add(`${op.input.key}\0${op.input.expected}`);
  }
  const unobserved = new Map<string, string>();
  /** A value for `key` distinct from every observed one. */
  const placeholder = (key: string): string => {
    let value = unobserved.get(key);
    if (value === undefined) {
      value = '<unobserved>';
      while (observed.has(`${key}\0${value}`)) value += '\0';
      unobserved.set(key, value);
    }
    return value;
  };
  return ops.map((op) => {
    const input = op.input;
    if ((input.op !== 'put' && input.op !== 'cas') || observed.has(`${input.key}\0${input.value}`)) return op;
    return { ...op, input: { ...input, value: placeholder(input.key) } };
  });
}

function equal(a: KvState, b: KvState): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [key, value] of a) {
    if (b.get(key) !== value) return false;
  }
  return true;
}

function hash(state: KvState): number {
  // XOR of per-entry hashes: independent of insertion order, as equal() is.
  let h = state.size;
  for (const [key, value] of state) h ^= hashString(value, hashString(key));
  return h >>> 0;
}

function show(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

function describe(input: KvInput, output: KvOutput | undefined): string {
  const key = JSON.stringify(input.key);
  let call: string;
  switch (input.op) {
    case 'put':
      call = `put(${key}, ${show(input.value)})`;
      break;
    case 'get':
      call = `get(${key})`;
      break;
    case 'delete':
      call = `delete(${key})`;
      break;
    case 'cas':
      call = `cas(${key}, ${show(input.expected)} -> ${show(input.value)})`;
      break;
  }
  if (output === undefined) return `${call} -> ? (unknown outcome)`;
  switch (output.op) {
    case 'put':
      return `${call} -> ok`;
    case 'get':
      return `${call} -> ${show(output.value)}`;
    case 'delete':
      return `${call} -> ${output.deleted ? 'deleted' : 'not found'}`;
    case 'cas':
      return `${call} -> ${output.succeeded ? 'succeeded' : 'failed'}`;
  }
}

/** The key-value model, partitioned by key. */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => EMPTY,
  step,
  // A cas known to have failed and a delete that found nothing leave the state as it was, wherever they fit.
  isReadOnly: (input, output) =>
    input.op === 'get' ||
    (output.op === 'cas' && !output.succeeded) ||
    (output.op === 'delete' && !output.deleted),
  partition,
  partitionKey: (ops) => ops[0]?.input.key ?? '',
  canonicalize,
  precheck: precheckKv,
  prune: prunableKv,
  // A put of its value can do whatever a cas can (and more); an unknown-outcome read does nothing.
  relax: (input) =>
    input.op === 'get'
      ? null
      : input.op === 'cas'
        ? { op: 'put', key: input.key, value: input.value }
        : input,
  equal,
  hash,
  describe,
};
