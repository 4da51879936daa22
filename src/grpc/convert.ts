// MemberRecord <-> swimring.v1.MemberRecord, and the bounded validation of everything a peer sends.
// A failed check is a Rejection naming the field ("members[3].gossipAddr: ..."), never a throw.
import { status } from '@grpc/grpc-js';
import { checkProtocolVersion, type VersionRange } from '../codec/protocol-version.js';
import { tagsSize } from '../codec/size.js';
import { SPOKEN_RANGE } from '../codec/spoken.js';
import { isWellFormedUtf16, utf8Length } from '../codec/utf8.js';
import { MAX_INCARNATION } from '../core/limits.js';
import type { MemberMeta, MemberRecord, MemberState } from '../core/types.js';
import { parseHostPort } from '../net/address.js';
import { invalid, isRejection, reject, type Rejection } from './errors.js';
import type { MemberMeta__Output as ProtoMeta } from './generated/swimring/v1/MemberMeta.js';
import type { MemberRecord as ProtoMemberIn, MemberRecord__Output as ProtoMember } from './generated/swimring/v1/MemberRecord.js';
import type { MemberState__Output as ProtoState } from './generated/swimring/v1/MemberState.js';
import type { RequestHeader__Output as ProtoHeader } from './generated/swimring/v1/RequestHeader.js';
import {
  MAX_ADDRESS_BYTES,
  MAX_LIFE_ID_BYTES,
  MAX_NAME_BYTES,
  MAX_SHORT_STRING_BYTES,
  MAX_TAG_STRING_BYTES,
  type ControlPlaneLimits,
} from './limits.js';

const TO_PROTO_STATE: Readonly<Record<MemberState, ProtoState>> = {
  alive: 'MEMBER_STATE_ALIVE',
  suspect: 'MEMBER_STATE_SUSPECT',
  dead: 'MEMBER_STATE_DEAD',
  left: 'MEMBER_STATE_LEFT',
};

const FROM_PROTO_STATE: ReadonlyMap<unknown, MemberState> = new Map(
  Object.entries(TO_PROTO_STATE).map(([ours, theirs]) => [theirs, ours as MemberState]),
);

// C0 controls and DEL: nothing a name needs, and they garble logs.
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

// ---------------------------------------------------------------------------------------------
// Outgoing: our records to proto (trusted, no checks)
// ---------------------------------------------------------------------------------------------

export function memberToProto(m: MemberRecord): ProtoMemberIn {
  return {
    name: m.name,
    lifeId: m.lifeId,
    incarnation: String(m.incarnation),
    state: TO_PROTO_STATE[m.state],
    gossipAddr: m.gossipAddr,
    grpcAddr: m.grpcAddr,
    meta: { appAddr: m.meta.appAddr, serving: m.meta.serving, tags: { ...m.meta.tags } },
  };
}

export function membersToProto(members: readonly MemberRecord[]): ProtoMemberIn[] {
  return members.map(memberToProto);
}

// ---------------------------------------------------------------------------------------------
// Incoming: proto to our records, every field checked
// ---------------------------------------------------------------------------------------------

/** A whole member list: count bound (RESOURCE_EXHAUSTED), each record, unique names. */
export function membersFromProto(
  list: readonly ProtoMember[],
  field: string,
  limits: ControlPlaneLimits,
): MemberRecord[] | Rejection {
  if (list.length > limits.maxMembers) return tooManyMembers(field, list.length, limits.maxMembers);
  const out: MemberRecord[] = [];
  const seen = new Map<string, number>();
  for (let i = 0; i < list.length; i++) {
    const entry = list[i];
    if (entry === undefined) return invalid(`${field}[${i}]`, 'missing');
    const m = memberFromProto(entry, `${field}[${i}]`, limits);
    if (isRejection(m)) return m;
    const first = seen.get(m.name);
    if (first !== undefined) return invalid(`${field}[${i}].name`, `"${m.name}" repeats ${field}[${first}]`);
    seen.set(m.name, i);
    out.push(m);
  }
  return out;
}

