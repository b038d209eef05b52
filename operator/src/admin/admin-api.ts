// The members' admin API (node/proto/raftstore/v1/cluster.proto) as the operator uses it: an interface, so the
// observer and executor tests use an in-memory fake, and a gRPC implementation on the node's generated stubs and
// the unary/describeError helpers raftctl uses. One long-lived channel per member address, a deadline on every
// call, bounded message sizes; channels not used for a while are closed.
import { Metadata, status as grpcStatus, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import {
  ClusterClient,
  MemberRole,
  type Member,
  type MemberListResponse,
  type SlotStatusResponse,
  type StatusResponse,
} from '../../../node/shared/api/generated/raftstore/v1/cluster.js';
import { decodeSlotStatus } from '../../../node/shared/client/slot-groups-client.js';
import { SLOT_COUNT } from '../../../node/shared/sharding/slot.js';
import type { SlotTable } from '../model/observed.js';
import { describeError, unary } from '../../../node/shared/client/failover-client.js';
import type { AdminMember, AdminStatus } from '../model/admin-answers.js';
import { withTimeout } from '../util/timeout.js';
import { reportedDataFormat } from '../../../node/shared/versioning/data-format.js';
import {
  channelCredentials,
  PLAINTEXT,
  type TransportSecurity,
} from '../../../node/shared/security/transport-security.js';

export interface AddLearnerRequest {
  shard: number;
  name: string;
  id: string;
  peerAddress: string;
  clientAddress: string;
}

export interface AdminApi {
  status(address: string, shard: number): Promise<AdminStatus>;
  memberList(address: string, shard: number): Promise<AdminMember[]>;
  addLearner(address: string, req: AddLearnerRequest): Promise<void>;
  promote(address: string, shard: number, id: string): Promise<void>;
  removeMember(address: string, shard: number, id: string): Promise<void>;
  /** Returns the name of the leader after the transfer. */
  transferLeadership(address: string, shard: number, toId: string): Promise<string>;
  /** The group's record of every hash slot (a leader read: a follower forwards it). */
  slotTable(address: string, shard: number): Promise<SlotTable>;
  /**
   * Ask `member` (at `address`) to restart as a one-voter cluster keeping its data; it answers what it keeps and
   * then restarts. Refused (FAILED_PRECONDITION) by another member, or while the group has a leader.
   */
  forceNewCluster(address: string, shard: number, member: string): Promise<ForcedCluster>;
  /**
   * Set the data format the group writes (the leader proposes it; a follower forwards). Raising it is refused
   * (FAILED_PRECONDITION) while a member of the configuration cannot read the new format.
   */
  setDataFormat(address: string, shard: number, format: number): Promise<DataFormatChange>;
  close(): void;
}

/** The format before and after a SetDataFormat, and the log index of the entry that set it (0: nothing changed). */
export interface DataFormatChange {
  previous: number;
  format: number;
  index: number;
}

/** What a member forced into a one-voter cluster keeps: every entry up to `commit`; those after it are dropped. */
export interface ForcedCluster {
  commit: number;
  lastIndex: number;
  lastLogTerm: number;
}

/** A failed admin call, with the gRPC code when there is one (retry on another member only when it is transient). */
export class AdminError extends Error {
  override name = 'AdminError';
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
  /** Worth trying another member: the member is down, overloaded, or has no leader right now. */
  get transient(): boolean {
    return this.code === undefined || TRANSIENT.has(this.code);
  }
}

const ALL_SLOTS = Array.from({ length: SLOT_COUNT }, (_, slot) => slot);

const TRANSIENT = new Set<number>([
  grpcStatus.UNAVAILABLE,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.RESOURCE_EXHAUSTED,
]);

const ROLE: Record<number, AdminMember['role']> = {
  [MemberRole.MEMBER_ROLE_LEADER]: 'leader',
  [MemberRole.MEMBER_ROLE_FOLLOWER]: 'follower',
  [MemberRole.MEMBER_ROLE_LEARNER]: 'learner',
};

export function decodeMember(m: Member): AdminMember {
  return {
    name: m.name,
    id: m.id,
    role: ROLE[m.role] ?? 'unknown',
    matchIndex: m.matchIndex,
    healthy: m.healthy,
    incarnation: m.incarnation,
    version: m.version,
    clientAddress: m.clientAddress,
  };
}

export function decodeStatus(s: StatusResponse): AdminStatus {
  return {
    member: s.member,
    id: s.id,
    incarnation: s.incarnation,
    version: s.version,
    isMember: s.isMember,
    term: s.term,
    lastIndex: s.lastIndex,
    // 0 from a member older than the field: such a member is chosen by its last index alone.
    lastLogTerm: s.lastLogTerm,
    commit: s.commit,
    role: ROLE[s.role] ?? 'unknown',
    leader: s.leader,
    slotsOwned: s.slotsOwned,
    slotsMoving: s.slotsMoving,
    slotMapEpoch: s.slotMapEpoch,
    dataFormat: reportedDataFormat(s.dataFormat),
    maxDataFormat: reportedDataFormat(s.maxDataFormat),
  };
}

export interface GrpcAdminOptions {
  timeoutMs: number;
  /** Channels unused this long are closed. */
  idleCloseMs: number;
  /** Bound on open channels; the least recently used goes first. */
  maxChannels: number;
  maxMessageBytes: number;
  /** How the operator's channels to members are secured (node/shared/security/transport-security.ts). */
  security: TransportSecurity;
}

export const DEFAULT_GRPC_ADMIN: GrpcAdminOptions = {
  timeoutMs: 3000,
  idleCloseMs: 5 * 60_000,
  maxChannels: 512,
  maxMessageBytes: 4 * 1024 * 1024,
  security: PLAINTEXT,
};

/**
 * Reconnect backoff of the admin channels. A StatefulSet pod deleted and recreated is back within seconds, usually
 * at the same IP. grpc's default backoff grows to 120 s, and while it waits the channel refuses every call: the
 * operator saw a recreated member 55 s late. Capped at 2 s (as the members' own channels are), the channel finds it
 * at once; between attempts a call to an address that is down still fails fast instead of waiting out its deadline
 * on a fresh connection (dropping the channel instead made every scale-down step 3 s slower).
 */
export const ADMIN_RECONNECT = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2000,
} as const;

