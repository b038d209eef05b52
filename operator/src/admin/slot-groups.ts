// The groups' slot-move API for one batch, over gRPC: the node's own client (node/shared/client) on one failover
// client per shard, built from the observation's admin addresses (the leader first; a follower forwards). Opened per
// batch and closed after it, so no channel outlives the addresses it was made for.
import { FailoverClient } from '../../../node/shared/client/failover-client.js';
import { GrpcSlotGroups } from '../../../node/shared/client/slot-groups-client.js';
import type { SlotGroups } from '../../../node/shared/sharding/move-driver.js';

export interface SlotGroupsSession {
  readonly groups: SlotGroups;
  close(): void;
}

export type SlotGroupsFactory = (addresses: ReadonlyMap<number, readonly string[]>) => SlotGroupsSession;

/** Each call's deadline; a page of an export is at most 1 MiB, well within it on any link. */
const CALL_TIMEOUT_MS = 10_000;

export const grpcSlotGroups: SlotGroupsFactory = (addresses) => {
  const clients = new Map<number, FailoverClient>();
  let closed = false;
  const client = (shard: number): FailoverClient => {
    // A closed session must not open new channels: a move stopped by closing it fails its next call instead.
    if (closed) throw new Error(`shard ${shard}: the slot-move session is closed`);
    let c = clients.get(shard);
    if (c === undefined) {
      const endpoints = addresses.get(shard) ?? [];
      if (endpoints.length === 0) throw new Error(`shard ${shard}: no member address to move slots with`);
      c = new FailoverClient(endpoints, CALL_TIMEOUT_MS);
      clients.set(shard, c);
    }
    return c;
  };
  return {
    groups: new GrpcSlotGroups(client),
    close: () => {
      closed = true;
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
};
