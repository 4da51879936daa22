// The packet envelope (docs/wire.md "Envelope"): what sits between the 4-byte header and the body.
//
//   header "SR" 1 flags | [label: str8, flag 0x01] | body, or [nonce 12 | AES-256-GCM(body) | tag 16, flag 0x02]
//
// From version 2 on the header also carries the sender's version range (src/codec/header.ts); the
// envelope follows it, and the whole header stays associated data.
//
// The label travels in clear even when the body is sealed, so a packet from another cluster is refused
// as `label-mismatch` rather than as an undecryptable one; the header and the label are the GCM
// associated data, so neither can be altered or moved onto another cluster's ciphertext.
// open() never throws: every refusal is a DecodeResult with one of the codec's reasons.
import { decodeBody } from '../codec/decode.js';
import { encodePacket } from '../codec/encode.js';
import { ENVELOPE_FLAG_ENCRYPTED, ENVELOPE_FLAG_LABELLED, ENVELOPE_FLAGS_KNOWN, MAX_STRING_BYTES } from '../codec/constants.js';
import { headerSize, RANGE_FIELD_SIZE, readHeader } from '../codec/header.js';
import type { VersionRange } from '../codec/protocol-version.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';
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
  /** Protocol versions accepted and advertised; the process's own (SPOKEN_RANGE) unless a test says. */
  readonly spoken?: VersionRange;
}

export class GossipEnvelope {
  private readonly labelBytes: Buffer;
  private readonly labelField: Buffer;
  verifyIncoming: boolean;
  verifyOutgoing: boolean;
  readonly spoken: VersionRange;

  constructor(private readonly opts: GossipSecurityOptions) {
    this.spoken = opts.spoken ?? SPOKEN_RANGE;
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
    const rangeField = this.spoken.max >= 2 ? RANGE_FIELD_SIZE : 0;
    return rangeField + this.labelField.length + (this.opts.keyring !== null ? SEAL_OVERHEAD : 0);
  }

  /**
   * Encodes and wraps a packet in `version` (the one its recipient talks; our lowest by default).
   * Throws only for a packet our own code built wrong (see encodePacket).
   */
  seal(packet: Packet, version: number = this.spoken.min): Uint8Array {
    const bare = encodePacket(packet, { version, spoken: this.spoken });
    const keyring = this.opts.keyring;
    const encrypt = keyring !== null && this.verifyOutgoing;
    if (!encrypt && this.labelField.length === 0) return bare;
    const flags = (this.labelField.length > 0 ? ENVELOPE_FLAG_LABELLED : 0) | (encrypt ? ENVELOPE_FLAG_ENCRYPTED : 0);
    const headerEnd = headerSize(version);
    const prefix = Buffer.alloc(headerEnd + this.labelField.length);
    prefix.set(bare.subarray(0, headerEnd));
    prefix[3] = flags;
    this.labelField.copy(prefix, headerEnd);
    const body = bare.subarray(headerEnd);
    return Buffer.concat([prefix, encrypt ? keyring.seal(body, prefix) : body]);
  }

  /** Checks and strips the envelope, then decodes the body. Never throws. */
  open(bytes: Uint8Array): DecodeResult {
    return this.openVersioned(bytes).decoded;
  }

  /** As open(), with the version the packet came in (null when its header was refused). */
  openVersioned(bytes: Uint8Array): { readonly decoded: DecodeResult; readonly version: number | null } {
    const read = readHeader(bytes, this.spoken);
    if (!read.ok) return { decoded: reject(read.reason, read.detail), version: null };
    try {
      return { decoded: this.openAfterHeader(bytes, read.header.flags, read.header.end), version: read.header.version };
    } catch (e) {
      // Only a bug gets here; it still must not escape to the event loop.
      return { decoded: reject('invalid-field', `unexpected envelope error: ${e instanceof Error ? e.message : String(e)}`), version: null };
    }
  }

  private openAfterHeader(bytes: Uint8Array, flags: number, headerEnd: number): DecodeResult {
    if ((flags & ~ENVELOPE_FLAGS_KNOWN) !== 0) {
      return reject('unsupported-flags', `envelope flags 0x${flags.toString(16)}; this build knows 0x${ENVELOPE_FLAGS_KNOWN.toString(16)}`);
    }
    let pos = headerEnd;
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