export class GrpcAdminApi implements AdminApi {
  private readonly clients = new Map<string, { client: ClusterClient; usedMs: number }>();
  /** One set for every channel, made at the first one: a watcher of rotated certificates is shared, not per member. */
  private credentials: ChannelCredentials | undefined;

  constructor(private readonly options: GrpcAdminOptions = DEFAULT_GRPC_ADMIN) {}

  private client(address: string): ClusterClient {
    const now = Date.now();
    this.sweep(now);
    let entry = this.clients.get(address);
    if (entry === undefined) {
      this.credentials ??= channelCredentials(this.options.security, { watch: true });
      const client = new ClusterClient(address, this.credentials, {
        ...ADMIN_RECONNECT,
        'grpc.max_receive_message_length': this.options.maxMessageBytes,
        'grpc.max_send_message_length': this.options.maxMessageBytes,
      });
      entry = { client, usedMs: now };
      this.clients.set(address, entry);
    }
    entry.usedMs = now;
    return entry.client;
  }

  private sweep(now: number): void {
    for (const [address, e] of this.clients) {
      if (now - e.usedMs > this.options.idleCloseMs || this.clients.size > this.options.maxChannels) {
        e.client.close();
        this.clients.delete(address);
      }
    }
  }

  /** One unary call with a deadline (and a local timeout as a backstop if the channel never reports). */
  private async call<T>(
    address: string,
    what: string,
    invoke: (c: ClusterClient, deadline: Date) => Promise<T>,
  ): Promise<T> {
    const deadline = new Date(Date.now() + this.options.timeoutMs);
    try {
      return await withTimeout(
        invoke(this.client(address), deadline),
        this.options.timeoutMs + 1000,
        `${what} at ${address}`,
      );
    } catch (err) {
      const code = (err as Partial<ServiceError>).code;
      throw new AdminError(
        `${what} at ${address}: ${describeError(err)}`,
        typeof code === 'number' ? code : undefined,
      );
    }
  }