export function tooManyMembers(field: string, count: number, max: number): Rejection {
  return reject(status.RESOURCE_EXHAUSTED, 'too-many-members', `${field}: ${count} member records, limit ${max}`);
}

export function memberFromProto(p: ProtoMember, field: string, limits: ControlPlaneLimits): MemberRecord | Rejection {
  const name = checkName(p.name, `${field}.name`);
  if (typeof name !== 'string') return name;
  const lifeId = checkText(p.lifeId, `${field}.life_id`, 1, MAX_LIFE_ID_BYTES);
  if (typeof lifeId !== 'string') return lifeId;
  const incarnation = checkIncarnation(p.incarnation, `${field}.incarnation`);
  if (typeof incarnation !== 'number') return incarnation;
  const state = FROM_PROTO_STATE.get(p.state);
  if (state === undefined) return invalid(`${field}.state`, `${describeState(p.state)} is not a member state`);
  const gossipAddr = checkAddress(p.gossipAddr, `${field}.gossip_addr`);
  if (typeof gossipAddr !== 'string') return gossipAddr;
  const grpcAddr = checkAddress(p.grpcAddr, `${field}.grpc_addr`);
  if (typeof grpcAddr !== 'string') return grpcAddr;
  const meta = metaFromProto(p.meta, `${field}.meta`, limits);
  if (isRejection(meta)) return meta;
  return { name, lifeId, incarnation, state, gossipAddr, grpcAddr, meta };
}

function metaFromProto(p: ProtoMeta | null, field: string, limits: ControlPlaneLimits): MemberMeta | Rejection {
  if (p === null) return { appAddr: '', serving: false, tags: {} };
  const appAddr = p.appAddr === '' ? '' : checkAddress(p.appAddr, `${field}.app_addr`);
  if (typeof appAddr !== 'string') return appAddr;
  const tags = checkTags(p.tags, `${field}.tags`, limits.maxTagsBytes);
  if (isRejection(tags)) return tags;
  return { appAddr, serving: p.serving === true, tags };
}

function checkTags(
  raw: Record<string, string> | null | undefined,
  field: string,
  maxBytes: number,
): Readonly<Record<string, string>> | Rejection {
  const entries = Object.entries(raw ?? {});
  // Early out before measuring: a block of more than maxBytes entries cannot fit.
  if (entries.length > maxBytes) return invalid(field, `${entries.length} tags cannot fit in ${maxBytes} bytes`);
  for (const [key, value] of entries) {
    const k = checkText(key, `${field}[${JSON.stringify(truncate(key))}]`, 1, MAX_TAG_STRING_BYTES, 'key');
    if (typeof k !== 'string') return k;
    if (typeof value !== 'string') return invalid(`${field}[${JSON.stringify(key)}]`, 'value is not a string');
    const v = checkText(value, `${field}[${JSON.stringify(key)}]`, 0, MAX_TAG_STRING_BYTES, 'value');
    if (typeof v !== 'string') return v;
  }
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  const tags: Record<string, string> = Object.fromEntries(entries);
  const size = tagsSize(tags);
  if (size > maxBytes) return invalid(field, `${size} bytes encoded, limit ${maxBytes}`);
  return tags;
}

/** 1..253 bytes of well-formed UTF-8, no control characters. */
export function checkName(value: unknown, field: string): string | Rejection {
  return checkText(value, field, 1, MAX_NAME_BYTES);
}

/** A string of minBytes..maxBytes UTF-8 bytes, no lone surrogates, no control characters. */
export function checkText(
  value: unknown,
  field: string,
  minBytes: number,
  maxBytes: number,
  what = '',
): string | Rejection {
  const label = what === '' ? '' : `${what} `;
  if (typeof value !== 'string') return invalid(field, `${label}is not a string`);
  // Every UTF-16 unit takes at least one UTF-8 byte: a long string is refused without measuring.
  const bytes = value.length > maxBytes ? maxBytes + 1 : utf8Length(value);
  if (bytes < minBytes) return invalid(field, `${label}is empty (must be ${minBytes} to ${maxBytes} bytes)`);
  if (bytes > maxBytes) return invalid(field, `${label}is longer than ${maxBytes} bytes`);
  if (!isWellFormedUtf16(value)) return invalid(field, `${label}is not valid UTF-8`);
  if (CONTROL_CHARS.test(value)) return invalid(field, `${label}contains a control character`);
  return value;
}

