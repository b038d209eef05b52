// The coordinator's admin clients, one FailoverClient per shard over that shard's current members. Membership
// changes under fire (replace-member adds a joiner and retires a member), so the member list is read at each call
// and a client is made afresh when it changed; superseded clients are closed at the end, not at once, since a call
// may still be running on them.
import { FailoverClient } from '../shared/client/failover-client.js';

/** Per call: the coordinator's calls are reads and idempotent steps, so one that times out is simply asked again. */
const CALL_TIMEOUT_MS = 5000;

export class ShardClients {
  private readonly current = new Map<number, FailoverClient>();
  private readonly retired: FailoverClient[] = [];

  constructor(private readonly endpointsOf: (shard: number) => readonly string[]) {}

  client(shard: number): FailoverClient {
    const endpoints = this.endpointsOf(shard);
    if (endpoints.length === 0) throw new Error(`shard ${shard} has no member to call`);
    const existing = this.current.get(shard);
    if (existing !== undefined && sameList(existing.endpoints, endpoints)) return existing;
    if (existing !== undefined) this.retired.push(existing);
    const fresh = new FailoverClient(endpoints, CALL_TIMEOUT_MS);
    this.current.set(shard, fresh);
    return fresh;
  }

  close(): void {
    for (const c of [...this.current.values(), ...this.retired]) c.close();
    this.current.clear();
    this.retired.length = 0;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
