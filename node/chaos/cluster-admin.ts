// Membership and leadership calls the fault injector makes, as promises with deadlines. Failures are returned to
// the caller (a fault that could not be applied is logged, not fatal: the cluster is under fire).
import { channelCredentials, PLAINTEXT } from '../shared/security/transport-security.js';
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import { ClusterClient, type Member } from '../shared/api/generated/raftstore/v1/cluster.js';

type Callback<R> = (err: ServiceError | null, res: R) => void;

export class ClusterAdmin {
  private readonly client: ClusterClient;

  constructor(
    readonly endpoint: string,
    private readonly deadlineMs: number,
    /** The group asked: a member answers only for its own shard. */
    readonly shardId = 0,
  ) {
    this.client = new ClusterClient(endpoint, channelCredentials(PLAINTEXT, { watch: false }));
  }

  private call<R>(invoke: (md: Metadata, opts: { deadline: number }, cb: Callback<R>) => void): Promise<R> {
    return new Promise((resolve, reject) => {
      invoke(new Metadata(), { deadline: Date.now() + this.deadlineMs }, (err, res) => {
        if (err) reject(new Error(`${this.endpoint}: ${err.code} ${err.details}`));
        else resolve(res);
      });
    });
  }

  async members(): Promise<Member[]> {
    const res = await this.call<{ members: Member[] }>((md, o, cb) =>
      this.client.memberList({ shardId: this.shardId }, md, o, cb),
    );
    return res.members;
  }

  async transferLeadership(toMember: string): Promise<string> {
    const res = await this.call<{ leader: string }>((md, o, cb) =>
      this.client.transferLeadership({ shardId: this.shardId, toMember }, md, o, cb),
    );
    return res.leader;
  }

  async addLearner(request: {
    name: string;
    id: string;
    address: string;
    incarnation: string;
    clientAddress: string;
  }): Promise<void> {
    await this.call((md, o, cb) => this.client.addLearner({ shardId: this.shardId, ...request }, md, o, cb));
  }

  async promote(id: string): Promise<void> {
    await this.call((md, o, cb) => this.client.promote({ shardId: this.shardId, id }, md, o, cb));
  }

  async removeMember(id: string): Promise<void> {
    await this.call((md, o, cb) => this.client.removeMember({ shardId: this.shardId, id }, md, o, cb));
  }

  close(): void {
    this.client.close();
  }
}
