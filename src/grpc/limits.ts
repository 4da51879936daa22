// Bounds on what the control plane accepts. Everything from a peer is untrusted: these keep one
// request from costing unbounded memory or CPU.
import { MAX_STRING_BYTES, MAX_TAGS_BYTES } from '../codec/constants.js';

export interface ControlPlaneLimits {
  /** Most member records in one Negotiate request or reply; more is RESOURCE_EXHAUSTED. */
  readonly maxMembers: number;
  /** Largest gRPC message received or sent, in bytes; more is RESOURCE_EXHAUSTED. */
  readonly maxMessageBytes: number;
  /** Largest tags block of one member, measured as on the UDP wire (src/codec/size.ts tagsSize). */
  readonly maxTagsBytes: number;
}

export const DEFAULT_LIMITS: ControlPlaneLimits = Object.freeze({
  maxMembers: 65_536,
  maxMessageBytes: 16 * 1024 * 1024,
  maxTagsBytes: MAX_TAGS_BYTES,
});

/** Room per record when sizing messages for a cluster: names, addresses, a life id and a few tags. */
export const RECORD_ALLOWANCE_BYTES = 1024;
/** Room in a message besides its records (header, framing). */
const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/**
 * Limits sized to what a cluster of at most `maxClusterSize` members needs: the largest message is a
 * full-state exchange, which carries every member and up to as many tombstones. Anything larger is
 * refused before it is buffered, so a caller cannot make a member hold more than that per call.
 */
export function limitsForClusterSize(maxClusterSize: number): ControlPlaneLimits {
  const records = 2 * maxClusterSize;
  return resolveLimits({ maxMembers: records, maxMessageBytes: MESSAGE_OVERHEAD_BYTES + records * RECORD_ALLOWANCE_BYTES });
}

/**
 * Requests made of a header and a few short fields: the header at its bounds is under 1 KiB, a sealed
 * KeyringOp at most 1 KiB more. Refused beyond this from their length prefix, before they are read.
 */
export const SMALL_REQUEST_BYTES = 16 * 1024;
const SMALL_REQUEST_RPCS: ReadonlySet<string> = new Set(['Ping', 'Closing', 'KeyringOp', 'ForceLeave', 'WatchMembership', 'GetLocalActorIds']);

/**
 * The largest request the server reads for `rpc`: small for the RPCs above; for the rest (Negotiate's
 * full state, anti-entropy entries, claims, Apply) `maxMessageBytes`, sized from the cluster.
 */
export function requestBound(rpc: string, limits: ControlPlaneLimits): number {
  return SMALL_REQUEST_RPCS.has(rpc) ? Math.min(SMALL_REQUEST_BYTES, limits.maxMessageBytes) : limits.maxMessageBytes;
}

/** Member names: a DNS name's length, which pod names and hostnames fit. */
export const MAX_NAME_BYTES = 253;
/** "host:port" addresses, as on the UDP wire (u8 length). */
export const MAX_ADDRESS_BYTES = 255;
export const MAX_LIFE_ID_BYTES = 255;
/** One tag key or value, as on the UDP wire (u8 length). */
export const MAX_TAG_STRING_BYTES = MAX_STRING_BYTES;
/** Cluster label, caller name, table versions and other short strings in headers and replies. */
export const MAX_SHORT_STRING_BYTES = 255;
/**
 * One encoded MemberRecord. The largest valid record is about 3 KiB (every string at its bound,
 * 255 one-byte tags); anything bigger is refused before it is decoded.
 */
export const MAX_MEMBER_RECORD_BYTES = 8 * 1024;
/** gRPC's own message-size options are int32. */
const MAX_GRPC_MESSAGE_BYTES = 0x7fff_ffff;

/** Fills defaults and refuses nonsense (a configuration error, so it throws). */
export function resolveLimits(partial: Partial<ControlPlaneLimits> = {}): ControlPlaneLimits {
  const limits = { ...DEFAULT_LIMITS, ...stripUndefined(partial) };
  check('maxMembers', limits.maxMembers, 1, 0xffff_ffff);
  check('maxMessageBytes', limits.maxMessageBytes, 1024, MAX_GRPC_MESSAGE_BYTES);
  check('maxTagsBytes', limits.maxTagsBytes, 1, 64 * 1024);
  return Object.freeze(limits);
}

function check(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`control plane limit ${name} must be an integer in ${min}..${max}, got ${value}`);
  }
}

function stripUndefined(partial: Partial<ControlPlaneLimits>): Partial<ControlPlaneLimits> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
}
