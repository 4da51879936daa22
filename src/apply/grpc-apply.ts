// The Apply RPC on both ends. Server: decode within bounds, check the header, label, key and request
// id, hand the call to the Deliverer, and answer in-band (ApplyReply.error) as the seed's error model
// wants. Client: send one attempt and turn the reply, or the failed call, into a DeliveryResult, noting
// whether the request may have reached the owner.
import * as grpc from '@grpc/grpc-js';
import { ControlPlaneCallError } from '../grpc/client.js';
import type { ControlPlaneClient } from '../grpc/client.js';
import { contextFromHeader, type CallContext } from '../grpc/convert.js';
import type { Decoded } from '../grpc/decode.js';
import { ControlPlaneError, isRejection, reject, type Rejection, type RejectReason } from '../grpc/errors.js';
import type { ApplyReply, ApplyReply__Output } from '../grpc/generated/swimring/v1/ApplyReply.js';
import type { ApplyRequest, ApplyRequest__Output } from '../grpc/generated/swimring/v1/ApplyRequest.js';
import type { ErrorCode__Output } from '../grpc/generated/swimring/v1/ErrorCode.js';
import type { ErrorDetail, ErrorDetail__Output } from '../grpc/generated/swimring/v1/ErrorDetail.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import type { BoundedMethod, ExtraMethod } from '../grpc/service.js';
import { scanRepeatedField } from '../grpc/wire-scan.js';
import { checkKey } from '../http/keys.js';
import type { Deliverer } from './deliverer.js';
import { APP_ANSWER_TYPE_URL, APP_MESSAGE_TYPE_URL, decodeAppAnswer, decodeAppMessage, encodeAppAnswer, encodeAppMessage } from './payload.js';
import { checkRequestId } from './request-id.js';
import { applyError, failed, type ApplyCall, type ApplyError, type ApplyErrorCode, type DeliveryResult } from './types.js';

/** ApplyRequest.messages and ApplyReply.results field numbers (proto/swimring/v1/control_plane.proto). */
const REQUEST_MESSAGES_FIELD = 4;
const REPLY_RESULTS_FIELD = 3;
/** Room for an Any's type_url and framing around the body. */
const ANY_OVERHEAD_BYTES = 1024;
/** Room for the rest of an ApplyRequest: header, id (at most 1 KiB), request_id, table_version. */
const REQUEST_OVERHEAD_BYTES = 4 * 1024;

export type ApplyMethod = BoundedMethod<ApplyRequest, ApplyRequest__Output, ApplyReply, ApplyReply__Output>;

export interface ApplyWireLimits {
  readonly maxBodyBytes: number;
  readonly maxKeyBytes: number;
}

/** Apply with deserializers that count the repeated payload before decoding and never throw. */
export function applyMethod(limits: ApplyWireLimits): ApplyMethod {
  const def = controlPlaneDefinition().Apply;
  return {
    name: 'Apply',
    path: def.path,
    requestSerialize: def.requestSerialize,
    requestDeserialize: bounded('ApplyRequest', def.requestDeserialize, REQUEST_MESSAGES_FIELD, 'messages', limits.maxBodyBytes + ANY_OVERHEAD_BYTES),
    responseSerialize: def.responseSerialize,
    responseDeserialize: bounded('ApplyReply', def.responseDeserialize, REPLY_RESULTS_FIELD, 'results', limits.maxBodyBytes + ANY_OVERHEAD_BYTES),
    // Sized by the app body bound, not by the cluster: a small cluster still carries 1 MiB bodies.
    maxRequestBytes: limits.maxBodyBytes + ANY_OVERHEAD_BYTES + REQUEST_OVERHEAD_BYTES,
  };
}

