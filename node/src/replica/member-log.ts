// Where a member's in-memory log and state machine come from when it starts: a new group's bootstrap snapshot, or
// what its durable storage recovered. One home for both, used by the node process and by the simulation, so the
// simulated members start exactly as real ones do.
import { MemoryStorage } from '../raft/memory-storage.js';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import type { MemberInfo } from './member-directory.js';
import { decodeSnapshotEnvelope, encodeSnapshotEnvelope } from './snapshot-envelope.js';

/** What durable storage hands back after a restart (storage/raft-disk-storage.ts RecoveredState). */
export interface RecoveredLog {
  readonly hardState?: HardState;
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
}

export interface RestoredLog<M> {
  readonly memory: MemoryStorage;
  /** The state machine restored from the snapshot; undefined when the member has none yet (a new learner). */
  readonly machine: M | undefined;
  /** The member directory the snapshot carried. */
  readonly members: readonly MemberInfo[];
}

/**
 * A new group's first log: a snapshot at index 1 holding the founders as voters, their addresses and the empty
 * state machine's bytes. The caller makes it durable (storage.append(hardState, [], snapshot)) before starting.
 */
export function bootstrapLog(founders: readonly MemberInfo[], emptyMachine: Uint8Array): MemoryStorage {
  const envelope = encodeSnapshotEnvelope({ members: founders, machine: emptyMachine });
  return MemoryStorage.bootstrap(
    founders.map((m) => m.id),
    envelope,
  );
}

/** Rebuilds the in-memory log (snapshot, entries, hard state) and the state machine from a recovered log. */
export function restoreLog<M>(
  recovered: RecoveredLog,
  restoreMachine: (bytes: Uint8Array) => M,
): RestoredLog<M> {
  const memory = new MemoryStorage();
  let machine: M | undefined;
  let members: readonly MemberInfo[] = [];
  if (recovered.snapshot) {
    memory.applySnapshot(recovered.snapshot);
    const envelope = decodeSnapshotEnvelope(recovered.snapshot.data);
    machine = restoreMachine(envelope.machine);
    members = envelope.members;
  }
  memory.append(recovered.entries);
  if (recovered.hardState) memory.setHardState(recovered.hardState);
  return { memory, machine, members };
}
