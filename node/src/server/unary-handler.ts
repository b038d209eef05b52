// Adapts an async request handler to grpc-js's callback style, with one place for error mapping, metrics and the
// in-flight bound (past it, requests fail fast with RESOURCE_EXHAUSTED instead of queueing without limit).
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { statusName, statusOf } from './grpc-errors.js';

export interface RpcObserver {
  onRequest?(service: string, method: string, code: string, seconds: number): void;
  onInFlight?(service: string, delta: number): void;
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
    const started = performance.now();
    const finish = (code: status): void => {
      observer?.onRequest?.(service, method, statusName(code), (performance.now() - started) / 1000);
    };
    if (limit.current >= limit.max) {
      finish(status.RESOURCE_EXHAUSTED);
      callback({ code: status.RESOURCE_EXHAUSTED, details: `more than ${limit.max} requests in flight` });
      return;
    }
    limit.current++;
    observer?.onInFlight?.(service, 1);
    handle(call.request, call).then(
      (response) => {
        limit.current--;
        observer?.onInFlight?.(service, -1);
        finish(status.OK);
        callback(null, response);
      },
      (err: unknown) => {
        limit.current--;
        observer?.onInFlight?.(service, -1);
        const { code, details } = statusOf(err);
        finish(code);
        callback({ code, details });
      },
    );
  };
}
