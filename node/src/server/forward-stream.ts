// The sending half of member-to-member forwarding (KV.Forward): one long-lived stream per address, many requests
// per message. A unary call per forwarded request made the forwarding member run a gRPC server call and a gRPC
// client call per write, which cost more CPU than the replicated write itself (HTTP/2 stream setup, headers, call
// objects); here a request costs its protobuf encoding and a map entry. Requests sent in one event-loop turn leave
// in one message; replies come back in batches, in any order, matched by id.
//
// What a failure means, as with a unary call: a stream that never got a connection (no connection established, the
// name resolves to nothing) sent nothing, so its requests fail as "never sent" and the caller may try another
// member; a stream that broke once connected leaves its requests' outcome unknown. Every request is bounded by its
// own timer, every stream by a cap on requests awaiting a reply.
//
// A member of a version before KV.Forward answers the stream UNIMPLEMENTED, having run nothing: during a rolling
// upgrade its requests go as unary calls instead (as every version did before), and the stream is tried again
// after a while, since that member will be upgraded too.
import { Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import {
  ForwardedReply,
  ForwardedRequest,
  type ForwardBatch,
  type ForwardFailure,
  type ForwardReplyBatch,
  type KVClient,
} from '../../shared/api/generated/raftstore/v1/kv.js';
import { neverSent } from './leader-forwarder.js';
import { isNotApplied, StatusError } from './grpc-errors.js';
import { ROUTE_HOPS_HEADER } from './route-hops.js';

export type ForwardRequest = NonNullable<ForwardedRequest['request']>;
export type ForwardReply = Exclude<NonNullable<ForwardedReply['reply']>, { $case: 'failure' }>;
export type ForwardCase = ForwardRequest['$case'];
export type RequestOf<C extends ForwardCase> = Extract<ForwardRequest, { $case: C }>;
export type ReplyOf<C extends ForwardCase> = Extract<ForwardReply, { $case: C }>;

/** How a forwarded request reaches one address: streams in production, a fake in tests. */
export interface ForwardTransport {
  /** Resolves with the reply, or rejects with the failure as a ServiceError (trailers in its metadata). */
  send(address: string, hops: number, request: ForwardRequest, timeoutMs: number): Promise<ForwardReply>;
}

/** Where the streams get a channel to an address: the member's one cache of KV channels. */
export interface KvChannels {
  kvClient(address: string): KVClient;
}

/** Why a stopping member refuses a forwarded request; nothing was applied, another member may take it. */
export const MEMBER_STOPPING = 'this member is stopping: send the request to another member';

/** Whether `err` is a stopping member's refusal (forwarded or not): safe to send to another member at once. */
export function isMemberStopping(err: unknown): boolean {
  const e = err as Partial<ServiceError> | undefined;
  const text = typeof e?.details === 'string' ? e.details : err instanceof Error ? err.message : '';
  return e?.code === status.UNAVAILABLE && text === MEMBER_STOPPING && isNotApplied(err);
}

/** Bytes a batch spends on one item besides the item itself: its field tag and length. */
const ITEM_OVERHEAD_BYTES = 6;

/**
 * Groups encoded items into batches of at most `maxBytes` each (in order). An item that alone exceeds the budget is
 * the caller's to refuse before it gets here.
 */
export function packBatches(items: readonly Uint8Array[], maxBytes: number): Uint8Array[][] {
  const batches: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.length + ITEM_OVERHEAD_BYTES;
    if (current.length > 0 && bytes + size > maxBytes) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Whether one encoded item fits in a batch on its own. */
export function fitsInBatch(item: Uint8Array, maxBytes: number): boolean {
  return item.length + ITEM_OVERHEAD_BYTES <= maxBytes;
}

/** A failure the receiving member answered, as the ServiceError a unary call would have failed with. */
export function failureToError(failure: ForwardFailure): ServiceError {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(failure.trailers)) metadata.set(key, value);
  return Object.assign(new Error(`${failure.code} ${status[failure.code] ?? ''}: ${failure.details}`), {
    code: failure.code,
    details: failure.details,
    metadata,
  });
}

/** How long an address that does not know KV.Forward gets unary calls before the stream is tried again. */
export const UNARY_FALLBACK_MS = 30_000;

/**
 * One forwarded request as the unary call of its kind (what members did before KV.Forward, and what a member of
 * that version still takes), its hop count in the metadata.
 */
export function unaryForward(
  client: KVClient,
  hops: number,
  request: ForwardRequest,
  timeoutMs: number,
): Promise<ForwardReply> {
  const md = new Metadata();
  md.set(ROUTE_HOPS_HEADER, String(hops));
  const options = { deadline: Date.now() + timeoutMs };
  return new Promise<ForwardReply>((resolve, reject) => {
    const done =
      <T>(wrap: (response: T) => ForwardReply) =>
      (err: ServiceError | null, response: T): void =>
        err ? reject(err) : resolve(wrap(response));
    switch (request.$case) {
      case 'put':
        client.put(
          request.put,
          md,
          options,
          done((put) => ({ $case: 'put', put })),
        );
        return;
      case 'get':
        client.get(
          request.get,
          md,
          options,
          done((get) => ({ $case: 'get', get })),
        );
        return;
      case 'delete':
        client.delete(
          request.delete,
          md,
          options,
          done((del) => ({ $case: 'delete', delete: del })),
        );
        return;
      case 'txn':
        client.txn(
          request.txn,
          md,
          options,
          done((txn) => ({ $case: 'txn', txn })),
        );
        return;
      case 'range':
        client.range(
          request.range,
          md,
          options,
          done((range) => ({ $case: 'range', range })),
        );
        return;
      case 'slotMap':
        client.slotMap(
          request.slotMap,
          md,
          options,
          done((slotMap) => ({ $case: 'slotMap', slotMap })),
        );
        return;
    }
  });
}

interface Pending {
  readonly resolve: (reply: ForwardReply) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  /** The stream it was written to. */
  readonly stream: ClientDuplexStream<ForwardBatch, ForwardReplyBatch>;
  /** What was sent, to send again as a unary call to a member that does not know KV.Forward. */
  readonly hops: number;
  readonly request: ForwardRequest;
  readonly deadline: number;
}

/** One address's stream: opened on first use, replaced after it fails. */
class AddressStream {
  private stream: ClientDuplexStream<ForwardBatch, ForwardReplyBatch> | undefined;
  /** Streams on which the receiver's headers arrived: connected, so a failure there may follow delivery. */
  private readonly connected = new WeakSet<object>();
  private readonly pending = new Map<number, Pending>();
  /** Encoded requests not yet written, with their ids. */
  private queue: { id: number; bytes: Uint8Array }[] = [];
  private flushScheduled = false;
  private nextId = 1;
  /** Until when requests to this address go as unary calls (it answered the stream UNIMPLEMENTED). */
  private unaryUntil = 0;

  constructor(
    private readonly address: string,
    private readonly client: () => KVClient,
    private readonly maxPending: number,
    private readonly maxMessageBytes: number,
    private readonly now: () => number,
  ) {}

  send(hops: number, request: ForwardRequest, timeoutMs: number): Promise<ForwardReply> {
    if (this.now() < this.unaryUntil) return unaryForward(this.client(), hops, request, timeoutMs);
    if (this.pending.size >= this.maxPending) {
      return Promise.reject(
        new StatusError(
          status.RESOURCE_EXHAUSTED,
          `more than ${this.maxPending} forwarded requests await a reply from ${this.address}`,
          true,
        ),
      );
    }
    const id = this.nextId++;
    const bytes = ForwardedRequest.encode({ id, hops, request }).finish();
    if (!fitsInBatch(bytes, this.maxMessageBytes)) {
      return Promise.reject(
        new StatusError(
          status.RESOURCE_EXHAUSTED,
          `the request is ${bytes.length} bytes, more than the ${this.maxMessageBytes} a member takes`,
          true,
        ),
      );
    }
    const stream = (this.stream ??= this.open());
    return new Promise<ForwardReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.pending.delete(id)) {
          reject(
            Object.assign(new Error(`no reply from ${this.address} within ${timeoutMs} ms`), {
              code: status.DEADLINE_EXCEEDED,
              details: `forwarded to ${this.address}: no reply within ${timeoutMs} ms`,
              metadata: new Metadata(),
            }),
          );
        }
      }, timeoutMs);
      this.pending.set(id, {
        resolve,
        reject,
        timer,
        stream,
        hops,
        request,
        deadline: this.now() + timeoutMs,
      });
      this.queue.push({ id, bytes });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  close(): void {
    this.stream?.end();
    this.stream = undefined;
  }

  private flush(): void {
    this.flushScheduled = false;
    // Requests whose timer fired before the flush are not sent at all.
    const requests = this.queue.filter((r) => this.pending.has(r.id));
    this.queue = [];
    if (requests.length === 0) return;
    const stream = this.stream;
    if (stream === undefined) {
      // The stream failed between send and flush: its failure already rejected these requests.
      return;
    }
    for (const batch of packBatches(
      requests.map((r) => r.bytes),
      this.maxMessageBytes,
    )) {
      stream.write({ requests: batch });
    }
  }

  private open(): ClientDuplexStream<ForwardBatch, ForwardReplyBatch> {
    const stream = this.client().forward(new Metadata());
    stream.on('metadata', () => this.connected.add(stream));
    stream.on('data', (batch: ForwardReplyBatch) => {
      for (const bytes of batch.replies) {
        let reply: ForwardedReply;
        try {
          reply = ForwardedReply.decode(bytes);
        } catch (err) {
          // Which request it answered is unknown: the stream is no longer to be trusted.
          this.fail(
            stream,
            Object.assign(new Error('undecodable reply'), {
              code: status.INTERNAL,
              details: `${this.address} sent a reply that does not decode: ${(err as Error).message}`,
              metadata: new Metadata(),
            }),
          );
          return;
        }
        this.settle(reply);
      }
    });
    stream.on('error', (err: ServiceError) => this.fail(stream, err));
    // The receiver ended the stream without an error (it is shutting down): what is still pending got no reply.
    stream.on('end', () =>
      this.fail(
        stream,
        Object.assign(new Error('the forward stream ended'), {
          code: status.UNAVAILABLE,
          details: `${this.address} ended the forward stream`,
          metadata: new Metadata(),
        }),
      ),
    );
    return stream;
  }

  private settle(r: ForwardedReply): void {
    const p = this.pending.get(r.id);
    if (p === undefined) return; // timed out already
    this.pending.delete(r.id);
    clearTimeout(p.timer);
    if (r.reply === undefined)
      p.reject(new StatusError(status.INTERNAL, `${this.address} sent an empty reply`));
    else if (r.reply.$case === 'failure') p.reject(failureToError(r.reply.failure));
    else p.resolve(r.reply);
  }

  /** Every request written to `stream` fails: as never sent if it never connected, else with an unknown outcome. */
  private fail(stream: ClientDuplexStream<ForwardBatch, ForwardReplyBatch>, err: ServiceError): void {
    if (this.stream === stream) this.stream = undefined;
    const sentNothing = neverSent(err) && !this.connected.has(stream);
    // An older member: it ran nothing of the stream, so what was on it goes again, as unary calls.
    const unimplemented = err.code === status.UNIMPLEMENTED;
    if (unimplemented) this.unaryUntil = this.now() + UNARY_FALLBACK_MS;
    for (const [id, p] of this.pending) {
      if (p.stream !== stream) continue;
      this.pending.delete(id);
      clearTimeout(p.timer);
      if (unimplemented) {
        unaryForward(this.client(), p.hops, p.request, Math.max(1, p.deadline - this.now())).then(
          p.resolve,
          p.reject,
        );
        continue;
      }
      p.reject(
        sentNothing
          ? err
          : new StatusError(
              status.UNAVAILABLE,
              `the forward stream to ${this.address} broke (${err.details}); the request may or may not have been applied`,
            ),
      );
    }
    stream.cancel();
  }
}

/** Streams to every address this member forwards to. */
export class ForwardStreams implements ForwardTransport {
  private readonly streams = new Map<string, AddressStream>();

  constructor(
    private readonly channels: KvChannels,
    /** The largest message the receiving members take (their --max-request-bytes). */
    private readonly maxMessageBytes: number,
    /** Requests awaiting a reply on one stream, at most. */
    private readonly maxPendingPerAddress = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  send(address: string, hops: number, request: ForwardRequest, timeoutMs: number): Promise<ForwardReply> {
    let s = this.streams.get(address);
    if (s === undefined) {
      s = new AddressStream(
        address,
        () => this.channels.kvClient(address),
        this.maxPendingPerAddress,
        this.maxMessageBytes,
        this.now,
      );
      this.streams.set(address, s);
    }
    return s.send(hops, request, timeoutMs);
  }

  close(): void {
    for (const s of this.streams.values()) s.close();
    this.streams.clear();
  }
}
