// The receiving half of member-to-member forwarding (KV.Forward, see forward-stream.ts): each request of a batch is
// served exactly as the unary call of its kind would be — same routing, same in-flight bound, same metrics — and
// its reply (or the failure a unary call would have returned, trailers included) goes back in the next batch of
// replies. Headers go out at once, so the sender can tell a connected stream from one that never reached us.
import { Metadata, status, type ServerDuplexStream } from '@grpc/grpc-js';
import {
  ForwardedReply,
  ForwardedRequest,
  type ForwardBatch,
  type ForwardFailure,
  type ForwardReplyBatch,
} from '../../shared/api/generated/raftstore/v1/kv.js';
import {
  fitsInBatch,
  MEMBER_STOPPING,
  packBatches,
  type ForwardReply,
  type ForwardRequest,
} from './forward-stream.js';
import { StatusError, statusOf, toServiceError } from './grpc-errors.js';
import { InvalidRequestError } from './request-error.js';
import { ROUTE_HOPS_HEADER } from './route-hops.js';
import { admit, release, type InFlightLimit, type RpcObserver } from './unary-handler.js';

/** Serves one forwarded request as its unary call would, given the metadata that call would carry. */
export type ForwardDispatch = (request: ForwardRequest, metadata: Metadata) => Promise<ForwardReply>;

const METHODS: Record<ForwardRequest['$case'], string> = {
  put: 'Put',
  get: 'Get',
  delete: 'Delete',
  txn: 'Txn',
  range: 'Range',
  slotMap: 'SlotMap',
};

/** A failure as the trailers and status a unary call would have carried. */
export function failureOf(err: unknown): ForwardFailure {
  const e = toServiceError(err);
  const trailers: Record<string, string> = {};
  for (const [key, value] of Object.entries(e.metadata?.getMap() ?? {})) {
    if (typeof value === 'string') trailers[key] = value;
  }
  return { code: e.code ?? status.UNKNOWN, details: e.details ?? '', trailers };
}

/**
 * The forward streams a member serves, so that a member that stops can end them: a stream lives as long as both
 * members do, and an open one would hold up the server's graceful shutdown until its grace period ran out. Once
 * drained, each stream ends as soon as the requests it already took are answered, and refuses new ones as not
 * applied (the sender then goes to another member).
 */
export class ServedForwardStreams {
  readonly #streams = new Set<{ drain(): void }>();
  #draining = false;

  get draining(): boolean {
    return this.#draining;
  }

  /** A stream opened while draining is not ended at once: it refuses what it gets, then ends (see below). */
  add(stream: { drain(): void }): void {
    this.#streams.add(stream);
  }

  delete(stream: { drain(): void }): void {
    this.#streams.delete(stream);
  }

  drain(): void {
    this.#draining = true;
    for (const s of this.#streams) s.drain();
  }
}

export function forwardHandler(
  dispatch: ForwardDispatch,
  limit: InFlightLimit,
  observer: RpcObserver | undefined,
  /** The largest message the forwarding member takes back. */
  maxMessageBytes: number,
  served: ServedForwardStreams = new ServedForwardStreams(),
): (call: ServerDuplexStream<ForwardBatch, ForwardReplyBatch>) => void {
  return (call) => {
    call.sendMetadata(new Metadata());
    let replies: Uint8Array[] = [];
    let flushScheduled = false;
    let outstanding = 0;
    /** The sender half-closed, or this member is stopping: end once every request taken is answered. */
    let ending = false;
    let gone = false;
    const finish = (): void => {
      if (gone) return;
      gone = true;
      served.delete(entry);
      call.end();
    };
    const flush = (): void => {
      flushScheduled = false;
      if (gone) return;
      if (replies.length > 0) {
        for (const batch of packBatches(replies, maxMessageBytes)) call.write({ replies: batch });
        replies = [];
      }
      if (ending && outstanding === 0) finish();
    };
    const entry = {
      drain: (): void => {
        ending = true;
        if (outstanding === 0 && replies.length === 0) finish();
      },
    };
    served.add(entry);
    const reply = (r: ForwardedReply): void => {
      let bytes = ForwardedReply.encode(r).finish();
      if (!fitsInBatch(bytes, maxMessageBytes)) {
        // Too large to send back in one message: the forwarding member gets why instead, as a unary call's
        // client would when a reply exceeds what it takes.
        const failure = {
          code: status.RESOURCE_EXHAUSTED,
          details:
            `the reply is ${bytes.length} bytes, more than the ${maxMessageBytes} a forwarded reply may be; ` +
            'ask a member of the owning shard directly, or read less at a time',
          trailers: {},
        };
        bytes = ForwardedReply.encode({ id: r.id, reply: { $case: 'failure', failure } }).finish();
      }
      replies.push(bytes);
      if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(flush);
      }
    };
    call.on('data', (batch: ForwardBatch) => {
      for (const encoded of batch.requests) {
        let decoded: ForwardedRequest;
        try {
          decoded = ForwardedRequest.decode(encoded);
        } catch {
          // No id to answer: the sender's timer will fail it. Nothing else on the stream is affected.
          observer?.startRequest?.('KV', 'Forward')(status.INVALID_ARGUMENT);
          continue;
        }
        const { id, hops, request } = decoded;
        if (served.draining) {
          const failure = failureOf(new StatusError(status.UNAVAILABLE, MEMBER_STOPPING, true));
          reply({ id, reply: { $case: 'failure', failure } });
          ending = true; // ends once these refusals are out
          continue;
        }
        if (request === undefined) {
          reply({
            id,
            reply: {
              $case: 'failure',
              failure: failureOf(new InvalidRequestError('a forwarded request names no call')),
            },
          });
          continue;
        }
        const end = observer?.startRequest?.('KV', METHODS[request.$case]);
        const bytes = encoded.byteLength;
        const refusal = admit(limit, bytes);
        if (refusal !== undefined) {
          end?.(status.RESOURCE_EXHAUSTED);
          reply({
            id,
            reply: {
              $case: 'failure',
              failure: { code: status.RESOURCE_EXHAUSTED, details: refusal, trailers: {} },
            },
          });
          continue;
        }
        outstanding++;
        const metadata = new Metadata();
        metadata.set(ROUTE_HOPS_HEADER, String(hops));
        dispatch(request, metadata).then(
          (r) => {
            release(limit, bytes);
            outstanding--;
            end?.(status.OK);
            reply({ id, reply: r });
          },
          (err: unknown) => {
            release(limit, bytes);
            outstanding--;
            end?.(statusOf(err).code);
            reply({ id, reply: { $case: 'failure', failure: failureOf(err) } });
          },
        );
      }
    });
    call.on('end', () => entry.drain());
    const stop = (): void => {
      gone = true;
      served.delete(entry);
    };
    call.on('cancelled', stop);
    call.on('error', stop);
  };
}
