// What the encoder refuses, said in words. The config layer bounds tags with the same constants and
// tagsSize, so a tag set is refused at start-up instead of failing on the first packet. Runs on every encode,
// so the happy path builds no strings: field names are only put together once a problem is found.

import type { MemberMeta, Message, Packet, Update } from '../core/types.js';
import {
  MAX_INCARNATION,
  MAX_PACKET_BYTES,
  MAX_SEQ,
  MAX_STRING_BYTES,
  MAX_TAGS_BYTES,
  MAX_UPDATES_PER_PACKET,
} from './constants.js';
import { packetSize, tagsSize } from './size.js';
import { strictUtf8Length } from './utf8.js';

/** null if `u` can be encoded, else why not. */
export function validateUpdateForWire(u: Update): string | null {
  switch (u.kind) {
    case 'alive':
      return (
        at('alive.name', nameProblem(u.name)) ??
        at('alive.lifeId', stringProblem(u.lifeId)) ??
        at('alive.incarnation', incarnationProblem(u.incarnation)) ??
        at('alive.gossipAddr', stringProblem(u.gossipAddr)) ??
        at('alive.grpcAddr', stringProblem(u.grpcAddr)) ??
        metaProblem(u.meta)
      );
    case 'suspect':
    case 'dead': {
      const name = nameProblem(u.name);
      if (name !== null) return `${u.kind}.name ${name}`;
      const incarnation = incarnationProblem(u.incarnation);
      if (incarnation !== null) return `${u.kind}.incarnation ${incarnation}`;
      const from = nameProblem(u.from);
      return from === null ? null : `${u.kind}.from ${from}`;
    }
    case 'left':
      return at('left.name', nameProblem(u.name)) ?? at('left.incarnation', incarnationProblem(u.incarnation));
    default:
      return `unknown update kind ${JSON.stringify((u as { kind?: unknown }).kind)}`;
  }
}

/** null if `m` can be encoded, else why not. */
export function validateMessageForWire(m: Message): string | null {
  switch (m.type) {
    case 'ping':
      return (
        at('ping.seq', seqProblem(m.seq)) ??
        at('ping.from', nameProblem(m.from)) ??
        at('ping.fromAddr', stringProblem(m.fromAddr)) ??
        at('ping.target', nameProblem(m.target))
      );
    case 'ack':
    case 'nack': {
      const seq = seqProblem(m.seq);
      if (seq !== null) return `${m.type}.seq ${seq}`;
      const from = nameProblem(m.from);
      return from === null ? null : `${m.type}.from ${from}`;
    }
    case 'ping-req':
      return (
        at('ping-req.seq', seqProblem(m.seq)) ??
        at('ping-req.from', nameProblem(m.from)) ??
        at('ping-req.fromAddr', stringProblem(m.fromAddr)) ??
        at('ping-req.target', nameProblem(m.target)) ??
        at('ping-req.targetAddr', stringProblem(m.targetAddr))
      );
    default:
      return `unknown message type ${JSON.stringify((m as { type?: unknown }).type)}`;
  }
}

/** null if the whole packet can be encoded, else why not (the first problem found). */
export function validatePacketForWire(packet: Packet): string | null {
  const sizeOrWhy = measurePacketForWire(packet);
  return typeof sizeOrWhy === 'string' ? sizeOrWhy : null;
}

/** The packet's encoded size if it can be encoded, else why not; spares the encoder a second sizing. */
export function measurePacketForWire(packet: Packet): number | string {
  if (packet.updates.length > MAX_UPDATES_PER_PACKET) {
    return `${packet.updates.length} updates; at most ${MAX_UPDATES_PER_PACKET} per packet`;
  }
  if (packet.message !== null) {
    const why = validateMessageForWire(packet.message);
    if (why !== null) return why;
  }
  for (let i = 0; i < packet.updates.length; i++) {
    const why = validateUpdateForWire(packet.updates[i] as Update);
    if (why !== null) return `updates[${i}]: ${why}`;
  }
  const size = packetSize(packet);
  if (size > MAX_PACKET_BYTES) return `packet is ${size} bytes; at most ${MAX_PACKET_BYTES}`;
  return size;
}

function at(field: string, problem: string | null): string | null {
  return problem === null ? null : `${field} ${problem}`;
}

function stringProblem(s: unknown): string | null {
  if (typeof s !== 'string') return 'is not a string';
  const bytes = strictUtf8Length(s);
  if (bytes < 0) return 'holds a lone surrogate (not encodable as UTF-8)';
  if (bytes > MAX_STRING_BYTES) return `is ${bytes} UTF-8 bytes; at most ${MAX_STRING_BYTES}`;
  return null;
}

/** Member names identify members: an empty one is a bug, not a member. */
function nameProblem(s: unknown): string | null {
  return s === '' ? 'is empty' : stringProblem(s);
}

function incarnationProblem(n: unknown): string | null {
  if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_INCARNATION) return null;
  return `${String(n)} is not an integer in 0..${MAX_INCARNATION}`;
}

function seqProblem(n: unknown): string | null {
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= MAX_SEQ) return null;
  return `${String(n)} is not an integer in 0..${MAX_SEQ}`;
}

function metaProblem(meta: MemberMeta): string | null {
  if (typeof meta !== 'object' || meta === null) return 'alive.meta is missing';
  const appAddr = stringProblem(meta.appAddr);
  if (appAddr !== null) return `alive.meta.appAddr ${appAddr}`;
  if (typeof meta.serving !== 'boolean') return 'alive.meta.serving is not a boolean';
  const tags: unknown = meta.tags;
  if (typeof tags !== 'object' || tags === null) return 'alive.meta.tags is not an object';
  let count = 0;
  for (const key in meta.tags) {
    if (!Object.hasOwn(meta.tags, key)) continue;
    count++;
    if (key === '') return 'alive.meta.tags has an empty key';
    const keyProblem = stringProblem(key);
    if (keyProblem !== null) return `alive.meta.tags key ${quoted(key)} ${keyProblem}`;
    const valueProblem = stringProblem(meta.tags[key]);
    if (valueProblem !== null) return `alive.meta.tags[${quoted(key)}] ${valueProblem}`;
  }
  const size = tagsSize(meta.tags);
  if (size > MAX_TAGS_BYTES) return `alive.meta.tags encode to ${size} bytes (${count} tags); at most ${MAX_TAGS_BYTES}`;
  return null;
}

/** Enough of a key to recognise it in a log line. */
function quoted(key: string): string {
  return JSON.stringify(key.length > 32 ? `${key.slice(0, 32)}...` : key);
}
