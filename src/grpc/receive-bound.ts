// Receive bounds per RPC. grpc-js applies one receive bound (grpc.max_receive_message_length) to every
// method of a server, so a Ping could be as large as a full-state Negotiate and be buffered whole before
// anything looks at it. grpc-js checks that bound against each message's 5-byte length prefix, before
// reading the message, in a decoder the call object it hands the innermost interceptor holds; setting
// the call's bound there refuses an oversized request of any RPC from its prefix, unread
// (RESOURCE_EXHAUSTED "Received message larger than max (X vs Y)"), counted by the server as
// `no-request`. grpc-js offers no public way to do this: where its call object does not have that
// shape, boundedBody below still refuses the request by its size, once read, before decoding it.
import * as grpc from '@grpc/grpc-js';
import { reject } from './errors.js';
import { CONTROL_PLANE_SERVICE } from './proto.js';

const PREFIX = `/${CONTROL_PLANE_SERVICE}/`;

/** Must be the innermost interceptor (first in the server's list): it needs the call grpc-js made. */
export function receiveBounds(bound: (rpc: string) => number): grpc.ServerInterceptor {
  return (method, call) => {
    if (method.path.startsWith(PREFIX)) limitReceive(call, bound(method.path.slice(PREFIX.length)));
    return new grpc.ServerInterceptingCall(call);
  };
}

/** true when the call's pre-read bound is now `bytes`. */
export function limitReceive(call: object, bytes: number): boolean {
  const base = call as { decoder?: { maxReadMessageLength?: unknown }; maxReceiveMessageSize?: unknown };
  if (typeof base.decoder?.maxReadMessageLength !== 'number' || typeof base.maxReceiveMessageSize !== 'number') return false;
  base.decoder.maxReadMessageLength = bytes;
  // The same bound for a compressed message once inflated.
  base.maxReceiveMessageSize = bytes;
  return true;
}

/** A request deserializer that refuses more than `maxBytes` before decoding (the read-after fallback). */
export function boundedBody(rpc: string, maxBytes: number, deserialize: (bytes: Buffer) => unknown): (bytes: Buffer) => unknown {
  return (bytes) =>
    bytes.length > maxBytes
      ? { ok: false, rejection: reject(grpc.status.RESOURCE_EXHAUSTED, 'too-large', `${rpc} request of ${bytes.length} bytes; this RPC takes at most ${maxBytes}`) }
      : deserialize(bytes);
}
