// Generates key-value histories that are linearizable by construction: operations are executed one at a time
// against a reference map at strictly increasing "linearization points", and each is then given a random
// call/return window that contains its point. Concurrent clients make the windows overlap. Some operations time
// out: their outcome is dropped, and half of those are never applied at all. Used by the property tests and the
// benchmark; corrupting one output of such a history is how the tests make bad histories.
import type { Operation } from './history.js';
import type { KvInput, KvOutput } from './kv-model.js';
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

export type KvOperation = Operation<KvInput, KvOutput>;

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
