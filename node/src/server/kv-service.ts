// The client-facing KV service. Writes are proposed on the leader (a follower forwards them there); reads are
// linearizable by default through a ReadIndex barrier, which works on any member, so reads spread over followers;
// serializable reads answer from local state at once.
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import type { KVServer } from '../../shared/api/generated/raftstore/v1/kv.js';
import type * as wire from '../../shared/api/generated/raftstore/v1/kv.js';
import type { ResponseHeader, RequestHeader } from '../../shared/api/generated/raftstore/v1/common.js';
import { encodeCommand } from '../kv/command-codec.js';
import type { KvLimits } from '../kv/limits.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { ApplyOutcome, Command, CommandResult, KeyRange, Operation, RangeOptions } from '../kv/types.js';
import { validateCommand, validateRangeRequest, withDefaultRangeLimit } from '../kv/validate.js';
import type { RaftReplica } from '../replica/raft-replica.js';
import { NotLeaderError } from '../replica/errors.js';
import { isNotApplied, isWrongShard, StatusError, WrongShardError } from './grpc-errors.js';
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
import { unaryHandler, type InFlightLimit, type RpcObserver } from './unary-handler.js';

export interface KvServiceOptions {
  readonly shardId: number;
  readonly memberName: string;
  readonly replica: RaftReplica<ApplyOutcome>;
  readonly limits: KvLimits;
  readonly forwarder: LeaderForwarder;
  readonly now: () => number;
  readonly maxInFlight: number;
  /**
   * How long a request waits for a leader during an election or a leadership transfer before it fails with
   * UNAVAILABLE; about two election timeouts. Clients then see a handoff as latency, not as errors.
   */
  readonly leaderWaitMs: number;
  readonly observer?: RpcObserver;
}

/** A write that certainly did not apply because leadership moved under it is tried again, at most this often. */
const MAX_WRITE_ATTEMPTS = 3;

type WriteRequest = { shardId: number; header?: RequestHeader | undefined };

export function createKvService(options: KvServiceOptions): KVServer {
  const { replica, limits, forwarder } = options;
  const limit: InFlightLimit = { current: 0, max: options.maxInFlight };
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

  const checkShard = (shardId: number): void => {
    if (shardId !== options.shardId) {
      throw new StatusError(
        status.FAILED_PRECONDITION,
        `this member serves shard ${options.shardId}, not shard ${shardId}`,
      );
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
    call: ServerUnaryCall<Req, Res>,
    op: Operation,
    forward: (address: string) => Promise<Res>,
    respond: (result: CommandResult) => Res,
  ): Promise<Res> => {
    checkShard(request.shardId);
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
          if (isForwarded(call.metadata)) {
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
        if (outcome.result.kind === 'wrongShard')
          throw new WrongShardError(outcome.result.redirect, options.shardId);
        return respond(outcome.result);
      } catch (err) {
        if (isWrongShard(err)) throw err; // for the client to re-route: no leader change will change the answer
        if (attempt >= MAX_WRITE_ATTEMPTS || isForwarded(call.metadata) || !isNotApplied(err)) throw err;
        stale = leader;
      }
    }
  };

  /** Refuses a read confined to a slot this group does not serve at the applied index the read waited for. */
  const fenceRead = (range: KeyRange): void => {
    const redirect = machine().fenceRead(range);
    if (redirect !== undefined) throw new WrongShardError(redirect, options.shardId);
  };

  /**
   * Waits for the read barrier unless the client asked for a serializable (possibly stale) read. Reads are always
   * safe to repeat: one whose ReadIndex round was lost to a leader change goes again once a leader is known.
   */
  const readBarrier = async (shardId: number, serializable: boolean): Promise<void> => {
    checkShard(shardId);
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

  return {
    put: unaryHandler<wire.PutRequest, wire.PutResponse>('KV', 'Put', limit, options.observer, (req, call) =>
      write(
        req,
        call,
        { kind: 'put', key: req.key, value: req.value, prevKv: req.prevKv },
        (address) =>
          forwarder.call<wire.PutResponse>((md, o, cb) => forwarder.kvClient(address).put(req, md, o, cb)),
        (result) => {
          if (result.kind !== 'put') throw new Error(`put produced a ${result.kind} result`);
          return putResultToWire(result, header());
        },
      ),
    ),

    delete: unaryHandler<wire.DeleteRequest, wire.DeleteResponse>(
      'KV',
      'Delete',
      limit,
      options.observer,
      (req, call) =>
        write(
          req,
          call,
          { kind: 'delete', range: keyRangeFromWire(req.range), prevKv: req.prevKv },
          (address) =>
            forwarder.call<wire.DeleteResponse>((md, o, cb) =>
              forwarder.kvClient(address).delete(req, md, o, cb),
            ),
          (result) => {
            if (result.kind !== 'delete') throw new Error(`delete produced a ${result.kind} result`);
            return deleteResultToWire(result, header());
          },
        ),
    ),

    txn: unaryHandler<wire.TxnRequest, wire.TxnResponse>('KV', 'Txn', limit, options.observer, (req, call) =>
      write(
        req,
        call,
        {
          kind: 'txn',
          compare: req.compare.map(compareFromWire),
          success: req.success.map((op, i) => txnOpFromWire(op, `success[${i}]`)),
          failure: req.failure.map((op, i) => txnOpFromWire(op, `failure[${i}]`)),
        },
        (address) =>
          forwarder.call<wire.TxnResponse>((md, o, cb) => forwarder.kvClient(address).txn(req, md, o, cb)),
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
    ),

    get: unaryHandler<wire.GetRequest, wire.GetResponse>(
      'KV',
      'Get',
      limit,
      options.observer,
      async (req) => {
        checkRange({ kind: 'key', key: req.key }, { limit: 1, keysOnly: false, countOnly: false });
        await readBarrier(req.shardId, req.serializable);
        fenceRead({ kind: 'key', key: req.key });
        const kv = machine().get(req.key);
        return { header: header(), kv: kv ? keyValueToWire(kv) : undefined };
      },
    ),

    range: unaryHandler<wire.RangeRequest, wire.RangeResponse>(
      'KV',
      'Range',
      limit,
      options.observer,
      async (req) => {
        const range = keyRangeFromWire(req.range);
        const opts = rangeOptions(req.limit, req.keysOnly, req.countOnly);
        checkRange(range, opts);
        await readBarrier(req.shardId, req.serializable);
        fenceRead(range);
        return rangeResultToWire(machine().range(range, opts), header());
      },
    ),
  };
}
