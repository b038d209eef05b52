// Generates key-value histories that are linearizable by construction: operations are executed one at a time
// against a reference map at strictly increasing "linearization points", and each is then given a random
// call/return window that contains its point. Concurrent clients make the windows overlap. Some operations time
// out: their outcome is dropped, and half of those are never applied at all. Used by the property tests and the
// benchmark; corrupting one output of such a history is how the tests make bad histories (corruptRead,
// plantStaleRead below).
import { effectiveReturn } from './history.js';
import type { KvInput, KvOperation, KvOutput } from './kv-types.js';
import { randomInt, type Random } from '../../src/random/prng.js';

export interface GenerateOptions {
  readonly operations: number;
  readonly keys: number;
  /** Each client has at most one operation outstanding, except that a timed-out one may still apply later. */
  readonly clients: number;
  /** Fraction of operations whose outcome is unknown (0..1). */
  readonly unknownRate: number;
  /** Upper bound of call-to-point and point-to-return delays, in time units. */
  readonly maxLatency: number;
  readonly random: Random;
}

export type { KvOperation } from './kv-types.js';

export function generateKvHistory(options: GenerateOptions): KvOperation[] {
  const { operations, keys, clients, unknownRate, maxLatency, random } = options;
  if (!(
    operations >= 0 &&
    keys >= 1 &&
    clients >= 1 &&
    maxLatency >= 0 &&
    unknownRate >= 0 &&
    unknownRate <= 1
  )) {
    throw new RangeError(
      `generateKvHistory: invalid options ${JSON.stringify({ ...options, random: undefined })}`,
    );
  }
  const map = new Map<string, string>();
  const clientFreeAt = new Array<number>(clients).fill(0);
  const history: KvOperation[] = [];
  let point = 0;
  for (let i = 0; i < operations; i++) {
    const client = randomInt(random, 0, clients - 1);
    // Points are strictly increasing and never before the client is free to call again.
    point = Math.max(point + 1 + randomInt(random, 0, 2), clientFreeAt[client]!);
    const call = randomInt(random, Math.max(clientFreeAt[client]!, point - maxLatency), point);
    const key = `k${randomInt(random, 0, keys - 1)}`;
    const input = randomInput(random, key, `v${i}`, map.get(key) ?? null);
    const unknown = random() < unknownRate;
    if (unknown && random() < 0.5) {
      // Timed out and never applied.
      history.push({ client, input, call });
      clientFreeAt[client] = call + 1 + randomInt(random, 0, maxLatency);
      continue;
    }
    const output = apply(map, input);
    if (unknown) {
      history.push({ client, input, call });
      // The client gives up, possibly before the operation is applied: its next call may precede this point.
      clientFreeAt[client] = call + 1 + randomInt(random, 0, maxLatency);
    } else {
      const ret = point + randomInt(random, 0, maxLatency);
      history.push({ client, input, call, output, return: ret });
      clientFreeAt[client] = ret + 1;
    }
  }
  return history;
}

function randomInput(random: Random, key: string, fresh: string, current: string | null): KvInput {
  const dice = random();
  if (dice < 0.4) return { op: 'get', key };
  if (dice < 0.7) return { op: 'put', key, value: fresh };
  if (dice < 0.85) return { op: 'delete', key };
  // Half the time the expectation is right, so that both cas outcomes occur.
  const expected = random() < 0.5 ? current : random() < 0.5 ? null : `v${randomInt(random, 0, 1000)}`;
  return { op: 'cas', key, expected, value: fresh };
}

function apply(map: Map<string, string>, input: KvInput): KvOutput {
  const current = map.get(input.key) ?? null;
  switch (input.op) {
    case 'put':
      map.set(input.key, input.value);
      return { op: 'put' };
    case 'get':
      return { op: 'get', value: current };
    case 'delete':
      return { op: 'delete', deleted: map.delete(input.key) };
    case 'cas':
      if (current !== input.expected) return { op: 'cas', succeeded: false };
      map.set(input.key, input.value);
      return { op: 'cas', succeeded: true };
  }
}

/** The history with the read at `index` (a completed get) now returning `value`. */
export function corruptRead(
  history: readonly KvOperation[],
  index: number,
  value: string | null,
): KvOperation[] {
  const op = history[index];
  if (op?.output?.op !== 'get') throw new RangeError(`operation #${index} is not a completed read`);
  return history.map((other, i) => (i === index ? { ...op, output: { op: 'get' as const, value } } : other));
}

export interface StaleRead {
  readonly history: KvOperation[];
  /** Indices into `history`: the read made stale, the put whose value it now returns, the write in between. */
  readonly read: number;
  readonly write: number;
  readonly overwrite: number;
}

/**
 * Plants a stale read in a history from generateKvHistory: the last completed read for which it is possible now
 * returns the value of a completed put that was followed, strictly in real time and before the read was called, by
 * a completed write of something else (a put, a delete, a cas that succeeded). Nothing else ever writes that value,
 * so the three operations alone are not linearizable, and none of the three can be left out (relax the put and it
 * may take effect after the overwrite; relax either other and it may not have happened). The latest such pair is
 * chosen, so that the three are close together. Undefined when the history has no such read.
 */
export function plantStaleRead(history: readonly KvOperation[]): StaleRead | undefined {
  const writers = new Map<string, number>();
  const valueKey = (input: KvInput): string | undefined =>
    input.op === 'put' || input.op === 'cas' ? `${input.key}\0${input.value}` : undefined;
  for (const op of history) {
    const key = valueKey(op.input);
    if (key !== undefined) writers.set(key, (writers.get(key) ?? 0) + 1);
  }
  const overwrites = (op: KvOperation): boolean =>
    op.output !== undefined &&
    (op.input.op === 'put' || op.input.op === 'delete' || (op.output.op === 'cas' && op.output.succeeded));
  const soleWriter = (op: KvOperation): boolean =>
    op.input.op === 'put' && op.output !== undefined && writers.get(valueKey(op.input)!) === 1;
  /** The operation of `key` satisfying `accept` with the latest call, returning strictly before `time`. */
  const latest = (key: string, time: number, accept: (op: KvOperation) => boolean): number => {
    let found = -1;
    history.forEach((op, i) => {
      if (op.input.key !== key || !accept(op) || !(effectiveReturn(op) < time)) return;
      if (found === -1 || op.call > history[found]!.call) found = i;
    });
    return found;
  };
  for (let read = history.length - 1; read >= 0; read--) {
    const r = history[read]!;
    if (r.output?.op !== 'get') continue;
    // The latest overwrite leaves the most room for a put before it.
    const overwrite = latest(r.input.key, r.call, overwrites);
    if (overwrite === -1) continue;
    const write = latest(r.input.key, history[overwrite]!.call, soleWriter);
    const input = history[write]?.input;
    if (input?.op !== 'put') continue;
    return { history: corruptRead(history, read, input.value), read, write, overwrite };
  }
  return undefined;
}
