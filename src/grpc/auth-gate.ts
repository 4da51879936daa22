// Authentication before the body. A request's label and key proof travel in its protobuf header, which
// grpc-js reads only after buffering the whole message (up to maxMessageBytes): a flood of big requests
// with the wrong label or no proof would cost memory before any check. So callers also send both as
// call metadata, and this interceptor checks them when the call's headers arrive, before the body is
// read (an unread body is held back by HTTP/2 flow control, a window per stream). Calls are then held to
// in-flight bounds: all unary calls, and a small lane for callers that send no such metadata (members
// of an earlier version, hand-run tools), which are checked in the body as before.
import * as grpc from '@grpc/grpc-js';
import { reject, type Rejection } from './errors.js';
import { CONTROL_PLANE_SERVICE } from './proto.js';

/** Metadata keys (binary: a label may be any UTF-8). */
export const LABEL_METADATA = 'swimring-label-bin';
export const KEY_PROOF_METADATA = 'swimring-key-proof-bin';

/** What a caller proved in its metadata, before its body is read. */
export interface CallCredentials {
  /** null: the caller sent no label metadata (an earlier version); checked in the body instead. */
  readonly label: string | null;
  readonly keyProof: Uint8Array | null;
  readonly peer: string;
}

export interface AuthGateOptions {
  /** null to let the call read its body; a Rejection to answer before reading it. */
  readonly check: (rpc: string, credentials: CallCredentials) => Rejection | null;
  /** Calls reading or handling a request at once, over all callers. */
  readonly maxInFlight: number;
  /** Of those, calls without label metadata. */
  readonly maxUnlabelledInFlight: number;
  readonly report: (rpc: string, rejection: Rejection) => void;
}

export const DEFAULT_MAX_IN_FLIGHT = 32;
export const DEFAULT_MAX_UNLABELLED_IN_FLIGHT = 2;

/** The metadata a client attaches to every call. */
export function credentialMetadata(label: string, keyProof: Uint8Array | null): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set(LABEL_METADATA, Buffer.from(label, 'utf8'));
  if (keyProof !== null && keyProof.length > 0) metadata.set(KEY_PROOF_METADATA, Buffer.from(keyProof));
  return metadata;
}

function readCredentials(metadata: grpc.Metadata, peer: string): CallCredentials {
  const label = metadata.get(LABEL_METADATA)[0];
  const proof = metadata.get(KEY_PROOF_METADATA)[0];
  return {
    label: Buffer.isBuffer(label) ? label.toString('utf8') : null,
    keyProof: Buffer.isBuffer(proof) ? proof : null,
    peer,
  };
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
            if (refusal !== null) {
              opts.report(rpc, refusal);
              intercepting.sendStatus({ code: refusal.code, details: refusal.message, metadata: new grpc.Metadata() });
              return;
            }
            nextMetadata(metadata);
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

    const admit = (credentials: CallCredentials): Rejection | null => {
      const refusal = opts.check(rpc, credentials);
      if (refusal !== null) return refusal;
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
