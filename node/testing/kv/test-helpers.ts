// Builders shared by the kv tests: commands read close to how a client would write them.

import type { Command, KeyRange, Operation, SessionRef, TxnOp } from '../../src/kv/types.js';

export const b = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export const put = (key: string, value: string, prevKv = false): Operation & TxnOp => ({
  kind: 'put',
  key: b(key),
  value: b(value),
  prevKv,
});

export const del = (range: KeyRange, prevKv = false): Operation & TxnOp => ({
  kind: 'delete',
  range,
  prevKv,
});

export const key = (k: string): KeyRange => ({ kind: 'key', key: b(k) });
export const prefix = (p: string): KeyRange => ({ kind: 'prefix', prefix: b(p) });
export const interval = (start: string, end?: string): KeyRange =>
  end === undefined
    ? { kind: 'interval', start: b(start) }
    : { kind: 'interval', start: b(start), end: b(end) };

export const command = (op: Operation, timestampMs = 0, session?: SessionRef): Command =>
  session === undefined ? { timestampMs, op } : { timestampMs, op, session };
