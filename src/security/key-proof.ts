// Proof of holding the cluster's gossip key, carried in every gRPC request header. gRPC itself is not
// encrypted by the keyring (TLS is its own option), but a process without the key must not join over
// Negotiate either: a member that refuses plaintext gossip also refuses calls without a proof its
// keyring opens. The proof is a sealed timestamp, so a captured one stops working after a while.
import { Keyring } from './keyring.js';

/** How far a proof's time may be from ours: replay window, and tolerance for clock skew between pods. */
export const KEY_PROOF_MAX_SKEW_MS = 10 * 60_000;
/** A proof is re-sealed this often (and whenever the primary key changes). */
const REFRESH_MS = 60_000;
const AAD_PREFIX = 'swimring key-proof v1\0';

export class KeyProver {
  private cached: { proof: Buffer; primary: string; at: number } | null = null;
  private readonly aad: Buffer;

  constructor(
    private readonly keyring: Keyring,
    label: string,
    private readonly now: () => number = Date.now,
  ) {
    this.aad = Buffer.from(AAD_PREFIX + label, 'utf8');
  }

  current(): Buffer {
    const now = this.now();
    const primary = this.keyring.list()[0]?.id ?? '';
    const c = this.cached;
    if (c && c.primary === primary && now - c.at < REFRESH_MS) return c.proof;
    const stamp = Buffer.alloc(8);
    stamp.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))));
    const proof = this.keyring.seal(stamp, this.aad);
    this.cached = { proof, primary, at: now };
    return proof;
  }

  /** null when the proof is good; otherwise why not (no key material in it). */
  verify(proof: Uint8Array | undefined): string | null {
    if (!proof || proof.length === 0) return 'no key proof: the caller does not use this cluster\'s gossip key';
    if (proof.length > 64) return `key proof of ${proof.length} bytes; at most 64`;
    const stamp = this.keyring.open(proof, this.aad);
    if (stamp === null || stamp.length !== 8) return 'key proof not opened by any installed key (another key or another label)';
    const at = Number(stamp.readBigUInt64BE());
    if (Math.abs(this.now() - at) > KEY_PROOF_MAX_SKEW_MS) return `key proof ${Math.round((this.now() - at) / 1000)} s off this member's clock`;
    return null;
  }
}
