// The slot-move API of every group, over gRPC: what a coordinator drives a move with (move-driver.ts). One failover
// client per shard (any of its members; a follower forwards to the leader). A refusal the groups answer with
// FAILED_PRECONDITION (an export of slots not frozen at that epoch) comes back as a not-ok outcome, so the driver
// reads the groups again instead of failing.

import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type {
  ExportSlotsResponse,
  IngestSlotsResponse,
  MoveSlotsResponse,
  SlotStatusResponse,
} from '../api/generated/raftstore/v1/cluster.js';
import type { SlotState } from '../sharding/move-phase.js';
import type {
  CoordinatorStep,
  ExportedKey,
  ExportPage,
  SlotGroups,
  SlotRecord,
  StepOutcome,
} from '../sharding/move-driver.js';
import { unary, type FailoverClient } from './failover-client.js';

const STATES: readonly SlotState[] = ['absent', 'owned', 'leaving', 'importing', 'imported'];

export class GrpcSlotGroups implements SlotGroups {
  constructor(private readonly shard: (id: number) => FailoverClient) {}

  async status(shard: number, slots: readonly number[]): Promise<{ epoch: number; records: SlotRecord[] }> {
    const res = await this.shard(shard).cluster((c, deadline) =>
      unary<SlotStatusResponse>((cb) =>
        c.slotStatus({ shardId: shard, slots: [...slots] }, new Metadata(), { deadline }, cb),
      ),
    );
    return decodeSlotStatus(shard, res);
  }

  async step(
    shard: number,
    step: CoordinatorStep,
    slots: readonly number[],
    peer: number,
    epoch: number,
  ): Promise<StepOutcome> {
    const res = await this.shard(shard).cluster((c, deadline) =>
      unary<MoveSlotsResponse>((cb) =>
        c.moveSlots(
          { shardId: shard, step, slots: [...slots], peer, epoch },
          new Metadata(),
          { deadline },
          cb,
        ),
      ),
    );
    return { ok: res.ok, reason: res.reason };
  }

  async exportPage(
    shard: number,
    slots: readonly number[],
    epoch: number,
    after: Uint8Array | undefined,
  ): Promise<ExportPage> {
    try {
      const res = await this.shard(shard).cluster((c, deadline) =>
        unary<ExportSlotsResponse>((cb) =>
          c.exportSlots(
            { shardId: shard, slots: [...slots], epoch, after, maxKeys: 1000, maxBytes: 1024 * 1024 },
            new Metadata(),
            { deadline },
            cb,
          ),
        ),
      );
      return { ok: true, kvs: res.kvs, more: res.more, sessions: res.sessions };
    } catch (err) {
      return refused(err);
    }
  }

  async ingest(
    shard: number,
    from: number,
    epoch: number,
    kvs: readonly ExportedKey[],
    seal: readonly number[],
    sessions: Uint8Array,
    after: Uint8Array | undefined,
  ): Promise<StepOutcome> {
    try {
      const res = await this.shard(shard).cluster((c, deadline) =>
        unary<IngestSlotsResponse>((cb) =>
          c.ingestSlots(
            {
              shardId: shard,
              from,
              epoch,
              kvs: [...kvs],
              seal: [...seal],
              sessions,
              after: wirePageStart(after),
            },
            new Metadata(),
            { deadline },
            cb,
          ),
        ),
      );
      return { ok: res.ok, reason: res.reason };
    } catch (err) {
      return refused(err);
    }
  }
}

/** A SlotStatus answer as the move driver reads it; an unknown state is an error, never guessed. */
export function decodeSlotStatus(
  shard: number,
  res: SlotStatusResponse,
): { epoch: number; records: SlotRecord[] } {
  // The group reports each import's cursor once; every importing slot of that import carries it here.
  const cursors = new Map(res.copyCursors.map((c) => [c.epoch, c.key]));
  return {
    epoch: res.epoch,
    records: res.sides.map((s) => {
      const state = STATES.find((x) => x === s.state);
      if (state === undefined)
        throw new Error(`shard ${shard} reported slot ${s.slot} in unknown state "${s.state}"`);
      const copyCursor = state === 'importing' ? cursors.get(s.epoch) : undefined;
      return copyCursor === undefined
        ? { state, epoch: s.epoch, peer: s.peer }
        : { state, epoch: s.epoch, peer: s.peer, copyCursor };
    }),
  };
}

/** A page's start as IngestSlots carries it: empty for the first page (no key is empty), else the key it follows. */
export function wirePageStart(after: Uint8Array | undefined): Uint8Array {
  return after ?? new Uint8Array();
}

/** A FAILED_PRECONDITION answer is the groups' "not in that state": an outcome to re-read from, not a failure. */
function refused(err: unknown): { ok: false; reason: string } {
  if ((err as Partial<ServiceError>).code === status.FAILED_PRECONDITION) {
    return { ok: false, reason: (err as ServiceError).details };
  }
  throw err;
}
