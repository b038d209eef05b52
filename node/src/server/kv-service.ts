// The client-facing KV service. Writes are proposed on the leader (a follower forwards them there); reads are
// linearizable by default through a ReadIndex barrier, which works on any member, so reads spread over followers;
// serializable reads answer from local state at once.
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import type { KVServer } from '../api/generated/raftstore/v1/kv.js';
import type * as wire from '../api/generated/raftstore/v1/kv.js';
import type { ResponseHeader, RequestHeader } from '../api/generated/raftstore/v1/common.js';
import { encodeCommand } from '../kv/command-codec.js';
import type { KvLimits } from '../kv/limits.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { ApplyOutcome, Command, CommandResult, KeyRange, Operation, RangeOptions } from '../kv/types.js';
import { validateCommand, validateRangeRequest, withDefaultRangeLimit } from '../kv/validate.js';
import type { RaftReplica } from '../replica/raft-replica.js';
import { StatusError } from './grpc-errors.js';
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
  readonly observer?: RpcObserver;
}

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

  /** Runs the write here if we lead; otherwise forwards the original request to the leader. */
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
    const leader = replica.status().leader;
    if (leader !== replica.id) {
      if (leader === '')
        throw new StatusError(status.UNAVAILABLE, 'no leader is known right now; retry shortly');
      if (isForwarded(call.metadata)) {
        throw new StatusError(
          status.UNAVAILABLE,
          'forwarded to a member that is no longer the leader; retry',
        );
      }
      const address = replica.directory.get(leader)?.peerAddress;
      if (!address)
        throw new StatusError(status.UNAVAILABLE, `the address of leader ${leader} is not known yet`);
      return forward(address);
    }
    const outcome = await replica.propose(encodeCommand(command));
    if (!outcome) throw new Error('a command produced no result');
    if (outcome.result.kind === 'sessionError') {
      throw new StatusError(status.FAILED_PRECONDITION, outcome.result.message);
    }
    return respond(outcome.result);
  };

  /** Waits for the read barrier unless the client asked for a serializable (possibly stale) read. */
  const readBarrier = async (shardId: number, serializable: boolean): Promise<void> => {
    checkShard(shardId);
    if (!serializable) await replica.linearizableBarrier();
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
        return rangeResultToWire(machine().range(range, opts), header());
      },
    ),
  };
}