  async status(address: string, shard: number): Promise<AdminStatus> {
    const res = await this.call(address, 'Status', (c, deadline) =>
      unary<StatusResponse>((cb) => c.status({ shardId: shard }, new Metadata(), { deadline }, cb)),
    );
    return decodeStatus(res);
  }

  async memberList(address: string, shard: number): Promise<AdminMember[]> {
    const res = await this.call(address, 'MemberList', (c, deadline) =>
      unary<MemberListResponse>((cb) => c.memberList({ shardId: shard }, new Metadata(), { deadline }, cb)),
    );
    return res.members.map(decodeMember);
  }

  async addLearner(address: string, req: AddLearnerRequest): Promise<void> {
    await this.call(address, 'AddLearner', (c, deadline) =>
      unary((cb) =>
        c.addLearner(
          {
            shardId: req.shard,
            name: req.name,
            id: req.id,
            address: req.peerAddress,
            clientAddress: req.clientAddress,
            incarnation: '',
          },
          new Metadata(),
          { deadline },
          cb,
        ),
      ),
    );
  }

  async promote(address: string, shard: number, id: string): Promise<void> {
    await this.call(address, 'Promote', (c, deadline) =>
      unary((cb) => c.promote({ shardId: shard, id }, new Metadata(), { deadline }, cb)),
    );
  }

  async removeMember(address: string, shard: number, id: string): Promise<void> {
    await this.call(address, 'RemoveMember', (c, deadline) =>
      unary((cb) => c.removeMember({ shardId: shard, id }, new Metadata(), { deadline }, cb)),
    );
  }

  async forceNewCluster(address: string, shard: number, member: string): Promise<ForcedCluster> {
    const res = await this.call(address, 'ForceNewCluster', (c, deadline) =>
      unary<ForcedCluster>((cb) =>
        c.forceNewCluster({ shardId: shard, member }, new Metadata(), { deadline }, cb),
      ),
    );
    return { commit: res.commit, lastIndex: res.lastIndex, lastLogTerm: res.lastLogTerm };
  }

  async setDataFormat(address: string, shard: number, format: number): Promise<DataFormatChange> {
    const res = await this.call(address, 'SetDataFormat', (c, deadline) =>
      unary<DataFormatChange>((cb) =>
        c.setDataFormat({ shardId: shard, format }, new Metadata(), { deadline }, cb),
      ),
    );
    return { previous: reportedDataFormat(res.previous), format: res.format, index: res.index };
  }

  async transferLeadership(address: string, shard: number, toId: string): Promise<string> {
    const res = await this.call(address, 'TransferLeadership', (c, deadline) =>
      unary<{ leader: string }>((cb) =>
        c.transferLeadership({ shardId: shard, toMember: toId }, new Metadata(), { deadline }, cb),
      ),
    );
    return res.leader;
  }

  async slotTable(address: string, shard: number): Promise<SlotTable> {
    const res = await this.call(address, 'SlotStatus', (c, deadline) =>
      unary<SlotStatusResponse>((cb) =>
        c.slotStatus({ shardId: shard, slots: ALL_SLOTS }, new Metadata(), { deadline }, cb),
      ),
    );
    const table = decodeSlotStatus(shard, res);
    if (table.records.length !== SLOT_COUNT) {
      throw new AdminError(
        `SlotStatus at ${address}: ${table.records.length} records for ${SLOT_COUNT} slots`,
        undefined,
      );
    }
    return table;
  }

  close(): void {
    for (const e of this.clients.values()) e.client.close();
    this.clients.clear();
  }
}
