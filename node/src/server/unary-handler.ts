// Adapts an async request handler to grpc-js's callback style, with one place for error mapping, metrics and the
// in-flight bound (past it, requests fail fast with RESOURCE_EXHAUSTED instead of queueing without limit).
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { statusOf, toServiceError } from './grpc-errors.js';

/** Metrics hook: called when a request starts; the returned function is called once with its final status. */
export interface RpcObserver {
  startRequest?(service: string, method: string): (code: status) => void;
}

export interface InFlightLimit {
  current: number;
  readonly max: number;
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
    if (limit.current >= limit.max) {
      end?.(status.RESOURCE_EXHAUSTED);
      callback({ code: status.RESOURCE_EXHAUSTED, details: `more than ${limit.max} requests in flight` });
      return;
    }
    limit.current++;
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
        limit.current--;
        end?.(status.OK);
        callback(null, response);
      },
      (err: unknown) => {
        limit.current--;
        end?.(statusOf(err).code);
        callback(toServiceError(err));
      },
    );
  };
}
