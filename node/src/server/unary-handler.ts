// Adapts an async request handler to grpc-js's callback style, with one place for error mapping, metrics and the
// in-flight bound (past it, requests fail fast with RESOURCE_EXHAUSTED instead of queueing without limit).
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { statusOf, toServiceError } from './grpc-errors.js';

/** Metrics hook: called when a request starts; the returned function is called once with its final status. */
export interface RpcObserver {
  startRequest?(service: string, method: string): (code: status) => void;
}

/**
 * The bound on requests being served at once: by count, and (for the KV service) by the bytes they carry, so a flood
 * of large requests is refused with RESOURCE_EXHAUSTED instead of growing the heap until the member is OOM-killed.
 */
export interface InFlightLimit {
  current: number;
  readonly max: number;
  /** Bytes of the requests in flight (keys, values and other payload), when `maxBytes` bounds them. */
  bytes?: number;
  readonly maxBytes?: number;
}

/**
 * Takes a slot (and `bytes`) of the limit, or says why not. A request larger than the whole byte budget is still
 * admitted when nothing else is in flight: the message size limit bounds it, and refusing it would refuse it always.
 */
export function admit(limit: InFlightLimit, bytes: number): string | undefined {
  if (limit.current >= limit.max) return `more than ${limit.max} requests in flight`;
  if (limit.maxBytes !== undefined) {
    const inFlight = limit.bytes ?? 0;
    if (inFlight > 0 && inFlight + bytes > limit.maxBytes) {
      return `${inFlight} bytes of requests in flight; this one (${bytes} bytes) would pass the ${limit.maxBytes}-byte bound`;
    }
    limit.bytes = inFlight + bytes;
  }
  limit.current++;
  return undefined;
}

export function release(limit: InFlightLimit, bytes: number): void {
  limit.current--;
  if (limit.maxBytes !== undefined) limit.bytes = (limit.bytes ?? 0) - bytes;
}

/** The bytes a decoded request carries: its byte strings and strings, however nested (keys, values, transactions). */
export function payloadBytes(value: unknown, depth = 0): number {
  if (value instanceof Uint8Array) return value.byteLength;
  if (typeof value === 'string') return value.length;
  if (depth > 8 || value === null || typeof value !== 'object') return 0;
  let total = 0;
  if (Array.isArray(value)) for (const item of value) total += payloadBytes(item, depth + 1);
  else for (const item of Object.values(value)) total += payloadBytes(item, depth + 1);
  return total;
}

export function unaryHandler<Req, Res>(
  service: string,
  method: string,
  limit: InFlightLimit,
  observer: RpcObserver | undefined,
  handle: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
): (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void {
  return (call, callback) => {
    const end = observer?.startRequest?.(service, method);
    const bytes = limit.maxBytes === undefined ? 0 : payloadBytes(call.request);
    const refusal = admit(limit, bytes);
    if (refusal !== undefined) {
      end?.(status.RESOURCE_EXHAUSTED);
      callback({ code: status.RESOURCE_EXHAUSTED, details: refusal });
      return;
    }
    // A handler that throws before its first await (a request checked synchronously) must not leak its slot in
    // the in-flight count or reach grpc-js as an unknown error: it fails like any other.
    let handled: Promise<Res>;
    try {
      handled = handle(call.request, call);
    } catch (err) {
      handled = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    handled.then(
      (response) => {
        release(limit, bytes);
        end?.(status.OK);
        callback(null, response);
      },
      (err: unknown) => {
        release(limit, bytes);
        end?.(statusOf(err).code);
        callback(toServiceError(err));
      },
    );
  };
}
