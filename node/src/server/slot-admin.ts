// The Cluster service's slot-move RPCs: what a coordinator (the operator) calls to move slots between groups. Steps
// and ingested pages are Raft commands (node/src/sharding/slot-ownership.ts decides what each does); the reads — a
// group's record of some slots, a page of a frozen slot's keys — run on the leader behind a read barrier, so the
// coordinator never acts on a stale follower's view. A follower forwards each call to its leader once.

import {
  status,
  type CallOptions,
  type Metadata,
  type ServerUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import type * as wire from '../../shared/api/generated/raftstore/v1/cluster.js';
import type { ClusterClient } from '../../shared/api/generated/raftstore/v1/cluster.js';
import type { ResponseHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import { ByteReader, ByteWriter } from '../kv/binary.js';
import { encodeCommand } from '../kv/command-codec.js';
import { readSessions, writeSessions } from '../kv/session-codec.js';
import type { PageStart } from '../kv/copy-cursors.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { ApplyOutcome, Operation, Session } from '../kv/types.js';
import type { RaftReplica } from '../replica/raft-replica.js';
import { NO_PEER, type SlotMoveStep } from '../sharding/slot-ownership.js';
import { SLOT_COUNT } from '../../shared/sharding/slot.js';
import { StatusError } from './grpc-errors.js';
import type { LeaderForwarder } from './leader-forwarder.js';
import { InvalidRequestError } from './request-error.js';
import { unaryHandler, type InFlightLimit, type RpcObserver } from './unary-handler.js';

// Seal is not a step of its own on the wire: it rides on the last ingested page.
const STEPS: readonly SlotMoveStep[] = ['import', 'freeze', 'activate', 'release', 'abort', 'repoint'];

/** A Cluster client method, bound: how a follower sends the request on to its leader. */
type ForwardInvoke<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;

/** Bounds on one export page, whatever the coordinator asks: a page is one gRPC message and one Raft entry. */
export const EXPORT_PAGE_MAX_KEYS = 10_000;
export const EXPORT_PAGE_MAX_BYTES = 2 * 1024 * 1024;

/**
 * What the Cluster service hands to each group of leader-run admin handlers (slot moves here, data formats in
 * data-format-admin.ts): the replica, how to reach the leader, the shared in-flight bound and response header.
 */
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

  /** One slot RPC: shard and request checked, then run on the leader, or forwarded to it once. */
  const leaderRpc = <Req extends { shardId: number }, Res>(
    method: string,
    validate: (req: Req) => void,
    local: (req: Req) => Promise<Res>,
    forward: (client: ClusterClient) => ForwardInvoke<Req, Res>,
  ) =>
    unaryHandler<Req, Res>('Cluster', method, o.limit, o.observer, (req, call) => {
      o.checkShard(req.shardId);
      validate(req);
      return o.onLeader(
        call,
        () => local(req),
        (address) =>
          forwarder.call<Res>((md, opts, cb) => forward(forwarder.clusterClient(address))(req, md, opts, cb)),
      );
    });

  return {
    slotStatus: leaderRpc<wire.SlotStatusRequest, wire.SlotStatusResponse>(
      'SlotStatus',
      (req) => checkSlots(req.slots, 'SlotStatus'),
      async (req) => {
        await replica.linearizableBarrier();
        const m = machine();
        const ownership = m.ownership;
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
          copyCursors: copyCursorsOf(m, req.slots),
        };
      },
      (c) => c.slotStatus.bind(c),
    ),

    moveSlots: leaderRpc<wire.MoveSlotsRequest, wire.MoveSlotsResponse>(
      'MoveSlots',
      (req) => {
        checkSlots(req.slots, 'MoveSlots');
        if (stepOf(req.step) === undefined) {
          throw new InvalidRequestError(`MoveSlots: step "${req.step}" is not one of ${STEPS.join(', ')}`);
        }
        if (!Number.isSafeInteger(req.epoch) || req.epoch < 1) {
          throw new InvalidRequestError(`MoveSlots: epoch ${req.epoch} must be a positive integer`);
        }
      },
      async (req) => ({
        header: o.header(),
        ...(await propose({
          kind: 'moveSlots',
          request: { step: stepOf(req.step)!, slots: req.slots, peer: req.peer, epoch: req.epoch },
        })),
      }),
      (c) => c.moveSlots.bind(c),
    ),

    exportSlots: leaderRpc<wire.ExportSlotsRequest, wire.ExportSlotsResponse>(
      'ExportSlots',
      (req) => checkSlots(req.slots, 'ExportSlots'),
      async (req) => {
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
      (c) => c.exportSlots.bind(c),
    ),

    ingestSlots: leaderRpc<wire.IngestSlotsRequest, wire.IngestSlotsResponse>(
      'IngestSlots',
      (req) => {
        if (req.seal.length > 0) checkSlots(req.seal, 'IngestSlots');
        decodeSessions(req.sessions); // refused here, before anything is proposed
      },
      async (req) => ({
        header: o.header(),
        ...(await propose({
          kind: 'ingest',
          from: req.from,
          epoch: req.epoch,
          start: pageStartOf(req.after),
          kvs: req.kvs.map((kv) => ({ key: kv.key, value: kv.value, version: kv.version })),
          seal: req.seal,
          sessions: decodeSessions(req.sessions),
        })),
      }),
      (c) => c.ingestSlots.bind(c),
    ),
  };
}

/** The copy cursors of the imports among `slots` (each import once), in the order their slots are listed. */
export function copyCursorsOf(
  machine: Pick<KvStateMachine, 'ownership' | 'copyCursor'>,
  slots: readonly number[],
): wire.CopyCursor[] {
  const epochs = new Set<number>();
  for (const slot of slots) {
    if (machine.ownership.stateOf(slot) === 'importing') epochs.add(machine.ownership.moveEpochOf(slot));
  }
  return [...epochs].flatMap((epoch) => {
    const key = machine.copyCursor(epoch);
    return key === undefined ? [] : [{ epoch, key }];
  });
}

/**
 * Where an ingested page starts, as IngestSlots carries it (see cluster.proto): empty is the first page, a key the
 * page follows, and unset a coordinator that predates it, whose page is applied as then.
 */
export function pageStartOf(after: Uint8Array | undefined): PageStart {
  if (after === undefined) return { kind: 'unknown' };
  return after.length === 0 ? { kind: 'first' } : { kind: 'after', key: after };
}

function stepOf(raw: string): SlotMoveStep | undefined {
  return STEPS.find((s) => s === raw);
}

function decodeSessions(bytes: Uint8Array): Session[] {
  try {
    return bytes.length === 0 ? [] : readSessions(new ByteReader(bytes, 'sessions'));
  } catch (err) {
    throw new InvalidRequestError(
      `IngestSlots: sessions: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
