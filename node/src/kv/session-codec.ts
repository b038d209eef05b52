// Binary encoding of the session table's entries (sessions.ts): a snapshot carries the whole table, an import batch
// the source group's. Same conventions as command-codec.ts.
//
//   sessions: u32 n, (string clientId, u64 lastSequence, u64 lastSeenMs, u32 m, (u64 sequence, result)*m)*n
//   (result as in result-codec.ts)

import { KvCodecError, type ByteReader, type ByteWriter } from './binary.js';
import { readResult, writeResult } from './result-codec.js';
import type { CommandResult, Session } from './types.js';

const MIN_SESSION_BYTES = 4 + 8 + 8 + 4;
const MIN_CACHED_RESULT_BYTES = 8 + 1;

/** Sessions in the order given (a snapshot: the table's, least recently used first). */
export function writeSessions(w: ByteWriter, sessions: Iterable<Session>): void {
  const list = [...sessions];
  w.u32(list.length);
  for (const session of list) {
    w.string(session.clientId).u64(session.lastSequence).u64(session.lastSeenMs).u32(session.results.size);
    for (const [sequence, result] of session.results) {
      w.u64(sequence);
      writeResult(w, result);
    }
  }
}

/** Reads `writeSessions` output; `clockMs`, when given, is a time no session may have been seen after. */
export function readSessions(r: ByteReader, clockMs?: number): Session[] {
  const sessionCount = r.count('session count', MIN_SESSION_BYTES);
  const sessions: Session[] = [];
  for (let i = 0; i < sessionCount; i++) {
    const clientId = r.string('client id');
    const lastSequence = r.u64('last sequence');
    const lastSeenMs = r.u64('last seen');
    if (clockMs !== undefined && lastSeenMs > clockMs) {
      throw new KvCodecError(`session '${clientId}' seen after the snapshot's clock`);
    }
    const resultCount = r.count('cached result count', MIN_CACHED_RESULT_BYTES);
    const results = new Map<number, CommandResult>();
    for (let j = 0; j < resultCount; j++) results.set(r.u64('cached sequence'), readResult(r));
    sessions.push({ clientId, lastSequence, lastSeenMs, results });
  }
  return sessions;
}
