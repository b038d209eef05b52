// Who the members of this Raft group are and where to reach them. Founding members come from the
// --initial-members flag; members added later are learned from their conf-change entries, whose context carries
// this JSON, so every member (and every restart, replaying the log) learns the same addresses.
import type { ConfChange, NodeId } from '../raft/types.js';

export interface MemberInfo {
  /** Raft id: unique per incarnation of a member. */
  readonly id: NodeId;
  /** The member's name (pod name in Kubernetes). */
  readonly name: string;
  readonly peerAddress: string;
  readonly clientAddress: string;
}

export class MemberDirectory {
  private readonly members = new Map<NodeId, MemberInfo>();

  constructor(initial: readonly MemberInfo[] = []) {
    for (const m of initial) this.members.set(m.id, m);
  }

  get(id: NodeId): MemberInfo | undefined {
    return this.members.get(id);
  }

  byName(name: string): MemberInfo | undefined {
    for (const m of this.members.values()) if (m.name === name) return m;
    return undefined;
  }

  set(info: MemberInfo): void {
    this.members.set(info.id, info);
  }

  all(): MemberInfo[] {
    return [...this.members.values()];
  }

  /** Records what a committed conf change says about a member. Removed members are kept for reporting. */
  apply(cc: ConfChange): void {
    if (cc.type !== 'addLearner' || cc.context === undefined) return;
    const parsed = parseMemberContext(cc.context);
    if (parsed) this.set({ id: cc.nodeId, ...parsed });
  }

  toJSON(): MemberInfo[] {
    return this.all();
  }
}

export function memberContext(info: Omit<MemberInfo, 'id'>): string {
  return JSON.stringify({
    name: info.name,
    peerAddress: info.peerAddress,
    clientAddress: info.clientAddress,
  });
}

export function parseMemberContext(context: string): Omit<MemberInfo, 'id'> | undefined {
  try {
    const v = JSON.parse(context) as Record<string, unknown>;
    if (
      typeof v.name === 'string' &&
      typeof v.peerAddress === 'string' &&
      typeof v.clientAddress === 'string'
    ) {
      return { name: v.name, peerAddress: v.peerAddress, clientAddress: v.clientAddress };
    }
  } catch {
    // A context written by something else: not ours to interpret.
  }
  return undefined;
}
