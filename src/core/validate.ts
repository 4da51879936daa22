// Cheap shape checks on updates and records from peers. The codec bounds the bytes; these keep a
// malformed object (from a buggy codec or a test) from corrupting the member table.
import { MAX_INCARNATION, MAX_LIFE_ID_BYTES, MAX_NAME_BYTES } from './limits.js';
import type { MemberMeta, MemberRecord, Update } from './types.js';
import { utf8Length } from './utf8-length.js';

// C0 controls and DEL, refused by the control plane in names too.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

function isText(s: unknown, maxBytes: number): s is string {
  // Every UTF-16 unit takes at least one UTF-8 byte: a long string is refused without measuring.
  return typeof s === 'string' && s.length > 0 && s.length <= maxBytes && utf8Length(s) <= maxBytes && !CONTROL_CHARS.test(s);
}

/** A member name the control plane can carry: 1-253 UTF-8 bytes, no control characters. */
export function isName(s: unknown): s is string {
  return isText(s, MAX_NAME_BYTES);
}

export function isLifeId(s: unknown): s is string {
  return isText(s, MAX_LIFE_ID_BYTES);
}

export function isIncarnation(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 && n <= MAX_INCARNATION;
}

function isMeta(m: unknown): m is MemberMeta {
  if (typeof m !== 'object' || m === null) return false;
  const meta = m as Partial<MemberMeta>;
  return typeof meta.appAddr === 'string' && typeof meta.serving === 'boolean' && typeof meta.tags === 'object' && meta.tags !== null;
}

// Updates and records are immutable, and in a simulator thousands of cores receive the very same
// objects (a join reply holds every member's): each object is checked once. Weak, so nothing outlives
// its last user.
const checkedUpdates = new WeakSet<Update>();
const checkedRecords = new WeakSet<MemberRecord>();

export function isValidUpdate(u: Update): boolean {
  if (typeof u === 'object' && u !== null && checkedUpdates.has(u)) return true;
  if (!checkUpdate(u)) return false;
  checkedUpdates.add(u);
  return true;
}

export function isValidRecord(r: MemberRecord): boolean {
  if (typeof r === 'object' && r !== null && checkedRecords.has(r)) return true;
  if (!checkRecord(r)) return false;
  checkedRecords.add(r);
  return true;
}

function checkUpdate(u: Update): boolean {
  if (typeof u !== 'object' || u === null || !isName(u.name) || !isIncarnation(u.incarnation)) return false;
  switch (u.kind) {
    case 'alive':
      return isLifeId(u.lifeId) && typeof u.gossipAddr === 'string' && typeof u.grpcAddr === 'string' && isMeta(u.meta);
    case 'suspect':
    case 'dead':
      return typeof u.from === 'string';
    case 'left':
      return true;
    default:
      return false;
  }
}

function checkRecord(r: MemberRecord): boolean {
  if (typeof r !== 'object' || r === null || !isName(r.name) || !isLifeId(r.lifeId) || !isIncarnation(r.incarnation)) return false;
  if (r.state !== 'alive' && r.state !== 'suspect' && r.state !== 'dead' && r.state !== 'left') return false;
  return typeof r.gossipAddr === 'string' && typeof r.grpcAddr === 'string' && isMeta(r.meta);
}
