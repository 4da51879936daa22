// One guard for the unary RPCs implemented outside src/grpc (digest, claims, keyring): the bounded
// decoder's verdict, the request header, the caller's own checks, then the handler. Every refusal is
// counted and answered with its status; a handler that throws unexpectedly is answered INTERNAL
// without its details (they go to onReject, i.e. the log and /metrics, not to the peer).
import * as grpc from '@grpc/grpc-js';
import { contextFromHeader, type CallContext } from './convert.js';
import type { Decoded } from './decode.js';
import { ControlPlaneError, isRejection, reject, type Rejection } from './errors.js';

export interface UnaryGuard {
  /** Throws ControlPlaneError to refuse the caller (label mismatch, missing key proof). */
  readonly checkContext: (context: CallContext) => void;
  readonly onReject: (rpc: string, rejection: Rejection) => void;
}

export type GuardedHandler<Req, Res> = (request: Req, context: CallContext) => Res | Rejection;

export function guardedUnary<Req extends { header: Parameters<typeof contextFromHeader>[0] }, Res>(
  rpc: string,
  guard: UnaryGuard,
  handle: GuardedHandler<Req, Res>,
): grpc.handleUnaryCall<Decoded<Req>, Res> {
  return (call, callback) => {
    const refuse = (rejection: Rejection): void => {
      try {
        guard.onReject(rpc, rejection);
      } catch {
        // Counting a refusal must not turn it into a crash.
      }
      callback({ code: rejection.code, details: rejection.message });
    };
    const decoded = call.request;
    if (!decoded.ok) return refuse(decoded.rejection);
    try {
      const ctx = contextFromHeader(decoded.value.header, call.getPeer());
      if (isRejection(ctx)) return refuse(ctx);
      guard.checkContext(ctx);
      const result = handle(decoded.value, ctx);
      if (isRejection(result)) return refuse(result);
      callback(null, result);
    } catch (err) {
      if (err instanceof ControlPlaneError) return refuse(reject(err.code, 'refused', err.message));
      const why = err instanceof Error ? err.message : String(err);
      try {
        guard.onReject(rpc, reject(grpc.status.INTERNAL, 'internal', `${rpc} failed: ${why}`));
      } catch {
        // As above.
      }
      callback({ code: grpc.status.INTERNAL, details: `${rpc} failed on this member` });
    }
  };
}
