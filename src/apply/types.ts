import type { TraceHeaders } from './trace-context.js';

// The vocabulary of Apply, shared by the caller side (forwarder), the owner side (deliverer), the gRPC
// method and the HTTP route. Errors are data: a code, whether a retry may help, when, and where.

/** What the app sent its sidecar, to be handed to the key's owner's app. */
export interface AppMessage {
  readonly body: Buffer;
  /** Content-Type of the body, "" when none. */
  readonly contentType: string;
  /** The caller's W3C trace context and baggage, handed to the owner's app unchanged. */
  readonly trace: TraceHeaders;
}

/** What the owner's app answered. */
export interface AppAnswer {
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string;
}

/**
 * Why an Apply failed. The HTTP status of each is in ./http-status.ts; docs/apply.md explains them.
 * - not_owner: the member asked does not own the key (its view differs); hints say who does.
 * - owner_unavailable: the owner could not be reached, or is not serving.
 * - owner_changed: an earlier attempt may have reached the previous owner, and the view now names
 *   another; not retried automatically (it could deliver twice). The caller may retry with the same id.
 * - no_owner: no member owns shards (every app unready).
 * - timeout: the overall budget (--apply-timeout-ms) ran out before an answer.
 * - app_unreachable: the owner's app refused the connection; nothing was delivered.
 * - app_timeout: the owner's app took the request and did not answer in time; outcome unknown.
 * - app_answer_too_large: the app answered more than --apply-max-body-bytes; it did process the request.
 * - no_app_handler: the owner has no --app-handler-url.
 * - outcome_unknown: a duplicate of a request whose first delivery has no known outcome.
 * - busy: the owner has too many Applies in flight.
 * - invalid / too_large: the request itself is wrong; not retriable.
 * - refused: the owner refused the call (another cluster label, an unsupported protocol).
 * - internal: a bug or an unexpected failure.
 */
export type ApplyErrorCode =
  | 'not_owner'
  | 'owner_unavailable'
  | 'owner_changed'
  | 'no_owner'
  | 'timeout'
  | 'app_unreachable'
  | 'app_timeout'
  | 'app_answer_too_large'
  | 'no_app_handler'
  | 'outcome_unknown'
  | 'busy'
  | 'invalid'
  | 'too_large'
  | 'refused'
  | 'internal';

export interface ApplyError {
  readonly code: ApplyErrorCode;
  readonly message: string;
  /** True when the same request (same id) may succeed later. */
  readonly retriable: boolean;
  /** Suggested wait before a retry, ms; 0 = none. */
  readonly retryAfterMs: number;
  /** The member that owns the key in the answering member's view, "" when unknown. */
  readonly ownerHint: string;
  /** Its gRPC address, "" when unknown. */
  readonly ownerAddrHint: string;
  /** The answering member's table version, "" when irrelevant. */
  readonly tableVersion: string;
  /** True when the request may have reached an app even though this is an error. */
  readonly mayHaveBeenDelivered: boolean;
}

/** An answer from the owner's app, or why there is none. */
export type DeliveryResult =
  | { readonly ok: true; readonly answer: AppAnswer; readonly owner: string; readonly duplicate: boolean }
  | { readonly ok: false; readonly error: ApplyError };

/** One Apply as the caller's sidecar handles it. */
export interface ApplyCall {
  readonly key: string;
  readonly requestId: string;
  readonly message: AppMessage;
}

/** What the caller's sidecar answers its app, after any retries. */
export interface ApplyOutcome {
  readonly result: DeliveryResult;
  /** Where the answer came from: this member's app, another member's, or nobody's. */
  readonly path: 'local' | 'forwarded' | 'none';
  readonly attempts: number;
}

export function applyError(code: ApplyErrorCode, message: string, more: Partial<Omit<ApplyError, 'code' | 'message'>> = {}): ApplyError {
  return {
    code,
    message,
    retriable: more.retriable ?? false,
    retryAfterMs: more.retryAfterMs ?? 0,
    ownerHint: more.ownerHint ?? '',
    ownerAddrHint: more.ownerAddrHint ?? '',
    tableVersion: more.tableVersion ?? '',
    mayHaveBeenDelivered: more.mayHaveBeenDelivered ?? false,
  };
}

export function failed(error: ApplyError): DeliveryResult {
  return { ok: false, error };
}
