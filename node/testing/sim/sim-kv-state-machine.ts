// The simulator's replicated key-value state machine: a small stand-in for node/src/kv/state-machine.ts (the
// one the node runs) that speaks the operations of the linearizability checker's model (lincheck/kv-model.ts):
// put, get, delete and compare-and-set over string keys, commands as JSON. Commands carry a unique request id;
// the machine remembers applied ids so that a command applied twice is detected (it would mean the log repeated
// a client's request, which the simulation treats as a bug) and never changes the state twice.
import type { KvInput, KvOutput } from '../lincheck/kv-model.js';

export type WriteInput = Exclude<KvInput, { op: 'get' }>;

/** One client write as stored in a log entry. */
export interface KvCommand {
  /** Unique per client operation in the whole history. */
  readonly req: string;
  readonly client: number;
  readonly input: WriteInput;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(cmd: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(cmd));
}

export class CommandFormatError extends Error {
  override readonly name = 'CommandFormatError';
}

/**
 * Entries travel between members by reference in the simulation, so every member applies the same Uint8Array:
 * decoding each payload once saves most of the JSON work. Keyed weakly, so compacted entries are collected.
 */
const decoded = new WeakMap<Uint8Array, KvCommand>();

export function decodeCommand(data: Uint8Array): KvCommand {
  const cached = decoded.get(data);
  if (cached !== undefined) return cached;
  const cmd = parseCommand(data);
  decoded.set(data, cmd);
  return cmd;
}

function parseCommand(data: Uint8Array): KvCommand {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new CommandFormatError(`entry is not JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null) throw new CommandFormatError('command is not an object');
  const { req, client, input } = parsed as Record<string, unknown>;
  if (typeof req !== 'string' || typeof client !== 'number' || typeof input !== 'object' || input === null) {
    throw new CommandFormatError('command lacks req, client or input');
  }
  const op = (input as Record<string, unknown>)['op'];
  if (op !== 'put' && op !== 'delete' && op !== 'cas')
    throw new CommandFormatError(`unknown write op ${String(op)}`);
  return { req, client, input: input as WriteInput };
}

export type ApplyResult =
  { readonly kind: 'applied'; readonly output: KvOutput } | { readonly kind: 'duplicate' };

interface SnapshotShape {
  readonly kv: [string, string][];
  readonly reqs: string[];
}

export class SimKvStateMachine {
  private readonly kv = new Map<string, string>();
  private readonly appliedRequests = new Set<string>();

  apply(cmd: KvCommand): ApplyResult {
    if (this.appliedRequests.has(cmd.req)) return { kind: 'duplicate' };
    this.appliedRequests.add(cmd.req);
    const input = cmd.input;
    const current = this.kv.get(input.key) ?? null;
    switch (input.op) {
      case 'put':
        this.kv.set(input.key, input.value);
        return { kind: 'applied', output: { op: 'put' } };
      case 'delete':
        this.kv.delete(input.key);
        return { kind: 'applied', output: { op: 'delete', deleted: current !== null } };
      case 'cas': {
        const succeeded = current === input.expected;
        if (succeeded) this.kv.set(input.key, input.value);
        return { kind: 'applied', output: { op: 'cas', succeeded } };
      }
    }
  }

  get(key: string): string | null {
    return this.kv.get(key) ?? null;
  }

  /**
   * Equal states give equal bytes, so snapshots can be compared across members: every member applies the same
   * commands in the same order, and a restored member inserts in the order the snapshot lists, so the insertion
   * order of both collections is the same everywhere (no sorting needed).
   */
  snapshot(): Uint8Array {
    const shape: SnapshotShape = { kv: [...this.kv], reqs: [...this.appliedRequests] };
    return encoder.encode(JSON.stringify(shape));
  }

  /** Replaces the state with a snapshot's; an empty snapshot (a new cluster's) is the empty state. */
  restore(data: Uint8Array): void {
    this.kv.clear();
    this.appliedRequests.clear();
    if (data.byteLength === 0) return;
    const shape = JSON.parse(decoder.decode(data)) as SnapshotShape;
    if (!Array.isArray(shape.kv) || !Array.isArray(shape.reqs))
      throw new CommandFormatError('malformed snapshot');
    for (const [k, v] of shape.kv) this.kv.set(k, v);
    for (const r of shape.reqs) this.appliedRequests.add(r);
  }
}