function bounded<T>(messageName: string, decode: (bytes: Buffer) => T, field: number, fieldName: string, maxEntryBytes: number): (bytes: Buffer) => Decoded<T> {
  return (bytes) => {
    const scan = scanRepeatedField(bytes, field);
    if (typeof scan === 'string') return { ok: false, rejection: reject(grpc.status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${scan}`) };
    if (scan.count > 1) return { ok: false, rejection: reject(grpc.status.INVALID_ARGUMENT, 'invalid', `${fieldName}: ${scan.count} entries; Apply carries exactly one`) };
    if (scan.largestBytes > maxEntryBytes) {
      return { ok: false, rejection: reject(grpc.status.RESOURCE_EXHAUSTED, 'invalid', `${fieldName}[0]: ${scan.largestBytes} bytes, limit ${maxEntryBytes}`) };
    }
    try {
      return { ok: true, value: decode(bytes) };
    } catch (err) {
      return { ok: false, rejection: reject(grpc.status.INVALID_ARGUMENT, 'malformed', `not a valid ${messageName}: ${err instanceof Error ? err.message : String(err)}`) };
    }
  };
}

// ---- server -------------------------------------------------------------------------------------

export interface ApplyServerOptions {
  readonly deliverer: Pick<Deliverer, 'deliver'>;
  /** This member's cluster label ("" for none); callers with another are refused. */
  readonly label: string;
  readonly limits: ApplyWireLimits;
  /** Longest this member works on one call when the caller set no deadline. */
  readonly timeoutMs: number;
  /** A refused call (never throws out). */
  readonly onReject?: (rpc: string, reason: RejectReason, detail: string) => void;
  /** The runtime's checks of a caller (label, key proof); throws a ControlPlaneError to refuse. */
  readonly checkContext?: (ctx: CallContext) => void;
}

export function applyServerMethod(opts: ApplyServerOptions): ExtraMethod {
  const method = applyMethod(opts.limits);
  const handler: grpc.handleUnaryCall<Decoded<ApplyRequest__Output>, ApplyReply> = (call, callback) => {
    const refuse = (rejection: Rejection): void => {
      try {
        opts.onReject?.('Apply', rejection.reason, rejection.message);
      } catch {
        // Counting must not turn a refusal into a crash.
      }
      callback({ code: rejection.code, details: rejection.message });
    };
    const decoded = call.request;
    if (!decoded.ok) return refuse(decoded.rejection);
    const req = decoded.value;
    const ctx = contextFromHeader(req.header, call.getPeer());
    if (isRejection(ctx)) return refuse(ctx);
    if (opts.checkContext) {
      try {
        opts.checkContext(ctx);
      } catch (err) {
        const code = err instanceof ControlPlaneError ? err.code : grpc.status.PERMISSION_DENIED;
        return refuse(reject(code, 'refused', err instanceof Error ? err.message : String(err)));
      }
    }
    if (ctx.label !== opts.label) {
      return callback(null, replyOf(failed(applyError('refused', `cluster label "${ctx.label}" does not match this member's label "${opts.label}"`))));
    }
    const checked = checkCall(req, opts.limits);
    if ('error' in checked) {
      refuse(reject(grpc.status.INVALID_ARGUMENT, 'invalid', checked.error.message));
      return;
    }
    const deadline = call.getDeadline();
    const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
    const budgetMs = Math.min(opts.timeoutMs, Number.isFinite(deadlineMs) ? deadlineMs - Date.now() : Infinity);
    opts.deliverer.deliver(checked.call, ctx.sender, budgetMs).then(
      (result) => callback(null, replyOf(result)),
      (err: unknown) => callback(null, replyOf(failed(applyError('internal', `Apply failed on this member: ${err instanceof Error ? err.message : String(err)}`, { retriable: true })))),
    );
  };
  return { requestDeserialize: method.requestDeserialize, handler: handler as grpc.UntypedHandleCall, ...(method.maxRequestBytes ? { maxRequestBytes: method.maxRequestBytes } : {}) };
}

function checkCall(req: ApplyRequest__Output, limits: ApplyWireLimits): { call: ApplyCall } | { error: ApplyError } {
  const bad = (field: string, why: string): { error: ApplyError } => ({ error: applyError('invalid', `${field}: ${why}`) });
  const keyProblem = checkKey(req.id, limits.maxKeyBytes);
  if (keyProblem) return bad('id', keyProblem.message);
  const idProblem = checkRequestId(req.requestId);
  if (idProblem) return bad('requestId', idProblem);
  const any = req.messages[0];
  if (req.messages.length !== 1 || any === undefined) return bad('messages', `${req.messages.length} entries; Apply carries exactly one`);
  if (any.type_url !== APP_MESSAGE_TYPE_URL) return bad('messages[0].type_url', `"${any.type_url.slice(0, 80)}" is not ${APP_MESSAGE_TYPE_URL}`);
  const message = decodeAppMessage(any.value, limits.maxBodyBytes);
  if (!message.ok) return bad('messages[0]', message.reason);
  return { call: { key: req.id, requestId: req.requestId, message: message.value } };
}

/** ApplyErrorCode -> the proto's category; the code itself travels in ErrorDetail.reason. */
const PROTO_CODE: Readonly<Record<ApplyErrorCode, ErrorCode__Output>> = {
  not_owner: 'ERROR_CODE_NOT_OWNER',
  owner_unavailable: 'ERROR_CODE_UNAVAILABLE',
  owner_changed: 'ERROR_CODE_UNAVAILABLE',
  no_owner: 'ERROR_CODE_UNAVAILABLE',
  timeout: 'ERROR_CODE_UNAVAILABLE',
  app_unreachable: 'ERROR_CODE_UNAVAILABLE',
  app_timeout: 'ERROR_CODE_UNAVAILABLE',
  app_answer_too_large: 'ERROR_CODE_UNAVAILABLE',
  no_app_handler: 'ERROR_CODE_UNAVAILABLE',
  busy: 'ERROR_CODE_UNAVAILABLE',
  outcome_unknown: 'ERROR_CODE_DUPLICATE_REQUEST',
  invalid: 'ERROR_CODE_INVALID_ARGUMENT',
  too_large: 'ERROR_CODE_TOO_LARGE',
  refused: 'ERROR_CODE_LABEL_MISMATCH',
  internal: 'ERROR_CODE_INTERNAL',
};

export function replyOf(result: DeliveryResult): ApplyReply {
  if (result.ok) {
    return {
      accepted: true,
      error: result.duplicate
        ? { code: 'ERROR_CODE_DUPLICATE_REQUEST', message: 'this request id was applied before; the stored answer is returned', reason: 'duplicate' }
        : null,
      results: [{ type_url: APP_ANSWER_TYPE_URL, value: encodeAppAnswer(result.answer) }],
    };
  }
  const e = result.error;
  const detail: ErrorDetail = {
    code: PROTO_CODE[e.code],
    message: e.message,
    retriable: e.retriable,
    retryAfterMs: e.retryAfterMs,
    ownerHint: e.ownerHint,
    ownerAddrHint: e.ownerAddrHint,
    tableVersion: e.tableVersion,
    reason: e.code,
    mayHaveBeenDelivered: e.mayHaveBeenDelivered,
  };
  return { accepted: false, error: detail, results: [] };
}

// ---- client -------------------------------------------------------------------------------------

/** One remote attempt's result; `mayHaveReached` when the call broke after the request may have left. */
export interface RemoteAttempt {
  readonly result: DeliveryResult;
  readonly mayHaveReached: boolean;
}

export type RemoteApply = (owner: string, addr: string, call: ApplyCall, tableVersion: string, timeoutMs: number) => Promise<RemoteAttempt>;

/** Failures that prove nothing was sent: no connection was ever made. */
const NOT_CONNECTED = /No connection established|ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|Name resolution failed/i;
/** What a peer's trouble should wait before a retry, when it gave no hint. */
const UNREACHABLE_RETRY_MS = 250;

export function remoteApply(client: ControlPlaneClient, limits: ApplyWireLimits): RemoteApply {
  const method = applyMethod(limits);
  return async (owner, addr, call, tableVersion, timeoutMs) => {
    let reply: ApplyReply__Output;
    try {
      reply = await client.unary(
        method,
        addr,
        (header) => ({
          header,
          id: call.key,
          requestId: call.requestId,
          messages: [{ type_url: APP_MESSAGE_TYPE_URL, value: encodeAppMessage(call.message) }],
          tableVersion,
        }),
        timeoutMs,
      );
    } catch (err) {
      return callFailed(owner, err);
    }
    return { result: resultOf(owner, reply, limits), mayHaveReached: false };
  };
}

function callFailed(owner: string, err: unknown): RemoteAttempt {
  const code = err instanceof ControlPlaneCallError ? err.code : grpc.status.UNKNOWN;
  const message = err instanceof Error ? err.message : String(err);
  if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.RESOURCE_EXHAUSTED) {
    return { result: failed(applyError('invalid', `${owner} refused the request: ${message}`)), mayHaveReached: false };
  }
  if (code === grpc.status.FAILED_PRECONDITION || code === grpc.status.PERMISSION_DENIED || code === grpc.status.UNIMPLEMENTED) {
    return { result: failed(applyError('refused', `${owner} refused the call: ${message}`)), mayHaveReached: false };
  }
  const notSent = code === grpc.status.UNAVAILABLE && NOT_CONNECTED.test(message);
  return {
    result: failed(
      applyError(code === grpc.status.DEADLINE_EXCEEDED ? 'timeout' : 'owner_unavailable', `could not reach ${owner}: ${message}`, {
        retriable: true,
        retryAfterMs: notSent ? UNREACHABLE_RETRY_MS : 0,
        ownerHint: owner,
        mayHaveBeenDelivered: !notSent,
      }),
    ),
    mayHaveReached: !notSent,
  };
}

