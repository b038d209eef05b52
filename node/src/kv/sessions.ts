// The client session table that makes retries idempotent (Raft thesis §6.3, "Implementing linearizable semantics").
// Part of the replicated state: it changes only while applying commands, its clock is the leader's timestamp in
// each command (made monotonic by the state machine), and it is iterated in insertion order, so every replica holds
// the same table and a snapshot of it is byte-for-byte deterministic.
//
// Bounds: at most maxSessions sessions (the least recently used is evicted), at most maxResultsPerSession cached
// results per session (the oldest sequences are dropped). A client whose session expired or was evicted must start
// over with a new client id: its next request (sequence > 1) is refused as sessionUnknown rather than risk applying
// a retry twice.

import type { CommandResult, Session, SessionErrorResult, SessionRef } from './types.js';

export interface SessionConfig {
  /** A session expires once no command of its client has been applied for this long (leader time). */
  readonly ttlMs: number;
  readonly maxSessions: number;
  /** How many recent results a client may still retry; 1 suffices for a client with one request in flight. */
  readonly maxResultsPerSession: number;
}

/** Must be identical on every replica (they are part of the replicated state machine's definition). */
export const DEFAULT_SESSION_CONFIG: SessionConfig = {
  ttlMs: 15 * 60 * 1000,
  maxSessions: 10_000,
  maxResultsPerSession: 4,
};

interface MutableSession {
  readonly clientId: string;
  lastSequence: number;
  lastSeenMs: number;
  readonly results: Map<number, CommandResult>;
}

export type SessionCheck =
  /** A new request: apply it, then `record` its result. */
  | { readonly kind: 'apply' }
  /** A retry of an applied request: answer with its first result, do not apply. */
  | { readonly kind: 'duplicate'; readonly result: CommandResult }
  /** Refused without applying. */
  | { readonly kind: 'refused'; readonly result: SessionErrorResult };

export class SessionError extends Error {
  override readonly name = 'SessionError';
}

export function checkSessionConfig(config: SessionConfig): void {
  for (const [name, value] of Object.entries(config)) {
    if (!Number.isSafeInteger(value) || (value as number) < 1) {
      throw new SessionError(`session config ${name} must be a positive integer, got ${String(value)}`);
    }
  }
}

export class SessionTable {
  readonly #config: SessionConfig;
  /** Insertion order is least recently used first, which is also ascending lastSeenMs. */
  readonly #sessions = new Map<string, MutableSession>();

  constructor(config: SessionConfig) {
    checkSessionConfig(config);
    this.#config = config;
  }

  get size(): number {
    return this.#sessions.size;
  }

  check(ref: SessionRef): SessionCheck {
    const session = this.#sessions.get(ref.clientId);
    if (session === undefined) {
      if (ref.sequence === 1) return { kind: 'apply' };
      return {
        kind: 'refused',
        result: {
          kind: 'sessionError',
          code: 'sessionUnknown',
          message: `no session for client '${ref.clientId}' (expired or evicted); start again with a new client id`,
        },
      };
    }
    if (ref.sequence > session.lastSequence) return { kind: 'apply' };
    const cached = session.results.get(ref.sequence);
    if (cached !== undefined) return { kind: 'duplicate', result: cached };
    return {
      kind: 'refused',
      result: {
        kind: 'sessionError',
        code: 'resultEvicted',
        message:
          `client '${ref.clientId}' sequence ${ref.sequence} was already applied (last ${session.lastSequence}) ` +
          `but its result is no longer cached`,
      },
    };
  }

  /** Records the result of an applied request; `nowMs` must not go backwards between calls. */
  record(ref: SessionRef, result: CommandResult, nowMs: number): void {
    let session = this.#sessions.get(ref.clientId);
    if (session === undefined) {
      session = { clientId: ref.clientId, lastSequence: 0, lastSeenMs: nowMs, results: new Map() };
    } else {
      if (nowMs < session.lastSeenMs) {
        throw new SessionError(`session clock went backwards: ${nowMs} < ${session.lastSeenMs}`);
      }
      if (ref.sequence <= session.lastSequence) {
        throw new SessionError(
          `sequence ${ref.sequence} ≤ last ${session.lastSequence} for '${ref.clientId}'`,
        );
      }
      this.#sessions.delete(ref.clientId); // re-inserted below: moves to the most recently used end
    }
    session.lastSequence = ref.sequence;
    session.lastSeenMs = nowMs;
    session.results.set(ref.sequence, result);
    for (const sequence of session.results.keys()) {
      if (session.results.size <= this.#config.maxResultsPerSession) break;
      session.results.delete(sequence);
    }
    this.#sessions.set(ref.clientId, session);
    this.#evictOverflow();
  }

  /**
   * Takes in another group's session of the same client, when a slot moves here: the later of the two last
   * sequences and the newest cached results of both, so a retry of a request either group applied is answered from
   * the cache (or refused), never applied twice. The merged session counts as used at `nowMs`, this group's clock.
   */
  merge(incoming: Session, nowMs: number): void {
    const existing = this.#sessions.get(incoming.clientId);
    if (existing !== undefined) {
      if (nowMs < existing.lastSeenMs) {
        throw new SessionError(`session clock went backwards: ${nowMs} < ${existing.lastSeenMs}`);
      }
      this.#sessions.delete(incoming.clientId);
    }
    const results = new Map(
      [...(existing?.results ?? []), ...incoming.results]
        .sort(([a], [b]) => a - b)
        .slice(-this.#config.maxResultsPerSession),
    );
    this.#sessions.set(incoming.clientId, {
      clientId: incoming.clientId,
      lastSequence: Math.max(existing?.lastSequence ?? 0, incoming.lastSequence),
      lastSeenMs: nowMs,
      results,
    });
    this.#evictOverflow();
  }

  #evictOverflow(): void {
    for (const clientId of this.#sessions.keys()) {
      if (this.#sessions.size <= this.#config.maxSessions) break;
      this.#sessions.delete(clientId);
    }
  }

  /** Drops sessions idle for at least ttlMs at time nowMs; returns how many. O(expired). */
  expire(nowMs: number): number {
    let expired = 0;
    for (const [clientId, session] of this.#sessions) {
      if (nowMs - session.lastSeenMs < this.#config.ttlMs) break; // the rest are younger
      this.#sessions.delete(clientId);
      expired++;
    }
    return expired;
  }

  /** Sessions least recently used first: the order a snapshot stores and a restore must reproduce. */
  *sessions(): Generator<Session> {
    yield* this.#sessions.values();
  }

  /** Rebuilds a table from `sessions()` output, checking the ordering invariants a snapshot must preserve. */
  static restore(config: SessionConfig, sessions: Iterable<Session>): SessionTable {
    const table = new SessionTable(config);
    let previousSeenMs = 0;
    for (const session of sessions) {
      if (table.#sessions.has(session.clientId)) {
        throw new SessionError(`duplicate session for client '${session.clientId}'`);
      }
      if (session.lastSeenMs < previousSeenMs) {
        throw new SessionError(`sessions out of order at client '${session.clientId}'`);
      }
      let previousSequence = 0;
      for (const sequence of session.results.keys()) {
        if (sequence <= previousSequence || sequence > session.lastSequence) {
          throw new SessionError(`client '${session.clientId}': cached sequence ${sequence} out of order`);
        }
        previousSequence = sequence;
      }
      previousSeenMs = session.lastSeenMs;
      table.#sessions.set(session.clientId, {
        clientId: session.clientId,
        lastSequence: session.lastSequence,
        lastSeenMs: session.lastSeenMs,
        results: new Map(session.results),
      });
    }
    return table;
  }
}
