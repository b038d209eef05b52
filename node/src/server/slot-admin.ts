// The Cluster service's slot-move RPCs: what a coordinator (the operator) calls to move slots between groups. Steps
// and ingested pages are Raft commands (node/src/sharding/slot-ownership.ts decides what each does); the reads — a
// group's record of some slots, a page of a frozen slot's keys — run on the leader behind a read barrier, so the
// coordinator never acts on a stale follower's view. A follower forwards each call to its leader once.

import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import type * as wire from '../../shared/api/generated/raftstore/v1/cluster.js';
import type { ResponseHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import { ByteReader, ByteWriter } from '../kv/binary.js';
import { encodeCommand } from '../kv/command-codec.js';
import { readSessions, writeSessions } from '../kv/session-codec.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { ApplyOutcome, Operation } from '../kv/types.js';
import type { RaftReplica } from '../replica/raft-replica.js';
import { NO_PEER, type SlotMoveStep } from '../sharding/slot-ownership.js';
import { SLOT_COUNT } from '../../shared/sharding/slot.js';
import { StatusError } from './grpc-errors.js';
import type { LeaderForwarder } from './leader-forwarder.js';
import { InvalidRequestError } from './request-error.js';
import { unaryHandler, type InFlightLimit, type RpcObserver } from './unary-handler.js';

const STEPS: readonly SlotMoveStep[] = ['import', 'freeze', 'activate', 'release', 'abort'];

/** Bounds on one export page, whatever the coordinator asks: a page is one gRPC message and one Raft entry. */
export const EXPORT_PAGE_MAX_KEYS = 10_000;
export const EXPORT_PAGE_MAX_BYTES = 2 * 1024 * 1024;

export interface SlotAdminOptions {
  readonly replica: RaftReplica<ApplyOutcome>;
  readonly forwarder: LeaderForwarder;
  readonly limit: InFlightLimit;
  readonly observer?: RpcObserver;
  readonly header: () => ResponseHeader;
  readonly checkShard: (shardId: number) => void;
  /** Runs `local` on the leader, or forwards once (cluster-service.ts). */
  readonly onLeader: <Req, Res>(
    call: ServerUnaryCall<Req, Res>,
    local: () => Promise<Res>,
    forward: (address: string) => Promise<Res>,
  ) => Promise<Res>;
  readonly now: () => number;
}

function checkSlots(slots: readonly number[], what: string): void {
  if (slots.length === 0) throw new InvalidRequestError(`${what}: no slots given`);
  if (slots.length > SLOT_COUNT) throw new InvalidRequestError(`${what}: more than ${SLOT_COUNT} slots`);
  for (const slot of slots) {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT) {
      throw new InvalidRequestError(`${what}: slot ${slot} is outside [0, ${SLOT_COUNT})`);
    }
  }
}

function encodeSessions(machine: KvStateMachine): Uint8Array {
  const w = new ByteWriter();
  writeSessions(w, machine.sessions());
  return w.finish();
}

