// The packet envelope (docs/wire.md "Envelope"): what sits between the 4-byte header and the body.
//
//   header "SR" 1 flags | [label: str8, flag 0x01] | body, or [nonce 12 | AES-256-GCM(body) | tag 16, flag 0x02]
//
// The label travels in clear even when the body is sealed, so a packet from another cluster is refused
// as `label-mismatch` rather than as an undecryptable one; the header and the label are the GCM
// associated data, so neither can be altered or moved onto another cluster's ciphertext.
// open() never throws: every refusal is a DecodeResult with one of the codec's reasons.
import { decodeBody } from '../codec/decode.js';
import { encodePacket } from '../codec/encode.js';
import {
  ENVELOPE_FLAG_ENCRYPTED,
  ENVELOPE_FLAG_LABELLED,
  ENVELOPE_FLAGS_KNOWN,
  HEADER_SIZE,
  MAGIC_0,
  MAGIC_1,
  MAX_PACKET_BYTES,
  MAX_STRING_BYTES,
  PACKET_OVERHEAD,
  WIRE_VERSION,
} from '../codec/constants.js';
import type { DecodeRejectReason, DecodeResult } from '../codec/reasons.js';
import { utf8Length } from '../codec/utf8.js';
import type { Packet } from '../core/types.js';
import { SEAL_OVERHEAD, type Keyring } from './keyring.js';

export interface GossipSecurityOptions {
  /** Cluster label; '' for none. At most 255 UTF-8 bytes. */
  readonly label: string;
  /** null: no encryption at all (an encrypted packet is refused as encrypted-unexpected). */
  readonly keyring: Keyring | null;
  /** Refuse plaintext packets (only meaningful with a keyring). */
  readonly verifyIncoming: boolean;
  /** Seal outgoing packets (only meaningful with a keyring). */
  readonly verifyOutgoing: boolean;
}

export class GossipEnvelope {
  private readonly labelBytes: Buffer;
  private readonly labelField: Buffer;
  verifyIncoming: boolean;
  verifyOutgoing: boolean;

  constructor(private readonly opts: GossipSecurityOptions) {
    if (utf8Length(opts.label) > MAX_STRING_BYTES) throw new RangeError(`a cluster label is at most ${MAX_STRING_BYTES} bytes`);
    this.labelBytes = Buffer.from(opts.label, 'utf8');
    this.labelField = this.labelBytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([this.labelBytes.length]), this.labelBytes]);
    this.verifyIncoming = opts.verifyIncoming;
    this.verifyOutgoing = opts.verifyOutgoing;
  }

  get keyring(): Keyring | null {
    return this.opts.keyring;
  }

  /** True when outgoing packets are sealed right now. */
  get sealing(): boolean {
    return this.opts.keyring !== null && this.verifyOutgoing;
  }

  /**
   * Bytes the envelope may add to a bare packet. The core's packet budget must leave this much room;
   * it counts the seal whenever a keyring exists, so flipping verify-outgoing at run time never lets a
   * packet outgrow its budget.
   */
  get overhead(): number {
    return this.labelField.length + (this.opts.keyring !== null ? SEAL_OVERHEAD : 0);
  }

  /** Encodes and wraps a packet. Throws only for a packet our own code built wrong (see encodePacket). */
  seal(packet: Packet): Uint8Array {
    const bare = encodePacket(packet);
    const keyring = this.opts.keyring;
    const encrypt = keyring !== null && this.verifyOutgoing;
    if (!encrypt && this.labelField.length === 0) return bare;
    const flags = (this.labelField.length > 0 ? ENVELOPE_FLAG_LABELLED : 0) | (encrypt ? ENVELOPE_FLAG_ENCRYPTED : 0);
    const prefix = Buffer.alloc(HEADER_SIZE + this.labelField.length);
    prefix[0] = MAGIC_0;
    prefix[1] = MAGIC_1;
    prefix[2] = WIRE_VERSION;
    prefix[3] = flags;
    this.labelField.copy(prefix, HEADER_SIZE);
    const body = bare.subarray(HEADER_SIZE);
    return Buffer.concat([prefix, encrypt ? keyring.seal(body, prefix) : body]);
  }

  /** Checks and strips the envelope, then decodes the body. Never throws. */
  open(bytes: Uint8Array): DecodeResult {
    try {
      return this.openUnsafe(bytes);
    } catch (e) {
      // Only a bug gets here; it still must not escape to the event loop.
      return reject('invalid-field', `unexpected envelope error: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private openUnsafe(bytes: Uint8Array): DecodeResult {
    if (bytes.length > MAX_PACKET_BYTES) return reject('too-large', `${bytes.length} bytes; at most ${MAX_PACKET_BYTES}`);
    if (bytes.length < PACKET_OVERHEAD) return reject('too-short', `${bytes.length} bytes; at least ${PACKET_OVERHEAD}`);
    if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1) return reject('bad-magic', 'first two bytes are not "SR"');
    if (bytes[2] !== WIRE_VERSION) return reject('unsupported-version', `version ${String(bytes[2])}; this build speaks ${WIRE_VERSION}`);
    const flags = bytes[3] as number;
    if ((flags & ~ENVELOPE_FLAGS_KNOWN) !== 0) {
      return reject('unsupported-flags', `envelope flags 0x${flags.toString(16)}; this build knows 0x${ENVELOPE_FLAGS_KNOWN.toString(16)}`);
    }
    let pos = HEADER_SIZE;
    if ((flags & ENVELOPE_FLAG_LABELLED) !== 0) {
      const length = bytes[pos] as number;
      if (length === 0) return reject('invalid-field', 'label flag set with an empty label');
      if (pos + 1 + length > bytes.length) return reject('truncated', `label of ${length} bytes runs past the end`);
      const label = bytes.subarray(pos + 1, pos + 1 + length);
      if (!this.labelBytes.equals(label)) {
        return reject('label-mismatch', this.labelBytes.length === 0 ? 'labelled packet; this member has no label' : 'another cluster label');
      }
      pos += 1 + length;
    } else if (this.labelBytes.length > 0) {
      return reject('label-mismatch', 'unlabelled packet; this member requires its cluster label');
    }
    if ((flags & ENVELOPE_FLAG_ENCRYPTED) !== 0) {
      const keyring = this.opts.keyring;
      if (keyring === null) return reject('encrypted-unexpected', 'encrypted packet; this member has no keyring');
      const sealed = bytes.subarray(pos);
      if (sealed.length < SEAL_OVERHEAD) return reject('truncated', `sealed body of ${sealed.length} bytes; at least ${SEAL_OVERHEAD}`);
      const body = keyring.open(sealed, bytes.subarray(0, pos));
      if (body === null) return reject('decrypt-failed', `no installed key (of ${keyring.size}) opens it`);
      return decodeBody(body, 0);
    }
    if (this.opts.keyring !== null && this.verifyIncoming) {
      return reject('plaintext-refused', 'plaintext packet; this member requires encryption (gossip verify-incoming)');
    }
    return decodeBody(bytes, pos);
  }
}

function reject(reason: DecodeRejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}
