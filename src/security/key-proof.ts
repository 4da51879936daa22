// Proof of holding the cluster's gossip key, carried with every gRPC call. gRPC itself is not encrypted
// by the keyring (TLS is its own option), but a process without the key must not join over Negotiate
// either: a member that refuses plaintext gossip also refuses calls without a proof its keyring opens.
//
// A proof (version 2) is made for one call: it seals the time and a digest of the request's bytes,
// with the RPC's path and the cluster label as associated data, and its nonce is its id. A captured
// proof therefore cannot carry another request (other body, other sender: the header is in the body),
// nor another RPC, and within its short window the receiver's replay guard admits it once. The exact
// construction is in docs/grpc.md ("Key proof") for clients in other languages.
//
// Version 1 (a sealed timestamp, the same for every call, good for 10 minutes) is still made and
// accepted when `legacy` is on: the transition of a rolling upgrade from members that know only it.
import { createHash } from 'node:crypto';
import { Keyring, NONCE_BYTES, SEAL_OVERHEAD } from './keyring.js';
import { ReplayGuard } from './replay-guard.js';

/** How far a proof's time may be from ours: room for clock skew between pods, nothing more. */
export const KEY_PROOF_MAX_SKEW_MS = 30_000;
/** Proof ids remembered at most: thousands of calls a second within the window. */
export const KEY_PROOF_REPLAY_ENTRIES = 65_536;
export const KEY_PROOF_AAD_PREFIX = 'swimring key-proof v2\0';
const DIGEST_BYTES = 32;
const STAMP_BYTES = 8;
/** nonce, the sealed time and digest, the tag. */
export const KEY_PROOF_BYTES = SEAL_OVERHEAD + STAMP_BYTES + DIGEST_BYTES;

/** The v1 window, the v1 re-seal period, and its associated data prefix. */
export const LEGACY_KEY_PROOF_MAX_SKEW_MS = 10 * 60_000;
const LEGACY_REFRESH_MS = 60_000;
const LEGACY_AAD_PREFIX = 'swimring key-proof v1\0';
const LEGACY_MAX_BYTES = 64;

/** What a client needs to prove a call: a v2 proof per request, and the v1 proof while in transition. */
export interface CallProofs {
  prove(methodPath: string, body: Uint8Array): Uint8Array;
  /** null unless this member still sends v1 proofs (legacy). */
  legacyProof(): Uint8Array | null;
}

/** A proof that opened for its RPC within the window; its body and id are checked once the body is read. */
export interface OpenedProof {
  readonly id: string;
  readonly at: number;
  readonly bodyDigest: Buffer;
}

export interface KeyProverOptions {
  /** Wall clock (ms since the epoch): proofs carry it. Default Date.now. */
  readonly now?: () => number;
  /** Also make v1 proofs and accept them (a rolling upgrade from members that know only v1). */
  readonly legacy?: boolean;
}

/** SHA-256 of a request's bytes as they travel (the gRPC message, without its 5-byte frame prefix). */
export function requestDigest(body: Uint8Array): Buffer {
  return createHash('sha256').update(body).digest();
}

/** The associated data of a v2 proof: prefix, label length (one byte), label, the RPC's path. */
export function keyProofAad(label: string, methodPath: string): Buffer {
  const labelBytes = Buffer.from(label, 'utf8');
  return Buffer.concat([Buffer.from(KEY_PROOF_AAD_PREFIX, 'utf8'), Buffer.from([labelBytes.length]), labelBytes, Buffer.from(methodPath, 'utf8')]);
}

export class KeyProver implements CallProofs {
  readonly legacy: boolean;
  private readonly now: () => number;
  private readonly label: string;
  private readonly legacyAad: Buffer;
  private legacyCached: { proof: Buffer; primary: string; at: number } | null = null;
  private readonly replays: ReplayGuard;

  constructor(
    private readonly keyring: Keyring,
    label: string,
    opts: KeyProverOptions = {},
  ) {
    this.label = label;
    this.now = opts.now ?? Date.now;
    this.legacy = opts.legacy === true;
    this.legacyAad = Buffer.from(LEGACY_AAD_PREFIX + label, 'utf8');
    this.replays = new ReplayGuard({ maxSkewMs: KEY_PROOF_MAX_SKEW_MS, maxEntries: KEY_PROOF_REPLAY_ENTRIES, what: 'key proof', now: this.now });
  }

  /** A fresh proof for one request: `body` is exactly the bytes sent. */
  prove(methodPath: string, body: Uint8Array): Buffer {
    const plain = Buffer.alloc(STAMP_BYTES + DIGEST_BYTES);
    plain.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(this.now()))));
    requestDigest(body).copy(plain, STAMP_BYTES);
    return this.keyring.seal(plain, keyProofAad(this.label, methodPath));
  }

  /** Checks what can be checked before the body arrives: key, label, RPC, time, not used before. */
  open(proof: Uint8Array, methodPath: string): OpenedProof | string {
    if (proof.length !== KEY_PROOF_BYTES) return `key proof of ${proof.length} bytes; a v2 proof has ${KEY_PROOF_BYTES}`;
    const plain = this.keyring.open(proof, keyProofAad(this.label, methodPath));
    if (plain === null) return `key proof not opened by any installed key (another key, another label, or made for another RPC than ${methodPath})`;
    const at = Number(plain.readBigUInt64BE(0));
    const id = Buffer.from(proof.subarray(0, NONCE_BYTES)).toString('hex');
    const refusal = this.replays.check(id, at);
    if (refusal !== null) return refusal;
    return { id, at, bodyDigest: plain.subarray(STAMP_BYTES) };
  }

  /** Once the body is read: it must be the one the proof was made for; then the proof is used up. */
  confirm(opened: OpenedProof, bodyDigest: Uint8Array | null): string | null {
    if (bodyDigest === null || !opened.bodyDigest.equals(bodyDigest)) return 'key proof made for another request body (or sender)';
    return this.replays.admit(opened.id, opened.at);
  }

  /** The v1 proof: a sealed timestamp, re-sealed every minute and when the primary key changes. */
  legacyProof(): Buffer | null {
    if (!this.legacy) return null;
    const now = this.now();
    const primary = this.keyring.list()[0]?.id ?? '';
    const c = this.legacyCached;
    if (c && c.primary === primary && now - c.at < LEGACY_REFRESH_MS) return c.proof;
    const stamp = Buffer.alloc(STAMP_BYTES);
    stamp.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))));
    const proof = this.keyring.seal(stamp, this.legacyAad);
    this.legacyCached = { proof, primary, at: now };
    return proof;
  }

  /** null when a v1 proof is good and v1 is accepted here; otherwise why not (no key material in it). */
  verifyLegacy(proof: Uint8Array | undefined): string | null {
    if (!proof || proof.length === 0) return 'no key proof: the caller does not use this cluster\'s gossip key';
    if (!this.legacy) return 'a v1 key proof, which this member no longer accepts (--key-proof-v1 accepts it during an upgrade; docs/security.md)';
    if (proof.length > LEGACY_MAX_BYTES) return `key proof of ${proof.length} bytes; at most ${LEGACY_MAX_BYTES}`;
    const stamp = this.keyring.open(proof, this.legacyAad);
    if (stamp === null || stamp.length !== STAMP_BYTES) return 'key proof not opened by any installed key (another key or another label)';
    const at = Number(stamp.readBigUInt64BE());
    if (Math.abs(this.now() - at) > LEGACY_KEY_PROOF_MAX_SKEW_MS) return `key proof ${Math.round((this.now() - at) / 1000)} s off this member's clock`;
    return null;
  }
}
