// KeyringOp over gRPC: the server method (an extra method of the control-plane server) and the call the
// fanning-out member makes through the control-plane client. The sealed operation is opened here with
// the callee's own keyring; a request no installed key opens changes nothing.
import * as grpc from '@grpc/grpc-js';
import type { ControlPlaneClient } from '../grpc/client.js';
import type { CallContext } from '../grpc/convert.js';
import { guardedUnary } from '../grpc/guarded-unary.js';
import { reject, type Rejection } from '../grpc/errors.js';
import type { KeyringOpReply, KeyringOpReply__Output } from '../grpc/generated/swimring/v1/KeyringOpReply.js';
import type { KeyringOpRequest, KeyringOpRequest__Output } from '../grpc/generated/swimring/v1/KeyringOpRequest.js';
import { controlPlaneDefinition } from '../grpc/proto.js';
import { bounded, type BoundedMethod, type ExtraMethods } from '../grpc/service.js';
import { keyOpReplayGuard, MAX_SEALED_KEY_OP_BYTES, openKeyOp, type KeyOpResult, type LocalKeyring } from './key-ops.js';

type KeyringOpMethod = BoundedMethod<KeyringOpRequest, KeyringOpRequest__Output, KeyringOpReply, KeyringOpReply__Output>;

const MAX_REPLY_KEYS = 64;

let cached: KeyringOpMethod | null = null;

export function keyringOpMethod(): KeyringOpMethod {
  cached ??= bounded('KeyringOp', controlPlaneDefinition().KeyringOp, ['KeyringOpRequest', 'KeyringOpReply']);
  return cached;
}

export interface KeyringServerOptions {
  /** null: this member has no keyring, and every KeyringOp is refused. */
  readonly local: LocalKeyring | null;
  readonly label: string;
  /** Throws ControlPlaneError to refuse (label mismatch). */
  readonly checkContext: (context: CallContext) => void;
  readonly onReject: (rpc: string, rejection: Rejection) => void;
  /** Told of every applied operation (for the log: op, caller, ok; never key material). */
  readonly onApplied?: (op: string, sender: string, result: KeyOpResult) => void;
}

export function keyringServerMethods(opts: KeyringServerOptions): ExtraMethods {
  const method = keyringOpMethod();
  const replays = keyOpReplayGuard();
  const handler = guardedUnary<KeyringOpRequest__Output, KeyringOpReply>('KeyringOp', opts, (request, ctx) => {
    if (opts.local === null) return reject(grpc.status.FAILED_PRECONDITION, 'refused', 'this member has no gossip keyring');
    const sealed = request.sealed;
    if (sealed.length > MAX_SEALED_KEY_OP_BYTES) {
      return reject(grpc.status.INVALID_ARGUMENT, 'invalid', `sealed: ${sealed.length} bytes, at most ${MAX_SEALED_KEY_OP_BYTES}`);
    }
    const op = openKeyOp(opts.local.keyring, opts.label, sealed, replays);
    if (typeof op === 'string') return reject(grpc.status.PERMISSION_DENIED, 'refused', op);
    const result = opts.local.apply(op);
    opts.onApplied?.(op.op, ctx.sender, result);
    return { ok: result.ok, error: result.error ?? '', keys: result.keys.map((k) => ({ id: k.id, primary: k.primary })) };
  });
  return { KeyringOp: { requestDeserialize: method.requestDeserialize, handler: handler as grpc.UntypedHandleCall } };
}

/** Sends a sealed operation to one member; its answer, or the call's failure as an answer. */
export async function callKeyringOp(client: ControlPlaneClient, addr: string, sealed: Uint8Array, timeoutMs: number): Promise<KeyOpResult> {
  try {
    const reply = await client.unary(keyringOpMethod(), addr, (header) => ({ header, sealed: Buffer.from(sealed) }), timeoutMs);
    const keys = reply.keys.slice(0, MAX_REPLY_KEYS).map((k) => ({ id: k.id.slice(0, 64), primary: k.primary }));
    return reply.ok ? { ok: true, keys } : { ok: false, error: reply.error.slice(0, 300) || 'refused', keys };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err), keys: [] };
  }
}
