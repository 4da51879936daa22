// The one place a control-plane call is authorized: cluster label, protocol version, key proof. Every
// ControlPlane RPC passes through it (the server's gate, src/grpc/auth-gate.ts) before its handler
// runs, so a feature that registers an RPC gets the same checks without repeating them. TLS identity
// is settled before any call: with --tls-ca-file the handshake refuses a peer without a certificate
// from the cluster CA (src/grpc/tls.ts), and a call that reaches this point came over such a connection.
//
// Two stages: from the call's metadata, before the body is read (label, and the key proof's key, label,
// RPC and time); then on the decoded request, before any handler (the header's version and label, the
// body the key proof was made for, and its one use). Ping is a reachability check, answered whatever
// the caller's label and without a proof (docs/security.md "Cluster label").
import * as grpc from '@grpc/grpc-js';
import type { KeyProver, OpenedProof } from '../security/key-proof.js';
import { markKeyProven, type BodyCheck, type CallCredentials } from './auth-gate.js';
import { contextFromHeader, type CallContext } from './convert.js';
import { isRejection, reject, type Rejection } from './errors.js';
import type { RequestHeader__Output } from './generated/swimring/v1/RequestHeader.js';
import { CONTROL_PLANE_SERVICE } from './proto.js';

/** The request header's checks (protocol version, label and sender shape): one function, swappable. */
export type HeaderCheck = (header: RequestHeader__Output | null, peer: string) => CallContext | Rejection;

export interface AuthorizerOptions {
  /** This member's cluster label ("" when none). */
  readonly label: string;
  /** With a keyring: makes and checks key proofs. */
  readonly keyProver: KeyProver | null;
  /** Refuse calls without a good key proof (a keyring that refuses plaintext gossip). */
  readonly requireKeyProof: boolean;
  /** Counts a refusal under swimring_grpc_rejections_total (rpc "label" / "key-proof"). */
  readonly count: (what: 'label' | 'key-proof', reason: string) => void;
  /** Default: contextFromHeader (src/grpc/convert.ts), which holds the protocol version check. */
  readonly checkHeader?: HeaderCheck;
}

/** RPCs answered to anyone: a reachability check (health probes, `swimring client ping`). */
const OPEN_RPCS: ReadonlySet<string> = new Set(['Ping']);

export class CallAuthorizer {
  private readonly checkHeader: HeaderCheck;

  constructor(private readonly opts: AuthorizerOptions) {
    this.checkHeader = opts.checkHeader ?? contextFromHeader;
  }

  /** The gate's check (AuthGateOptions.check): a refusal before the body, or what to check on it. */
  check(rpc: string, credentials: CallCredentials): Rejection | BodyCheck | null {
    if (OPEN_RPCS.has(rpc)) return null;
    if (credentials.label !== null && credentials.label !== this.opts.label) return this.labelMismatch(credentials.label);
    const prover = this.opts.keyProver;
    let opened: OpenedProof | null = null;
    let provenV1 = false;
    if (prover !== null) {
      if (credentials.keyProofV2 !== null) {
        const result = prover.open(credentials.keyProofV2, `/${CONTROL_PLANE_SERVICE}/${rpc}`);
        if (typeof result !== 'string') opened = result;
        else if (this.opts.requireKeyProof) return this.keyProofRefused(result);
      } else if (credentials.keyProof !== null) {
        const problem = prover.verifyLegacy(credentials.keyProof);
        provenV1 = problem === null;
        if (problem !== null && this.opts.requireKeyProof) return this.keyProofRefused(problem);
      } else if (this.opts.requireKeyProof && (credentials.label !== null || !prover.legacy)) {
        // Callers without metadata (an earlier version) may still carry a v1 proof in the header.
        return this.keyProofRefused(prover.verifyLegacy(undefined) ?? 'no key proof');
      }
    }
    return (request, bodyDigest) => this.checkBody(request, bodyDigest, credentials.peer, opened, provenV1);
  }

  private checkBody(request: unknown, bodyDigest: Buffer | null, peer: string, opened: OpenedProof | null, provenV1: boolean): Rejection | null {
    const header = headerOf(request);
    // A request that did not decode is refused by its handler, with the decoder's message.
    if (header === undefined) return null;
    const ctx = this.checkHeader(header, peer);
    if (isRejection(ctx)) return ctx;
    if (ctx.label !== this.opts.label) return this.labelMismatch(ctx.label);
    const prover = this.opts.keyProver;
    if (prover === null) return null;
    let problem: string | null = null;
    if (opened !== null) problem = prover.confirm(opened, bodyDigest);
    else if (!provenV1) problem = prover.verifyLegacy(ctx.keyProof);
    if (problem === null) markKeyProven(request);
    else if (this.opts.requireKeyProof) return this.keyProofRefused(problem);
    return null;
  }

  /** Two clusters must never merge by accident (pod IPs are reused): a foreign label is refused. */
  private labelMismatch(label: string): Rejection {
    this.opts.count('label', 'mismatch');
    return reject(grpc.status.PERMISSION_DENIED, 'refused', `cluster label "${label}" does not match this member's label "${this.opts.label}"`);
  }

  /** A member that refuses plaintext gossip refuses gRPC callers that cannot prove they hold a key too. */
  private keyProofRefused(problem: string): Rejection {
    this.opts.count('key-proof', 'refused');
    return reject(grpc.status.PERMISSION_DENIED, 'refused', problem);
  }
}

/**
 * The request header of a decoded request: every ControlPlane request carries it as field 1, and every
 * request deserializer returns Decoded<T>. undefined when the request did not decode.
 */
function headerOf(request: unknown): RequestHeader__Output | null | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const decoded = request as { ok?: unknown; value?: { header?: RequestHeader__Output | null } };
  if (decoded.ok !== true || typeof decoded.value !== 'object' || decoded.value === null) return undefined;
  return decoded.value.header ?? null;
}

/**
 * For features' own `checkContext` hooks in the agent: every call reaching a handler has passed the
 * authorizer above, so there is nothing left for a feature to check about the caller.
 */
export function checkedByAuthorizer(): void {}
