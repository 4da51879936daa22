// Authentication before the body. A request's label travels in its protobuf header, which grpc-js reads
// only after buffering the whole message (up to the receive bound): a flood of big requests with the
// wrong label or no key proof would cost memory before any check. So callers also send the label and
// the key proof as call metadata, and this interceptor checks them when the call's headers arrive,
// before the body is read (an unread body is held back by HTTP/2 flow control, a window per stream).
// What can only be checked on the body (the request header, the body a key proof was made for) is
// checked when the message arrives, still before any handler runs. Calls are then held to in-flight
// bounds: all unary calls, and a small lane for callers that send no label metadata (members of an
// earlier version, hand-run tools).
import * as grpc from '@grpc/grpc-js';
import { requestDigest } from '../security/key-proof.js';
import { reject, type Rejection } from './errors.js';
import { CONTROL_PLANE_SERVICE } from './proto.js';

/** Metadata keys (binary: a label may be any UTF-8). */
export const LABEL_METADATA = 'swimring-label-bin';
/** The v1 key proof (a sealed timestamp), sent only during an upgrade from members that know only it. */
export const KEY_PROOF_METADATA = 'swimring-key-proof-bin';
/** The v2 key proof, made for this one request (docs/grpc.md "Key proof"). */
export const KEY_PROOF_V2_METADATA = 'swimring-key-proof-v2-bin';

/** What a caller proved in its metadata, before its body is read. */
export interface CallCredentials {
  /** null: the caller sent no label metadata (an earlier version); checked in the body instead. */
  readonly label: string | null;
  /** v1 proof, null when none. */
  readonly keyProof: Uint8Array | null;
  /** v2 proof, null when none. */
  readonly keyProofV2: Uint8Array | null;
  readonly peer: string;
}

/**
 * The checks left for when the body has arrived: `request` is what the method's deserializer returned,
 * `bodyDigest` the SHA-256 of its bytes (null when the server does not digest bodies).
 */
export type BodyCheck = (request: unknown, bodyDigest: Buffer | null) => Rejection | null;

export interface AuthGateOptions {
  /** A Rejection to answer before reading the body; otherwise null or what to check on the body. */
  readonly check: (rpc: string, credentials: CallCredentials) => Rejection | BodyCheck | null;
  /** Calls reading or handling a request at once, over all callers. */
  readonly maxInFlight: number;
  /** Of those, calls without label metadata. */
  readonly maxUnlabelledInFlight: number;
  readonly report: (rpc: string, rejection: Rejection) => void;
}

export const DEFAULT_MAX_IN_FLIGHT = 32;
export const DEFAULT_MAX_UNLABELLED_IN_FLIGHT = 2;

/** The key proofs of one call: v2 always (with a keyring), v1 during an upgrade. */
export interface CallProofMetadata {
  readonly v2: Uint8Array;
  readonly v1: Uint8Array | null;
}

/** The metadata a client attaches to every call. */
export function credentialMetadata(label: string, proofs: CallProofMetadata | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(LABEL_METADATA, Buffer.from(label, 'utf8'));
  if (proofs !== null) {
    metadata.set(KEY_PROOF_V2_METADATA, Buffer.from(proofs.v2));
    if (proofs.v1 !== null && proofs.v1.length > 0) metadata.set(KEY_PROOF_METADATA, Buffer.from(proofs.v1));
  }
  return metadata;
}

function readCredentials(metadata: grpc.Metadata, peer: string): CallCredentials {
  const binary = (key: string): Buffer | null => {
    const value = metadata.get(key)[0];
    return Buffer.isBuffer(value) ? value : null;
  };
  return { label: binary(LABEL_METADATA)?.toString('utf8') ?? null, keyProof: binary(KEY_PROOF_METADATA), keyProofV2: binary(KEY_PROOF_V2_METADATA), peer };
}

/** Digests of request bodies, by the object their deserializer returned (see digestingDeserializer). */
const bodyDigests = new WeakMap<object, Buffer>();
/** Requests whose caller proved the gossip key (a key proof checked against this very body). */
const keyProven = new WeakSet<object>();

/** Wraps a method's request deserializer so the gate can check the body a key proof was made for. */
export function digestingDeserializer(deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) => {
    const request = deserialize(bytes);
    if (typeof request === 'object' && request !== null) bodyDigests.set(request, requestDigest(bytes));
    return request;
  };
}

/** Recorded by the body check for the handlers that treat a key holder differently (Closing). */
export function markKeyProven(request: unknown): void {
  if (typeof request === 'object' && request !== null) keyProven.add(request);
}

export function isKeyProven(request: unknown): boolean {
  return typeof request === 'object' && request !== null && keyProven.has(request);
}

export function authGate(opts: AuthGateOptions): grpc.ServerInterceptor {
  const prefix = `/${CONTROL_PLANE_SERVICE}/`;
  let inFlight = 0;
  let unlabelledInFlight = 0;
  return (method, call) => {
    if (!method.path.startsWith(prefix)) return new grpc.ServerInterceptingCall(call);
    const rpc = method.path.slice(prefix.length);
    // A stream (the membership watch) lives as long as its subscriber: it has its own bound, and
    // holding an in-flight slot for its lifetime would starve the unary calls.
    const counted = !method.requestStream && !method.responseStream;
    let held: 'none' | 'labelled' | 'unlabelled' = 'none';
    let bodyCheck: BodyCheck | null = null;
    let refused = false;
    const release = (): void => {
      if (held === 'none') return;
      inFlight--;
      if (held === 'unlabelled') unlabelledInFlight--;
      held = 'none';
    };
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, nextMetadata) {
            const credentials = readCredentials(metadata, call.getPeer());
            const refusal = admit(credentials);
            if (refusal !== null) return refuse(refusal);
            nextMetadata(metadata);
          },
          onReceiveMessage(message, nextMessage) {
            if (refused) return;
            const refusal = bodyCheck?.(message, typeof message === 'object' && message !== null ? (bodyDigests.get(message) ?? null) : null) ?? null;
            if (refusal !== null) return refuse(refusal);
            nextMessage(message);
          },
          onReceiveHalfClose(next) {
            if (!refused) next();
          },
          onCancel() {
            release();
          },
        });
      },
      sendStatus(status, next) {
        release();
        next(status);
      },
    });

    const refuse = (refusal: Rejection): void => {
      refused = true;
      opts.report(rpc, refusal);
      intercepting.sendStatus({ code: refusal.code, details: refusal.message, metadata: new grpc.Metadata() });
    };
    const admit = (credentials: CallCredentials): Rejection | null => {
      const verdict = opts.check(rpc, credentials);
      if (verdict !== null && typeof verdict !== 'function') return verdict;
      bodyCheck = verdict;
      if (!counted) return null;
      if (inFlight >= opts.maxInFlight) {
        return reject(grpc.status.RESOURCE_EXHAUSTED, 'busy', `${inFlight} calls in flight, at most ${opts.maxInFlight}: retry later`);
      }
      if (credentials.label === null && unlabelledInFlight >= opts.maxUnlabelledInFlight) {
        return reject(
          grpc.status.RESOURCE_EXHAUSTED,
          'busy',
          `${unlabelledInFlight} calls without label metadata in flight, at most ${opts.maxUnlabelledInFlight}: retry later`,
        );
      }
      inFlight++;
      held = credentials.label === null ? 'unlabelled' : 'labelled';
      if (held === 'unlabelled') unlabelledInFlight++;
      return null;
    };
    return intercepting;
  };
}
