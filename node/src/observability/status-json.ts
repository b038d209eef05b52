// The Raft part of /status as plain JSON. RaftStatus holds a Map, which JSON.stringify silently turns into {}, so
// the progress table is converted explicitly into an object keyed by member id.

import type { ProgressStatus, RaftStatus, Role } from '../raft/types.js';

export interface RaftStatusJson {
  readonly id: string;
  readonly term: number;
  readonly vote: string;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly lastLogTerm: number;
  readonly leader: string;
  readonly role: Role;
  readonly leadTransferee: string;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  /** Only on the leader; empty elsewhere. */
  readonly progress: Readonly<Record<string, ProgressStatus>>;
}

export function raftStatusToJson(status: RaftStatus): RaftStatusJson {
  const progress: Record<string, ProgressStatus> = {};
  for (const [id, p] of status.progress) progress[id] = { ...p };
  return {
    id: status.id,
    term: status.term,
    vote: status.vote,
    commit: status.commit,
    applied: status.applied,
    lastIndex: status.lastIndex,
    lastLogTerm: status.lastLogTerm,
    leader: status.leader,
    role: status.role,
    leadTransferee: status.leadTransferee,
    voters: [...status.config.voters],
    learners: [...status.config.learners],
    progress,
  };
}