/** "host:port" or "[v6]:port", port 1-65535, at most 255 bytes, exactly as written (no spaces). */
export function checkAddress(value: unknown, field: string): string | Rejection {
  const text = checkText(value, field, 1, MAX_ADDRESS_BYTES);
  if (typeof text !== 'string') return text;
  if (text.trim() !== text) return invalid(field, `"${truncate(text)}" has surrounding spaces`);
  const hp = parseHostPort(text, { allowPortZero: false, hosts: 'shape' });
  return hp.ok ? text : invalid(field, hp.reason);
}

/** uint64 (a decimal string with longs: String) no higher than the incarnation ceiling (2^50). */
export function checkIncarnation(value: unknown, field: string): number | Rejection {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,20}$/.test(text)) return invalid(field, `${String(value)} is not an unsigned integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_INCARNATION) {
    return reject(status.INVALID_ARGUMENT, 'incarnation-out-of-range', `${field}: ${text} exceeds ${MAX_INCARNATION} (2^50), the incarnation ceiling`);
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// Request header
// ---------------------------------------------------------------------------------------------

/** What a handler learns about the caller besides the request itself. */
export interface CallContext {
  /** The caller's cluster label ("" when none); for the runtime to check. */
  readonly label: string;
  /** The caller's member name as it claims it ("" when not a member). Informational, not identity. */
  readonly sender: string;
  /** The version this member talks with the caller: the highest both speak. */
  readonly protocolVersion: number;
  /** The versions the caller speaks (exactly protocol_version for a caller predating ranges). */
  readonly protocolRange: VersionRange;
  /** The transport peer, "ipv4:1.2.3.4:5678" or "ipv6:[::1]:5678" as gRPC reports it. */
  readonly peer: string;
  /** A v1 key proof from the request header (src/security/key-proof.ts); absent when none was sent. */
  readonly keyProof?: Uint8Array;
  /** The caller proved the gossip key with a proof checked against this request (src/grpc/authorizer.ts). */
  readonly keyProven?: boolean;
}

/** A request header; key_proof, the version range and the claim record version are optional so hand-built ones (tests, tools) may omit them. */
export type HeaderIn = Omit<ProtoHeader, 'keyProof' | 'minProtocolVersion' | 'maxProtocolVersion' | 'claimRecordVersion'> &
  Partial<Pick<ProtoHeader, 'minProtocolVersion' | 'maxProtocolVersion' | 'claimRecordVersion'>> & { keyProof?: Buffer };

export function contextFromHeader(
  header: HeaderIn | null,
  peer: string,
  spoken: VersionRange = SPOKEN_RANGE,
): CallContext | Rejection {
  const versions = checkProtocolVersion(header, spoken);
  if (!versions.ok) {
    return reject(versions.reason === 'invalid' ? status.INVALID_ARGUMENT : status.FAILED_PRECONDITION, versions.reason, versions.message);
  }
  const label = checkText(header?.label ?? '', 'header.label', 0, MAX_SHORT_STRING_BYTES);
  if (typeof label !== 'string') return label;
  const sender = header?.sender ?? '';
  const checkedSender = sender === '' ? '' : checkName(sender, 'header.sender');
  if (typeof checkedSender !== 'string') return checkedSender;
  const keyProof = header?.keyProof;
  return { label, sender: checkedSender, protocolVersion: versions.version, protocolRange: versions.peer, peer, ...(keyProof && keyProof.length > 0 ? { keyProof } : {}) };
}

function describeState(state: unknown): string {
  return typeof state === 'string' ? state : `value ${String(state)}`;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}

/** A member state in its protobuf form (trusted: our own). */
export function stateToProto(state: MemberState): ProtoState {
  return TO_PROTO_STATE[state];
}

/** A peer's member state, null for UNSPECIFIED or a value this version does not know. */
export function stateFromProto(value: unknown): MemberState | null {
  return FROM_PROTO_STATE.get(value) ?? null;
}
