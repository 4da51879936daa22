// Times each unary control-plane call from its arrival to its status, for the gRPC rate and latency
// panels. Streams (WatchMembership) are left out: their duration is a subscription's lifetime.
import * as grpc from '@grpc/grpc-js';
import { CONTROL_PLANE_SERVICE } from './proto.js';

/** Called once per answered call with the rpc name, the status code's name and the seconds taken. */
export type CallObserver = (rpc: string, code: string, seconds: number) => void;

export function callTimer(observe: CallObserver): grpc.ServerInterceptor {
  const prefix = `/${CONTROL_PLANE_SERVICE}/`;
  return (method, call) => {
    if (!method.path.startsWith(prefix) || method.responseStream) return new grpc.ServerInterceptingCall(call);
    const rpc = method.path.slice(prefix.length);
    const started = performance.now();
    return new grpc.ServerInterceptingCall(call, {
      sendStatus(status, next) {
        try {
          observe(rpc, grpc.status[status.code] ?? String(status.code), (performance.now() - started) / 1000);
        } catch {
          // Counting must never change the answer.
        }
        next(status);
      },
    });
  };
}
