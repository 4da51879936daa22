// The gossip keyring: AES-256-GCM keys, one of them primary. The primary seals what this member sends;
// every installed key is tried, primary first, on what it receives, so a new key can be installed
// everywhere before anyone sends with it, and an old one removed only after nobody does.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** Bytes one sealed payload adds to its plaintext: the nonce in front, the GCM tag behind. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES;

const CIPHER = 'aes-256-gcm';

/** A short, stable name for a key that reveals nothing usable about it: logs and the CLI show this. */
export function keyId(key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export interface KeyInfo {
  readonly id: string;
  readonly primary: boolean;
}

export type KeyringChange = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * AES-GCM nonces that cannot repeat: 8 random bytes drawn per process (and again whenever the counter
 * wraps), then a 4-byte counter. Random 96-bit nonces collide with probability about n^2 / 2^97 after n
 * packets under one key, cluster-wide; here two nonces can only meet if two 64-bit prefixes drawn under
 * one key are equal, whatever the packet count, and one collision would expose the key's GHASH
 * subkey (forgeries). The nonce still travels in each packet, so receivers need no change.
 */
export class NonceSource {
  private prefix: Buffer = randomBytes(NONCE_PREFIX_BYTES);
  private counter = 0;

  next(): Buffer {
    if (this.counter > MAX_NONCE_COUNTER) {
      this.prefix = randomBytes(NONCE_PREFIX_BYTES);
      this.counter = 0;
    }
    const nonce = Buffer.allocUnsafe(NONCE_BYTES);
    this.prefix.copy(nonce, 0);
    nonce.writeUInt32BE(this.counter++, NONCE_PREFIX_BYTES);
    return nonce;
  }
}

const NONCE_PREFIX_BYTES = 8;
const MAX_NONCE_COUNTER = 0xffff_ffff;

export class Keyring {
  /** keys[0] is the primary. Buffers are private copies: callers cannot change them afterwards. */
  private keys: Buffer[];
  private readonly nonces = new NonceSource();
  /** Payloads sealed per key id by this process: the input of rotation (docs/security.md). */
  private readonly sealedByKey = new Map<string, number>();
  private primaryId: { readonly key: Buffer; readonly id: string } | null = null;

  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key');
    this.keys = [];
    for (const k of keys) {
      if (k.length !== KEY_BYTES) throw new RangeError(`a key must be ${KEY_BYTES} bytes`);
      if (!this.keys.some((have) => have.equals(k))) this.keys.push(Buffer.from(k));
    }
  }

  get size(): number {
    return this.keys.length;
  }

  list(): KeyInfo[] {
    return this.keys.map((k, i) => ({ id: keyId(k), primary: i === 0 }));
  }

  /** Copies of the keys, primary first: for persisting the keyring, never for printing. */
  exportKeys(): Buffer[] {
    return this.keys.map((k) => Buffer.from(k));
  }

  /** Finds an installed key by its material or by its id. */
  find(keyOrId: Uint8Array | string): Buffer | undefined {
    if (typeof keyOrId === 'string') return this.keys.find((k) => keyId(k) === keyOrId);
    return this.keys.find((k) => k.equals(keyOrId));
  }

  install(key: Uint8Array): KeyringChange {
    if (key.length !== KEY_BYTES) return { ok: false, error: `a key must be ${KEY_BYTES} bytes` };
    if (!this.find(key)) this.keys.push(Buffer.from(key));
    return { ok: true };
  }

  use(keyOrId: Uint8Array | string): KeyringChange {
    const key = this.find(keyOrId);
    if (!key) return { ok: false, error: 'key is not installed' };
    this.keys = [key, ...this.keys.filter((k) => k !== key)];
    return { ok: true };
  }

  remove(keyOrId: Uint8Array | string): KeyringChange {
    const key = this.find(keyOrId);
    if (!key) return { ok: false, error: 'key is not installed' };
    if (key === this.keys[0]) return { ok: false, error: 'the primary key cannot be removed; make another key primary first' };
    this.keys = this.keys.filter((k) => k !== key);
    return { ok: true };
  }

  /** nonce || ciphertext || tag, sealed with the primary key; `aad` is authenticated, not carried. */
  seal(plaintext: Uint8Array, aad: Uint8Array): Buffer {
    const primary = this.keys[0] as Buffer;
    if (this.primaryId?.key !== primary) this.primaryId = { key: primary, id: keyId(primary) };
    const id = this.primaryId.id;
    this.sealedByKey.set(id, (this.sealedByKey.get(id) ?? 0) + 1);
    return sealWith(primary, plaintext, aad, this.nonces.next());
  }

  /** Payloads this process sealed, by key id (keys removed since included). */
  sealedCounts(): ReadonlyMap<string, number> {
    return this.sealedByKey;
  }

  /** Tries every key, primary first; null when none opens it (wrong key, tampered bytes, other AAD). */
  open(sealed: Uint8Array, aad: Uint8Array): Buffer | null {
    if (sealed.length < SEAL_OVERHEAD) return null;
    for (const key of this.keys) {
      const plain = openWith(key, sealed, aad);
      if (plain) return plain;
    }
    return null;
  }
}

export function sealWith(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, nonce: Buffer): Buffer {
  const cipher = createCipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, body, cipher.getAuthTag()]);
}

function openWith(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Buffer | null {
  const nonce = sealed.subarray(0, NONCE_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const body = sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES);
  try {
    const decipher = createDecipheriv(CIPHER, key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    // final() throws on a tag mismatch: that is the expected "not this key" answer.
    return null;
  }
}
