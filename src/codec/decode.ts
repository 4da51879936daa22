// Bytes -> Packet, for untrusted input. Never throws: every failure is a DecodeResult with a reason.
// Checks run in the order docs/wire.md lists, so a given input always gets the same reason.

import type { MemberMeta, Message, Packet, Update } from '../core/types.js';
import {
  ENVELOPE_FLAGS_NONE,
  MAX_TAGS_BYTES,
  MAX_UPDATES_PER_PACKET,
  MESSAGE_TYPE,
  META_FLAG_SERVING,
  META_FLAGS_KNOWN,
  UPDATE_TYPE,
} from './constants.js';
import { readHeader } from './header.js';
import { VERSION_1_ONLY, type VersionRange } from './protocol-version.js';
import { Reader } from './reader.js';
import { DecodeRejection, type DecodeRejectReason, type DecodeResult } from './reasons.js';

/**
 * Decodes a bare packet (envelope flags 0). `spoken` is the range of versions accepted; version 1
 * alone unless a caller speaks more (docs/wire.md "Versions and rolling upgrades").
 */
export function decodePacket(bytes: Uint8Array, spoken: VersionRange = VERSION_1_ONLY): DecodeResult {
  const read = readHeader(bytes, spoken);
  if (!read.ok) return reject(read.reason, read.detail);
  const { flags, end } = read.header;
  if (flags !== ENVELOPE_FLAGS_NONE) {
    return reject('unsupported-flags', `envelope flags 0x${flags.toString(16)}; this build knows none`);
  }
  return decodeBody(bytes, end);
}

/**
 * Decodes the body (counts, message, updates) from `start` to the very end of `bytes`. A future
 * envelope checks its header fields, unwraps (e.g. decrypts) and hands the inner body here.
 */
export function decodeBody(bytes: Uint8Array, start: number): DecodeResult {
  try {
    const r = new Reader(bytes, start);
    const packet = readBody(r);
    if (r.remaining !== 0) {
      return reject('trailing-bytes', `${r.remaining} bytes after the last update at byte ${r.pos}`);
    }
    return { ok: true, packet };
  } catch (e) {
    if (e instanceof DecodeRejection) return { ok: false, reason: e.reason, detail: e.detail };
    // Only a decoder bug gets here; it still must not escape to the event loop.
    return reject('invalid-field', `unexpected decoder error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function readBody(r: Reader): Packet {
  const messageCountAt = r.pos;
  const messageCount = r.u8('message count');
  if (messageCount > 1) {
    throw new DecodeRejection('invalid-field', `message count ${messageCount} at byte ${messageCountAt}; 0 or 1`);
  }
  const updateCountAt = r.pos;
  const updateCount = r.u16('update count');
  if (updateCount > MAX_UPDATES_PER_PACKET) {
    throw new DecodeRejection(
      'too-many-updates',
      `update count ${updateCount} at byte ${updateCountAt}; at most ${MAX_UPDATES_PER_PACKET}`,
    );
  }
  const message = messageCount === 1 ? readMessage(r) : null;
  const updates: Update[] = [];
  for (let i = 0; i < updateCount; i++) updates.push(readUpdate(r));
  return { message, updates };
}

function readMessage(r: Reader): Message {
  const at = r.pos;
  const type = r.u8('message type');
  switch (type) {
    case MESSAGE_TYPE.ping: {
      const seq = r.u32('ping.seq');
      const from = r.name('ping.from');
      const fromAddr = r.string('ping.fromAddr');
      const target = r.name('ping.target');
      return { type: 'ping', seq, from, fromAddr, target };
    }
    case MESSAGE_TYPE.ack:
      return { type: 'ack', seq: r.u32('ack.seq'), from: r.name('ack.from') };
    case MESSAGE_TYPE.nack:
      return { type: 'nack', seq: r.u32('nack.seq'), from: r.name('nack.from') };
    case MESSAGE_TYPE['ping-req']: {
      const seq = r.u32('ping-req.seq');
      const from = r.name('ping-req.from');
      const fromAddr = r.string('ping-req.fromAddr');
      const target = r.name('ping-req.target');
      const targetAddr = r.string('ping-req.targetAddr');
      return { type: 'ping-req', seq, from, fromAddr, target, targetAddr };
    }
    default:
      throw new DecodeRejection('unknown-message-type', `message type ${type} at byte ${at}`);
  }
}

function readUpdate(r: Reader): Update {
  const at = r.pos;
  const type = r.u8('update type');
  switch (type) {
    case UPDATE_TYPE.alive: {
      const name = r.name('alive.name');
      const lifeId = r.string('alive.lifeId');
      const incarnation = r.incarnation('alive.incarnation');
      const gossipAddr = r.string('alive.gossipAddr');
      const grpcAddr = r.string('alive.grpcAddr');
      const meta = readMeta(r);
      return { kind: 'alive', name, lifeId, incarnation, gossipAddr, grpcAddr, meta };
    }
    case UPDATE_TYPE.suspect: {
      const name = r.name('suspect.name');
      const incarnation = r.incarnation('suspect.incarnation');
      const from = r.name('suspect.from');
      return { kind: 'suspect', name, incarnation, from };
    }
    case UPDATE_TYPE.dead: {
      const name = r.name('dead.name');
      const incarnation = r.incarnation('dead.incarnation');
      const from = r.name('dead.from');
      return { kind: 'dead', name, incarnation, from };
    }
    case UPDATE_TYPE.left: {
      const name = r.name('left.name');
      const incarnation = r.incarnation('left.incarnation');
      return { kind: 'left', name, incarnation };
    }
    default:
      throw new DecodeRejection('unknown-update-type', `update type ${type} at byte ${at}`);
  }
}

function readMeta(r: Reader): MemberMeta {
  const appAddr = r.string('alive.meta.appAddr');
  const flagsAt = r.pos;
  const flags = r.u8('alive.meta.flags');
  if ((flags & ~META_FLAGS_KNOWN) !== 0) {
    throw new DecodeRejection('invalid-field', `alive.meta.flags 0x${flags.toString(16)} at byte ${flagsAt} sets reserved bits`);
  }
  const tagsAt = r.pos;
  // Each key and value must end inside the block's limit, checked before its bytes are decoded.
  const tagsLimit = tagsAt + MAX_TAGS_BYTES;
  const count = r.u8('alive.meta.tags count');
  const tags: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const keyAt = r.pos;
    const key = r.string('alive.meta.tags key', tagsLimit);
    const value = r.string('alive.meta.tags value', tagsLimit);
    if (key === '') throw new DecodeRejection('invalid-field', `alive.meta.tags key at byte ${keyAt} is empty`);
    if (Object.hasOwn(tags, key)) {
      throw new DecodeRejection('invalid-field', `alive.meta.tags key at byte ${keyAt} repeats an earlier key`);
    }
    // defineProperty, not assignment: a "__proto__" key must stay a plain tag, not replace the prototype.
    Object.defineProperty(tags, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return { appAddr, serving: (flags & META_FLAG_SERVING) !== 0, tags };
}

function reject(reason: DecodeRejectReason, detail: string): DecodeResult {
  return { ok: false, reason, detail };
}
