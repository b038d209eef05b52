// Decodes key-value inputs and outputs from a JSON Lines history (history.ts), checking every field, so that a
// malformed file is reported with its line number instead of confusing the checker.
//
//   input:  {"op":"put","key":K,"value":V} | {"op":"get","key":K} | {"op":"delete","key":K}
//           | {"op":"cas","key":K,"expected":V|null,"value":V}            (K, V strings; null = must be absent)
//   output: {"op":"put"} | {"op":"get","value":V|null} | {"op":"delete","deleted":B} | {"op":"cas","succeeded":B}
import type { HistoryCodec } from './history.js';
import type { KvInput, KvOutput } from './kv-model.js';

function record(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new Error('expected a JSON object');
  return raw as Record<string, unknown>;
}

function string(fields: Record<string, unknown>, name: string): string {
  const value = fields[name];
  if (typeof value !== 'string') throw new Error(`"${name}" must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function stringOrNull(fields: Record<string, unknown>, name: string): string | null {
  const value = fields[name];
  if (value !== null && typeof value !== 'string') {
    throw new Error(`"${name}" must be a string or null, got ${JSON.stringify(value)}`);
  }
  return value;
}

function boolean(fields: Record<string, unknown>, name: string): boolean {
  const value = fields[name];
  if (typeof value !== 'boolean')
    throw new Error(`"${name}" must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function decodeInput(raw: unknown): KvInput {
  const fields = record(raw);
  const key = string(fields, 'key');
  switch (fields['op']) {
    case 'put':
      return { op: 'put', key, value: string(fields, 'value') };
    case 'get':
      return { op: 'get', key };
    case 'delete':
      return { op: 'delete', key };
    case 'cas':
      return { op: 'cas', key, expected: stringOrNull(fields, 'expected'), value: string(fields, 'value') };
    default:
      throw new Error(`"op" must be put, get, delete or cas, got ${JSON.stringify(fields['op'])}`);
  }
}

function decodeOutput(raw: unknown, input: KvInput): KvOutput {
  const fields = record(raw);
  if (fields['op'] !== input.op) {
    throw new Error(`"op" ${JSON.stringify(fields['op'])} does not match the input's "${input.op}"`);
  }
  switch (input.op) {
    case 'put':
      return { op: 'put' };
    case 'get':
      return { op: 'get', value: stringOrNull(fields, 'value') };
    case 'delete':
      return { op: 'delete', deleted: boolean(fields, 'deleted') };
    case 'cas':
      return { op: 'cas', succeeded: boolean(fields, 'succeeded') };
  }
}

export const kvCodec: HistoryCodec<KvInput, KvOutput> = { input: decodeInput, output: decodeOutput };
