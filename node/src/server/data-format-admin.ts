// The Cluster service's SetDataFormat: sets the data format a group writes (shared/versioning/data-format.ts) with a
// replicated entry. Raising it is gated like etcd's cluster version and CockroachDB's finalisation: every other
// member of the configuration, voter or learner, must report over its peer address a build that reads the new
// format, and a member that does not answer blocks it (what it runs is unknown). Lowering it, before a downgrade,
// needs no check: a build that reads a format reads every lower one. Every member that applies a lowering entry
// rewrites its snapshot in the lower format (RaftReplica's snapshotAfter); the leader answers once its own is durable.
// Runs on the leader; a follower forwards the request once.

import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type * as wire from '../../shared/api/generated/raftstore/v1/cluster.js';
import {
  BASE_DATA_FORMAT,
  MAX_DATA_FORMAT,
  reportedDataFormat,
} from '../../shared/versioning/data-format.js';
import { encodeCommand } from '../kv/command-codec.js';
import type { KvStateMachine } from '../kv/state-machine.js';
import type { NodeId } from '../raft/types.js';
import { StatusError } from './grpc-errors.js';
import { InvalidRequestError } from './request-error.js';
import type { SlotAdminOptions } from './slot-admin.js';
import { unaryHandler } from './unary-handler.js';

/** How long the leader waits for each member's Status before raising the format: the members are asked at once. */
export const PEER_STATUS_DEADLINE_MS = 2000;

export interface DataFormatAdminOptions extends SlotAdminOptions {
  readonly shardId: number;
  /** Deadline of each member's Status call; PEER_STATUS_DEADLINE_MS unless given. */
  readonly peerStatusMs?: number;
}

/** What a member said when asked which formats it reads: its Status, or why there is none. */
type PeerReport =
  | { readonly name: string; readonly status: wire.StatusResponse }
  | { readonly name: string; readonly error: string };

function checkFormat(format: number): void {
  if (!Number.isInteger(format) || format < BASE_DATA_FORMAT || format > MAX_DATA_FORMAT) {
    throw new InvalidRequestError(
      `data format ${format} is outside the formats this member knows, ${BASE_DATA_FORMAT} to ${MAX_DATA_FORMAT}`,
    );
  }
}

/**
 * Why `format` may not be raised to given what the members reported, or undefined when every member reads it. A
 * member too old to read it is named first (upgrading it is the fix), then one that did not answer.
 */
function raiseRefusal(format: number, reports: readonly PeerReport[]): StatusError | undefined {
  for (const report of reports) {
    if (!('status' in report)) continue;
    const reads = reportedDataFormat(report.status.maxDataFormat);
    if (reads < format) {
      const version = report.status.version === '' ? 'unknown' : report.status.version;
      return new StatusError(
        status.FAILED_PRECONDITION,
        `member ${report.name} (version ${version}) reads data formats up to ${reads}: upgrade it before raising the format to ${format}`,
        true,
      );
    }
  }
  for (const report of reports) {
    if ('error' in report) {
      return new StatusError(
        status.UNAVAILABLE,
        `member ${report.name} did not say which data formats it reads (${report.error}); every member must before the format is raised to ${format}`,
        true,
      );
    }
  }
  return undefined;
}

export function createDataFormatHandler(
  o: DataFormatAdminOptions,
): Pick<wire.ClusterServer, 'setDataFormat'> {
  const { replica, forwarder } = o;
  const peerStatusMs = o.peerStatusMs ?? PEER_STATUS_DEADLINE_MS;

  /** One member's Status over its peer address, with its own deadline; never rejects. */
  const askPeer = (id: NodeId): Promise<PeerReport> => {
    const info = replica.directory.get(id);
    const name = info?.name ?? id;
    if (info === undefined || info.peerAddress === '') {
      return Promise.resolve({ name, error: 'its peer address is not known' });
    }
    return new Promise<PeerReport>((resolve) => {
      forwarder
        .clusterClient(info.peerAddress)
        .status(
          { shardId: o.shardId },
          new Metadata(),
          { deadline: Date.now() + peerStatusMs },
          (err: ServiceError | null, res: wire.StatusResponse) => {
            if (err) resolve({ name, error: `${status[err.code] ?? err.code}: ${err.details}` });
            // A member replaced at the same address (a new incarnation) is not the one in the configuration.
            else if (res.id !== '' && res.id !== id) {
              resolve({ name, error: `${info.peerAddress} answers as member ${res.id}, not ${id}` });
            } else resolve({ name, status: res });
          },
        );
    });
  };

  const setLocally = async (format: number): Promise<wire.SetDataFormatResponse> => {
    // The format as of every entry committed before the request: a new leader may not have applied them all yet.
    await replica.linearizableBarrier();
    const current = (replica.stateMachine as KvStateMachine).dataFormat;
    if (format === current) return { header: o.header(), previous: current, format, index: 0 };
    if (format > current) {
      const st = replica.status();
      const others = [...st.config.voters, ...st.config.learners].filter((id) => id !== replica.id);
      const refusal = raiseRefusal(format, await Promise.all(others.map(askPeer)));
      if (refusal !== undefined) throw refusal;
    }
    // A member added after the check is not asked: the operator adds members of the release it runs.
    const outcome = await replica.propose(
      encodeCommand({ timestampMs: o.now(), op: { kind: 'setDataFormat', format } }),
    );
    const result = outcome?.result;
    if (result?.kind !== 'dataFormat') {
      throw new StatusError(status.INTERNAL, `a setDataFormat command produced ${result?.kind}`);
    }
    // Checked above against the same bounds the state machine applies: a refusal here is a bug, not a request error.
    if (!result.ok) throw new StatusError(status.INTERNAL, result.reason);
    // Lowered: this member's snapshot is already being rewritten (snapshotAfter); answer once it is durable.
    if (result.format < result.previous) await replica.requestSnapshot();
    return { header: o.header(), previous: result.previous, format: result.format, index: result.index };
  };

  return {
    setDataFormat: unaryHandler<wire.SetDataFormatRequest, wire.SetDataFormatResponse>(
      'Cluster',
      'SetDataFormat',
      o.limit,
      o.observer,
      (req, call) => {
        o.checkShard(req.shardId);
        checkFormat(req.format);
        return o.onLeader(
          call,
          () => setLocally(req.format),
          (address) =>
            forwarder.call<wire.SetDataFormatResponse>((md, opts, cb) =>
              forwarder.clusterClient(address).setDataFormat(req, md, opts, cb),
            ),
        );
      },
    ),
  };
}
