// A compact, exact identity for an entry's payload, so checkers compare entries by value without keeping copies of
// every Uint8Array. latin1 maps each byte to one char, so distinct payloads give distinct strings.
import type { Entry } from '../../../src/raft/index.js';

export function entryKey(entry: Pick<Entry, 'type' | 'data'>): string {
  const d = entry.data;
  return (
    (entry.type === 'normal' ? 'n:' : 'c:') +
    Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1')
  );
}

/** A short human-readable form for violation messages. */
export function showEntry(index: number, term: number, key: string): string {
  const body = key.length > 60 ? key.slice(0, 57) + '...' : key;
  return `${index}@${term} ${body === 'n:' ? '(no-op)' : body}`;
}
