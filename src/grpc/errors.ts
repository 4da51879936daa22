// Errors of the control plane, on both sides of a call.
import { status } from '@grpc/grpc-js';

/**
 * Thrown by a server handler to answer a call with a specific gRPC status (say, FAILED_PRECONDITION
 * for a label mismatch). Any other exception from a handler is answered INTERNAL.
 */
export class ControlPlaneError extends Error {
  override readonly name = 'ControlPlaneError';
  constructor(
    readonly code: status,
    message: string,
    /** The reason counted for it; `refused` unless a more precise one applies. */
    readonly reason: RejectReason = 'refused',
  ) {
    super(message);
  }
}

/** A client call that failed: transport error, error status from the peer, or a reply we refused. */
export class ControlPlaneCallError extends Error {
  override readonly name = 'ControlPlaneCallError';
  constructor(
    /** Which RPC: 'Negotiate', 'Closing', 'Ping'. */
    readonly rpc: string,
    /** The peer's "host:port". */
    readonly addr: string,
    /** gRPC status of the failure (DEADLINE_EXCEEDED for a timeout, UNAVAILABLE for no connection). */
    readonly code: status,
    message: string,
  ) {
    super(message);
  }

  /** 'DEADLINE_EXCEEDED', 'UNAVAILABLE', ... */
  get codeName(): string {
    return statusName(this.code);
  }
}

export function statusName(code: status): string {
  return status[code] ?? `status ${code}`;
}

/**
 * Why a call was refused, as a short stable word (a metrics label): `malformed` (not decodable as
 * the expected message), `invalid` (a field out of bounds), `too-many-members`, `unsupported-version`,
 * `no-request` (the call ended before a request was accepted: larger than maxMessageBytes, say),
 * `refused` (the handler threw a ControlPlaneError), `internal` (the handler threw anything else),
 * `rate-limited` (over the Negotiate rate limit, src/grpc/rate-limit.ts), `incarnation-out-of-range`
 * (above the incarnation ceiling 2^50, a value no member can produce), `busy` (over the in-flight call
 * bounds, refused before the body is read: src/grpc/auth-gate.ts), `too-large` (a request over its
 * RPC's bound that grpc-js had to read before it could be refused: src/grpc/receive-bound.ts).
 */
export type RejectReason =
  | 'malformed'
  | 'invalid'
  | 'too-many-members'
  | 'unsupported-version'
  | 'no-request'
  | 'caller-gone'
  | 'refused'
  | 'internal'
  | 'rate-limited'
  | 'incarnation-out-of-range'
  | 'busy'
  | 'too-large';

/** A refusal: the status to answer with, the reason to count, a message naming the field. */
export interface Rejection {
  readonly rejected: true;
  readonly code: status;
  readonly reason: RejectReason;
  readonly message: string;
  /** Suggested wait before retrying, sent as RETRY_AFTER_METADATA. */
  readonly retryAfterMs?: number;
}

/** Trailing metadata key carrying a refusal's suggested wait in ms (a rate limit's). */
export const RETRY_AFTER_METADATA = 'swimring-retry-after-ms';

export function reject(code: status, reason: RejectReason, message: string): Rejection {
  return { rejected: true, code, reason, message };
}

export function invalid(field: string, problem: string): Rejection {
  return reject(status.INVALID_ARGUMENT, 'invalid', `${field}: ${problem}`);
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as { rejected?: unknown }).rejected === true;
}