export function createSlotAdminHandlers(
  o: SlotAdminOptions,
): Pick<wire.ClusterServer, 'slotStatus' | 'moveSlots' | 'exportSlots' | 'ingestSlots'> {
  const { replica, forwarder } = o;
  const machine = (): KvStateMachine => replica.stateMachine as KvStateMachine;

  /** Proposes one slot command and returns its outcome (a `slots` result). */
  const propose = async (op: Operation): Promise<{ ok: boolean; changed: number; reason: string }> => {
    const outcome = await replica.propose(encodeCommand({ timestampMs: o.now(), op }));
    const result = outcome?.result;
    if (result?.kind !== 'slots')
      throw new StatusError(status.INTERNAL, `a slot command produced ${result?.kind}`);
    return { ok: result.ok, changed: result.changed, reason: result.reason };
  };

  return {
    slotStatus: unaryHandler<wire.SlotStatusRequest, wire.SlotStatusResponse>(
      'Cluster',
      'SlotStatus',
      o.limit,
      o.observer,
      (req, call) => {
        o.checkShard(req.shardId);
        checkSlots(req.slots, 'SlotStatus');
        return o.onLeader(
          call,
          async () => {
            await replica.linearizableBarrier();
            const ownership = machine().ownership;
            return {
              header: o.header(),
              epoch: ownership.epoch,
              sides: req.slots.map((slot) => ({
                slot,
                state: ownership.stateOf(slot),
                epoch: ownership.moveEpochOf(slot),
                peer: ownership.peerOf(slot) ?? NO_PEER,
              })),
              slotsOwned: ownership.ownedCount,
              slotsMoving: ownership.movingCount,
            };
          },
          (address) =>
            forwarder.call<wire.SlotStatusResponse>((md, opts, cb) =>
              forwarder.clusterClient(address).slotStatus(req, md, opts, cb),
            ),
        );
      },
    ),

    moveSlots: unaryHandler<wire.MoveSlotsRequest, wire.MoveSlotsResponse>(
      'Cluster',
      'MoveSlots',
      o.limit,
      o.observer,
      (req, call) => {
        o.checkShard(req.shardId);
        checkSlots(req.slots, 'MoveSlots');
        const step = STEPS.find((s) => s === req.step);
        if (step === undefined) {
          throw new InvalidRequestError(`MoveSlots: step "${req.step}" is not one of ${STEPS.join(', ')}`);
        }
        if (!Number.isSafeInteger(req.epoch) || req.epoch < 1) {
          throw new InvalidRequestError(`MoveSlots: epoch ${req.epoch} must be a positive integer`);
        }
        return o.onLeader(
          call,
          async () => ({
            header: o.header(),
            ...(await propose({
              kind: 'moveSlots',
              request: { step, slots: req.slots, peer: req.peer, epoch: req.epoch },
            })),
          }),
          (address) =>
            forwarder.call<wire.MoveSlotsResponse>((md, opts, cb) =>
              forwarder.clusterClient(address).moveSlots(req, md, opts, cb),
            ),
        );
      },
    ),

    exportSlots: unaryHandler<wire.ExportSlotsRequest, wire.ExportSlotsResponse>(
      'Cluster',
      'ExportSlots',
      o.limit,
      o.observer,
      (req, call) => {
        o.checkShard(req.shardId);
        checkSlots(req.slots, 'ExportSlots');
        return o.onLeader(
          call,
          async () => {
            await replica.linearizableBarrier();
            const m = machine();
            const page = m.exportSlots({
              slots: req.slots,
              epoch: req.epoch,
              ...(req.after !== undefined ? { after: req.after } : {}),
              maxKeys: Math.min(Math.max(1, req.maxKeys), EXPORT_PAGE_MAX_KEYS),
              maxBytes: Math.min(Math.max(1, req.maxBytes), EXPORT_PAGE_MAX_BYTES),
            });
            if (!page.ok) throw new StatusError(status.FAILED_PRECONDITION, `ExportSlots: ${page.reason}`);
            return {
              header: o.header(),
              kvs: page.kvs.map((kv) => ({ key: kv.key, value: kv.value, version: kv.version })),
              more: page.more,
              // The same synchronous turn as the page: the sessions as of the last key exported.
              sessions: page.more ? new Uint8Array() : encodeSessions(m),
            };
          },
          (address) =>
            forwarder.call<wire.ExportSlotsResponse>((md, opts, cb) =>
              forwarder.clusterClient(address).exportSlots(req, md, opts, cb),
            ),
        );
      },
    ),

    ingestSlots: unaryHandler<wire.IngestSlotsRequest, wire.IngestSlotsResponse>(
      'Cluster',
      'IngestSlots',
      o.limit,
      o.observer,
      (req, call) => {
        o.checkShard(req.shardId);
        if (req.seal.length > 0) checkSlots(req.seal, 'IngestSlots');
        let sessions;
        try {
          sessions = req.sessions.length === 0 ? [] : readSessions(new ByteReader(req.sessions, 'sessions'));
        } catch (err) {
          throw new InvalidRequestError(
            `IngestSlots: sessions: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
        return o.onLeader(
          call,
          async () => ({
            header: o.header(),
            ...(await propose({
              kind: 'ingest',
              from: req.from,
              epoch: req.epoch,
              kvs: req.kvs.map((kv) => ({ key: kv.key, value: kv.value, version: kv.version })),
              seal: req.seal,
              sessions,
            })),
          }),
          (address) =>
            forwarder.call<wire.IngestSlotsResponse>((md, opts, cb) =>
              forwarder.clusterClient(address).ingestSlots(req, md, opts, cb),
            ),
        );
      },
    ),
  };
}
