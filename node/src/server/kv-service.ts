// The client-facing KV service. Writes are proposed on the leader (a follower forwards them there); reads are
// linearizable by default through a ReadIndex barrier, which works on any member, so reads spread over followers;
// serializable reads answer from local state at once.
import { status, type CallOptions, type Metadata, type ServiceError } from '@grpc/grpc-js';
import type { KVClient, KVServer } from '../../shared/api/generated/raftstore/v1/kv.js';
import type * as wire from '../../shared/api/generated/raftstore/v1/kv.js';
import type { ResponseHeader, RequestHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import { encodeCommand } from '../kv/command-codec.js';
import type { KvLimits } from '../kv/limits.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import { operationSlots, rangeSlots, type OperationSlots } from '../kv/operation-slots.js';
import type {
  ApplyOutcome,
  ClientOperation,
  Command,
  CommandResult,
  KeyRange,
  RangeOptions,
} from '../kv/types.js';
import { validateCommand, validateRangeRequest, withDefaultRangeLimit } from '../kv/validate.js';
import type { RaftReplica } from '../replica/raft-replica.js';
import { NotLeaderError } from '../replica/errors.js';
import { decideRoute, type Route } from '../routing/route.js';
import type { SlotHints } from '../routing/slot-hints.js';
import type { SlotRedirect } from '../sharding/slot-ownership.js';
import { isNotApplied, isWrongShard, redirectOf, StatusError, WrongShardError } from './grpc-errors.js';
import { isForwarded, type LeaderForwarder } from './leader-forwarder.js';
import {
  compareFromWire,
  deleteResultToWire,
  keyRangeFromWire,
  keyValueToWire,
  putResultToWire,
  rangeResultToWire,
  txnOpFromWire,
  txnOpResultToWire,
} from './proto-convert.js';
import { InvalidRequestError } from './request-error.js';
import { forwardHandler, type ForwardDispatch, type ServedForwardStreams } from './forward-service.js';
import { hopsOf } from './route-hops.js';
import type { ShardForwarder } from './shard-forwarder.js';
import { unaryHandler, type InFlightLimit, type RpcObserver } from './unary-handler.js';

export interface KvServiceOptions {
  readonly shardId: number;
  readonly memberName: string;
  readonly replica: RaftReplica<ApplyOutcome>;
  readonly limits: KvLimits;
  readonly forwarder: LeaderForwarder;
  readonly now: () => number;
  readonly maxInFlight: number;
  /** Bound on the bytes (keys, values) of the requests in flight, unary and forwarded together. */
  readonly maxInFlightBytes: number;
  /** The largest message a member takes (--max-request-bytes): batches of forwarded replies stay within it. */
  readonly maxMessageBytes: number;
  /** Where the Forward streams this member serves are kept, so that it can end them when it stops. */
  readonly servedForwards?: ServedForwardStreams;
  /**
   * How long a request waits for a leader during an election or a leadership transfer before it fails with
   * UNAVAILABLE; about two election timeouts. Clients then see a handoff as latency, not as errors.
   */
  readonly leaderWaitMs: number;
  readonly observer?: RpcObserver;
  /** Routing to other shards: where this member believes slots are, and how it reaches other shards. */
  readonly routing: KvRouting;
}

export interface KvRouting {
  readonly hints: SlotHints;
  readonly shards: ShardForwarder;
  /** A request is forwarded to another shard at most this many times in all (stale hints cannot bounce it). */
  readonly maxHops: number;
}

/** A write that certainly did not apply because leadership moved under it is tried again, at most this often. */
const MAX_WRITE_ATTEMPTS = 3;

type ShardRequest = { shardId?: number | undefined };

/** One KV call to this group's leader, in grpc-js's callback style (a follower forwards writes there). */
type LeaderInvoke<Res> = (
  client: KVClient,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => unknown;
type WriteRequest = ShardRequest & { header?: RequestHeader | undefined };

export function createKvService(options: KvServiceOptions): KVServer {
  const { replica, limits, forwarder } = options;
  const limit: InFlightLimit = {
    current: 0,
    max: options.maxInFlight,
    bytes: 0,
    maxBytes: options.maxInFlightBytes,
  };
  const machine = (): KvStateMachine => replica.stateMachine as KvStateMachine;

  const header = (): ResponseHeader => {
    const st = replica.status();
    return {
      revision: machine().revision,
      leader: replica.directory.get(st.leader)?.name ?? st.leader,
      member: options.memberName,
      term: st.term,
    };
  };

  const { hints, shards, maxHops } = options.routing;

  /**
   * The refusal for a slot this group does not serve. A slot the group never had (the creation layout gave it to
   * another shard) has no recorded owner; the hints name that one, so the client can go straight there.
   */
  const wrongShard = (redirect: SlotRedirect): WrongShardError => {
    const hinted = hints.ownerOf(redirect.slot);
    const owner = redirect.owner ?? (hinted !== options.shardId ? hinted : undefined);
    return new WrongShardError({ ...redirect, owner }, options.shardId);
  };

  /** Where this request goes: here, another shard, or a refusal (route.ts). */
  const routeOf = (request: ShardRequest, metadata: Metadata, slots: OperationSlots): Route => {
    const ownership = machine().ownership;
    return decideRoute({
      ownShard: options.shardId,
      explicitShard: request.shardId,
      slots,
      servesEverySlot: ownership.servesEverySlot,
      serves: (slot) => ownership.serves(slot),
      // The group knows where a slot it gave away went; for the others the hints guess.
      ownerOf: (slot) => ownership.redirect(slot).owner ?? hints.ownerOf(slot),
      canReach: (shard) => shards.canReach(shard),
      hops: hopsOf(metadata, maxHops),
      maxHops,
    });
  };

  const refuse = (route: Extract<Route, { kind: 'refuse' }>): never => {
    switch (route.reason) {
      case 'crossSlot':
      case 'spansShards':
        throw new InvalidRequestError(route.message);
      case 'tooManyHops':
        throw new StatusError(status.UNAVAILABLE, route.message, true);
      case 'misrouted':
        throw new StatusError(status.FAILED_PRECONDITION, route.message, true);
    }
  };

  /**
   * Runs `local` here, or forwards the request to the shard its key belongs to. A wrong-shard answer (this group's
   * fence, or the shard forwarded to) teaches the hints; when it names an owner this member can reach and hops
   * remain, the request goes there (it was certainly not applied), else the client gets the redirect.
   */
  const routed = async <Req extends ShardRequest, Res>(
    request: Req,
    metadata: Metadata,
    slots: OperationSlots,
    local: () => Promise<Res>,
    remote: (shard: number, hops: number) => Promise<Res>,
  ): Promise<Res> => {
    // Forwards so far along this request's path: those before it reached this member, then this member's own.
    let sent = hopsOf(metadata, maxHops);
    let route = routeOf(request, metadata, slots);
    for (;;) {
      if (route.kind === 'refuse') return refuse(route);
      try {
        return route.kind === 'local' ? await local() : await remote(route.shard, sent);
      } catch (err) {
        if (route.kind === 'forward') sent += 1;
        const redirect = redirectOf(err);
        if (redirect === undefined) throw err;
        hints.learn(redirect);
        const owner = redirect.owner;
        if (
          request.shardId !== undefined ||
          redirect.moving ||
          owner === undefined ||
          owner === options.shardId ||
          !shards.canReach(owner) ||
          sent >= maxHops
        )
          throw err;
        route = { kind: 'forward', shard: owner };
      }
    }
  };

  /**
   * The member that takes proposals now, waiting (bounded) through an election or a transfer. `not` is a member a
   * previous attempt found was no longer leader: wait until we hear of another one.
   */
  const leaderNow = async (not: string | undefined): Promise<string> => {
    const deadline = Date.now() + options.leaderWaitMs;
    for (;;) {
      const remaining = deadline - Date.now();
      let leader: string;
      try {
        leader = await replica.awaitLeader(Math.max(1, remaining));
      } catch (err) {
        if (!(err instanceof NotLeaderError)) throw err;
        throw new StatusError(
          status.UNAVAILABLE,
          `no leader took over within ${options.leaderWaitMs} ms; retry shortly`,
          true,
        );
      }
      if (leader !== not || leader === replica.id) return leader;
      if (remaining <= 0)
        throw new StatusError(
          status.UNAVAILABLE,
          `${leader} stepped down or is unreachable and no other leader was known within ${options.leaderWaitMs} ms; retry shortly`,
          true,
        );
      await new Promise((r) => setTimeout(r, Math.min(5, remaining)));
    }
  };

  /**
   * Runs the write here if we lead; otherwise forwards the original request to the leader. When leadership moves
   * under it and the write certainly did not apply (refused during a transfer, or the member we forwarded to had
   * just stepped down), it goes again to the new leader: a handoff costs the client latency, not an error.
   */
  const write = async <Req extends WriteRequest, Res>(
    request: Req,
    metadata: Metadata,
    op: ClientOperation,
    forward: (address: string) => Promise<Res>,
    respond: (result: CommandResult) => Res,
  ): Promise<Res> => {
    const session =
      request.header && request.header.clientId !== ''
        ? { clientId: request.header.clientId, sequence: request.header.sequence }
        : undefined;
    const command: Command = session
      ? { timestampMs: options.now(), session, op }
      : { timestampMs: options.now(), op };
    const problem = validateCommand(command, limits);
    if (problem) throw new InvalidRequestError(problem);
    let stale: string | undefined;
    for (let attempt = 1; ; attempt++) {
      const leader = await leaderNow(stale);
      try {
        if (leader !== replica.id) {
          if (isForwarded(metadata)) {
            // Never forward twice (no loops while leadership moves); the member that forwarded goes again.
            throw new StatusError(
              status.UNAVAILABLE,
              'forwarded to a member that is no longer the leader; retry',
              true,
            );
          }
          const address = replica.directory.get(leader)?.peerAddress;
          if (!address)
            throw new StatusError(
              status.UNAVAILABLE,
              `the address of leader ${leader} is not known yet`,
              true,
            );
          return await forward(address);
        }
        const outcome = await replica.propose(encodeCommand(command));
        if (!outcome) throw new Error('a command produced no result');
        if (outcome.result.kind === 'sessionError') {
          throw new StatusError(status.FAILED_PRECONDITION, outcome.result.message);
        }
        if (outcome.result.kind === 'wrongShard') throw wrongShard(outcome.result.redirect);
        return respond(outcome.result);
      } catch (err) {
        if (isWrongShard(err)) throw err; // for the client to re-route: no leader change will change the answer
        if (attempt >= MAX_WRITE_ATTEMPTS || isForwarded(metadata) || !isNotApplied(err)) throw err;
        stale = leader;
      }
    }
  };

  /** Refuses a read confined to a slot this group does not serve at the applied index the read waited for. */
  const fenceRead = (range: KeyRange): void => {
    const redirect = machine().fenceRead(range);
    if (redirect !== undefined) throw wrongShard(redirect);
  };

  /**
   * Waits for the read barrier unless the client asked for a serializable (possibly stale) read. Reads are always
   * safe to repeat: one whose ReadIndex round was lost to a leader change goes again once a leader is known.
   */
  const readBarrier = async (serializable: boolean): Promise<void> => {
    if (serializable) return;
    for (let attempt = 1; ; attempt++) {
      try {
        if (replica.status().leader === '') await leaderNow(undefined);
        await replica.linearizableBarrier();
        return;
      } catch (err) {
        if (attempt >= MAX_WRITE_ATTEMPTS || !(err instanceof NotLeaderError)) throw err;
      }
    }
  };

  const rangeOptions = (limitValue: number, keysOnly: boolean, countOnly: boolean): RangeOptions =>
    withDefaultRangeLimit({ limit: limitValue, keysOnly, countOnly }, limits);

  const checkRange = (range: KeyRange, opts: RangeOptions): void => {
    const problem = validateRangeRequest(range, opts, limits);
    if (problem) throw new InvalidRequestError(problem);
  };

  /**
   * A write routed to its shard (routed), then proposed here or forwarded to this group's leader (write). `invoke`
   * sends the request unchanged to this group's leader; `remote` to a member of another shard, which routes it by
   * key again.
   */
  const routedWrite = <Req extends WriteRequest, Res>(
    req: Req,
    metadata: Metadata,
    op: ClientOperation,
    invoke: LeaderInvoke<Res>,
    remote: (shard: number, hops: number) => Promise<Res>,
    respond: (result: CommandResult) => Res,
  ): Promise<Res> =>
    routed(
      req,
      metadata,
      operationSlots(op),
      () =>
        write(
          req,
          metadata,
          op,
          (address) => forwarder.call<Res>((md, o, cb) => invoke(forwarder.kvClient(address), md, o, cb)),
          respond,
        ),
      remote,
    );

  /** Each call as a function of its request and metadata: served the same way by its unary call and by Forward. */
  const serve = {
    put: (req: wire.PutRequest, md: Metadata): Promise<wire.PutResponse> =>
      routedWrite(
        req,
        md,
        { kind: 'put', key: req.key, value: req.value, prevKv: req.prevKv },
        (c, m, o, cb) => c.put(req, m, o, cb),
        async (shard, hops) => (await shards.call(shard, hops, { $case: 'put', put: req })).put,
        (result) => {
          if (result.kind !== 'put') throw new Error(`put produced a ${result.kind} result`);
          return putResultToWire(result, header());
        },
      ),

    delete: (req: wire.DeleteRequest, md: Metadata): Promise<wire.DeleteResponse> =>
      routedWrite(
        req,
        md,
        { kind: 'delete', range: keyRangeFromWire(req.range), prevKv: req.prevKv },
        (c, m, o, cb) => c.delete(req, m, o, cb),
        async (shard, hops) => (await shards.call(shard, hops, { $case: 'delete', delete: req })).delete,
        (result) => {
          if (result.kind !== 'delete') throw new Error(`delete produced a ${result.kind} result`);
          return deleteResultToWire(result, header());
        },
      ),

    txn: (req: wire.TxnRequest, md: Metadata): Promise<wire.TxnResponse> =>
      routedWrite(
        req,
        md,
        {
          kind: 'txn',
          compare: req.compare.map(compareFromWire),
          success: req.success.map((o, i) => txnOpFromWire(o, `success[${i}]`)),
          failure: req.failure.map((o, i) => txnOpFromWire(o, `failure[${i}]`)),
        },
        (c, m, o, cb) => c.txn(req, m, o, cb),
        async (shard, hops) => (await shards.call(shard, hops, { $case: 'txn', txn: req })).txn,
        (result) => {
          if (result.kind !== 'txn') throw new Error(`txn produced a ${result.kind} result`);
          const h = header();
          return {
            header: h,
            succeeded: result.succeeded,
            responses: result.responses.map((r) => txnOpResultToWire(r, h)),
          };
        },
      ),

    get: (req: wire.GetRequest, md: Metadata): Promise<wire.GetResponse> => {
      checkRange({ kind: 'key', key: req.key }, { limit: 1, keysOnly: false, countOnly: false });
      return routed(
        req,
        md,
        rangeSlots({ kind: 'key', key: req.key }),
        async () => {
          await readBarrier(req.serializable);
          fenceRead({ kind: 'key', key: req.key });
          const found = machine().get(req.key);
          return { header: header(), kv: found ? keyValueToWire(found) : undefined };
        },
        async (shard, hops) => (await shards.call(shard, hops, { $case: 'get', get: req })).get,
      );
    },

    range: (req: wire.RangeRequest, md: Metadata): Promise<wire.RangeResponse> => {
      const range = keyRangeFromWire(req.range);
      const opts = rangeOptions(req.limit, req.keysOnly, req.countOnly);
      checkRange(range, opts);
      return routed(
        req,
        md,
        rangeSlots(range),
        async () => {
          await readBarrier(req.serializable);
          fenceRead(range);
          // The same synchronous turn as the scan: no move can apply between them.
          const m = machine();
          return rangeResultToWire(m.range(range, opts), header(), m.ownership.ownedCount);
        },
        async (shard, hops) => (await shards.call(shard, hops, { $case: 'range', range: req })).range,
      );
    },
  };

  /**
   * The slot map as this member knows it, or (shard_id set) as another shard's member does: a fan-out discovers the
   * groups this way, through whichever member it reached.
   */
  const slotMap = (req: wire.SlotMapRequest, md: Metadata): Promise<wire.SlotMapResponse> => {
    const target = req.shardId;
    if (target !== undefined && target !== options.shardId) {
      const sent = hopsOf(md, maxHops);
      if (!shards.canReach(target)) {
        throw new StatusError(
          status.FAILED_PRECONDITION,
          `this member has no route to shard ${target}`,
          true,
        );
      }
      if (sent >= maxHops) {
        throw new StatusError(status.UNAVAILABLE, `slot map request for shard ${target}: ${sent} hops`, true);
      }
      return shards.call(target, sent, { $case: 'slotMap', slotMap: req }).then((r) => r.slotMap);
    }
    const view = hints.view(options.shardId, machine().ownership);
    return Promise.resolve({
      header: header(),
      epoch: view.epoch,
      ranges: [...view.ranges],
      shardId: options.shardId,
    });
  };

  /** A request another member forwarded over its stream (forward-service.ts). */
  const dispatch: ForwardDispatch = async (request, md) => {
    switch (request.$case) {
      case 'put':
        return { $case: 'put', put: await serve.put(request.put, md) };
      case 'get':
        return { $case: 'get', get: await serve.get(request.get, md) };
      case 'delete':
        return { $case: 'delete', delete: await serve.delete(request.delete, md) };
      case 'txn':
        return { $case: 'txn', txn: await serve.txn(request.txn, md) };
      case 'range':
        return { $case: 'range', range: await serve.range(request.range, md) };
      case 'slotMap':
        return { $case: 'slotMap', slotMap: await slotMap(request.slotMap, md) };
    }
  };

  const unary = <Req, Res>(method: string, handle: (req: Req, md: Metadata) => Promise<Res>) =>
    unaryHandler<Req, Res>('KV', method, limit, options.observer, (req, call) => handle(req, call.metadata));

  return {
    put: unary('Put', serve.put),
    delete: unary('Delete', serve.delete),
    txn: unary('Txn', serve.txn),
    get: unary('Get', serve.get),
    range: unary('Range', serve.range),
    forward: forwardHandler(
      dispatch,
      limit,
      options.observer,
      options.maxMessageBytes,
      options.servedForwards,
    ),

    slotMap: unary('SlotMap', slotMap),
  };
}