function resultOf(owner: string, reply: ApplyReply__Output, limits: ApplyWireLimits): DeliveryResult {
  if (reply.accepted) {
    const any = reply.results[0];
    if (any === undefined || any.type_url !== APP_ANSWER_TYPE_URL) {
      return failed(applyError('internal', `${owner} accepted the Apply but sent no ${APP_ANSWER_TYPE_URL}`, { mayHaveBeenDelivered: true }));
    }
    const answer = decodeAppAnswer(any.value, limits.maxBodyBytes);
    if (!answer.ok) return failed(applyError('internal', `${owner}'s answer is malformed: ${answer.reason}`, { mayHaveBeenDelivered: true }));
    return { ok: true, answer: answer.value, owner, duplicate: reply.error?.code === 'ERROR_CODE_DUPLICATE_REQUEST' };
  }
  return failed(errorOf(reply.error));
}

const REASONS = new Set<string>(Object.keys(PROTO_CODE));

function errorOf(d: ErrorDetail__Output | null): ApplyError {
  if (d === null) return applyError('internal', 'the owner refused the Apply without saying why', { retriable: true });
  const fromCode: Partial<Record<ErrorCode__Output, ApplyErrorCode>> = {
    ERROR_CODE_NOT_OWNER: 'not_owner',
    ERROR_CODE_TABLE_VERSION_MISMATCH: 'not_owner',
    ERROR_CODE_UNAVAILABLE: 'owner_unavailable',
    ERROR_CODE_INVALID_ARGUMENT: 'invalid',
    ERROR_CODE_TOO_LARGE: 'too_large',
    ERROR_CODE_LABEL_MISMATCH: 'refused',
    ERROR_CODE_UNSUPPORTED_VERSION: 'refused',
    ERROR_CODE_DUPLICATE_REQUEST: 'outcome_unknown',
  };
  const code = REASONS.has(d.reason) ? (d.reason as ApplyErrorCode) : (fromCode[d.code] ?? 'internal');
  return applyError(code, d.message.slice(0, 1024), {
    retriable: d.retriable,
    retryAfterMs: Math.min(d.retryAfterMs, 60_000),
    ownerHint: d.ownerHint.slice(0, 253),
    ownerAddrHint: d.ownerAddrHint.slice(0, 255),
    tableVersion: d.tableVersion.slice(0, 255),
    mayHaveBeenDelivered: d.mayHaveBeenDelivered,
  });
}
