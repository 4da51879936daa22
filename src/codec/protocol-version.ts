// Which protocol version two members talk, and whether they can talk at all (docs/wire.md
// "Versions and rolling upgrades"). Pure decisions over version ranges: the runtime keeps the
// per-peer state (src/runtime/peer-versions.ts), the codec writes and reads the bytes.
//
// A member speaks a contiguous range of versions. It advertises the range three ways, each one a
// place a version-1 member ignores or carries along unread:
//   - the `swimring.protocol` tag of its own alive record (absent means "1-1"), so every member
//     learns every other member's range through ordinary gossip and Negotiate, even through
//     members that predate ranges;
//   - the header of every packet of version 2 and later;
//   - RequestHeader.min/max_protocol_version on every gRPC request (proto3 fields old members skip).
// Two members talk at the highest version both speak; a peer whose range is unknown is spoken to in
// this member's lowest version (1 for every build so far), the only one an old member may know.

/** A contiguous, non-empty range of protocol versions, both ends included. */
export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

/** What every member that predates version ranges speaks, and what an absent advertisement means. */
export const VERSION_1_ONLY: VersionRange = Object.freeze({ min: 1, max: 1 });

/**
 * Highest version this code can encode and decode. Version 2 exists for tests only: it adds the
 * sender's range to the packet header and nothing else (docs/wire.md), so a rolling upgrade can be
 * exercised before a real second version exists. Builds speak 1-1 unless the test switch is set.
 */
export const HIGHEST_KNOWN_VERSION = 2;

/** Tag key carrying a member's range ("1-2") in its alive record. Absent for a member speaking 1-1. */
export const PROTOCOL_TAG = 'swimring.protocol';

/**
 * Test-only switch: the range this process speaks, as "MIN-MAX" or "V". Set by integration tests to
 * start a member of a "newer build"; not a configuration option and not for production use.
 */
export const TEST_VERSIONS_ENV = 'SWIMRING_TEST_PROTOCOL_VERSIONS';

const RANGE_TEXT = /^([0-9]{1,3})(?:-([0-9]{1,3}))?$/;

/** "1-2"; the form of the tag and of every log and refusal message. */
export function formatRange(range: VersionRange): string {
  return `${range.min}-${range.max}`;
}

/** A range in "MIN-MAX" (or "V") form with 1 <= MIN <= MAX <= 255, or null. */
export function parseRange(text: string): VersionRange | null {
  const m = RANGE_TEXT.exec(text);
  if (m === null) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return isValidRange(min, max) ? { min, max } : null;
}

function isValidRange(min: number, max: number): boolean {
  return Number.isInteger(min) && Number.isInteger(max) && min >= 1 && min <= max && max <= 255;
}

export function speaks(range: VersionRange, version: number): boolean {
  return version >= range.min && version <= range.max;
}

/** The highest version both ranges contain, or null when they do not overlap. */
export function highestCommon(a: VersionRange, b: VersionRange): number | null {
  const top = Math.min(a.max, b.max);
  return top >= Math.max(a.min, b.min) ? top : null;
}

/**
 * The version to encode a packet to a peer in. A peer whose range is unknown, or does not overlap
 * ours (it will refuse the packet, and count it), gets our lowest version.
 */
export function versionForPeer(local: VersionRange, peer: VersionRange | null): number {
  return (peer === null ? null : highestCommon(local, peer)) ?? local.min;
}

/**
 * A member's advertised range from its tags: VERSION_1_ONLY without the tag, null for a tag that is
 * not a range (then the member is spoken to as an unknown peer).
 */
export function rangeFromTags(tags: Readonly<Record<string, string>>): VersionRange | null {
  if (!Object.hasOwn(tags, PROTOCOL_TAG)) return VERSION_1_ONLY;
  return parseRange(tags[PROTOCOL_TAG] ?? '');
}

/**
 * This member's tags with its range advertised. A 1-1 member adds nothing, so it gossips exactly
 * the records a member predating ranges would.
 */
export function withProtocolTag(tags: Readonly<Record<string, string>>, spoken: VersionRange): Readonly<Record<string, string>> {
  const rest = Object.fromEntries(Object.entries(tags).filter(([key]) => key !== PROTOCOL_TAG));
  if (spoken.min === 1 && spoken.max === 1) return rest;
  return { ...rest, [PROTOCOL_TAG]: formatRange(spoken) };
}

/** The version fields of a gRPC RequestHeader (or of what a caller put there). */
export interface HeaderVersionFields {
  /** The single version: what members predating ranges send and check (0 reads as 1). */
  readonly protocolVersion: number;
  /** The caller's range; both 0 from a caller that predates ranges. */
  readonly minProtocolVersion: number;
  readonly maxProtocolVersion: number;
}

/**
 * What a member puts in every gRPC request header. protocol_version is our lowest version: a member
 * predating ranges accepts exactly version 1 there, so a member that still speaks 1 is accepted by it.
 */
export function headerVersionFields(spoken: VersionRange): HeaderVersionFields {
  return { protocolVersion: spoken.min, minProtocolVersion: spoken.min, maxProtocolVersion: spoken.max };
}

export type VersionCheck =
  | { readonly ok: true; readonly version: number; readonly peer: VersionRange }
  | { readonly ok: false; readonly reason: 'unsupported-version' | 'invalid'; readonly message: string };

/**
 * The gRPC version check: can this member serve a caller that sent these header fields? Ok with the
 * version the two talk (the highest both speak); otherwise a refusal whose message names both ranges.
 * A caller without a range (an older member, grpcurl) speaks exactly protocol_version (0 reads as 1).
 */
export function checkProtocolVersion(header: Partial<HeaderVersionFields> | null, local: VersionRange): VersionCheck {
  const single = header?.protocolVersion ?? 0;
  const min = header?.minProtocolVersion ?? 0;
  const max = header?.maxProtocolVersion ?? 0;
  let peer: VersionRange;
  if (min === 0 && max === 0) {
    const version = single === 0 ? 1 : single;
    peer = { min: version, max: version };
  } else if (isValidRange(min, max)) {
    peer = { min, max };
  } else {
    return {
      ok: false,
      reason: 'invalid',
      message: `header.min_protocol_version/max_protocol_version: ${min}-${max} is not a range (1 <= min <= max <= 255)`,
    };
  }
  const version = highestCommon(local, peer);
  if (version === null) {
    return {
      ok: false,
      reason: 'unsupported-version',
      message: `header.protocol_version: the caller speaks protocol versions ${formatRange(peer)}, this member ${formatRange(local)}; no version in common`,
    };
  }
  return { ok: true, version, peer };
}

/**
 * Can a member with range `joiner` join a cluster whose members advertise `members`? Every pair of
 * members must share a version, so the joiner must overlap every live member's range, not only the
 * seed's: otherwise it would probe some member in a version that member refuses, and the two would
 * declare each other dead.
 */
export function checkJoinRange(
  joiner: VersionRange,
  members: Iterable<{ readonly name: string; readonly range: VersionRange }>,
): { readonly ok: true } | { readonly ok: false; readonly message: string } {
  for (const m of members) {
    if (highestCommon(joiner, m.range) === null) {
      return {
        ok: false,
        message: `the joining member speaks protocol versions ${formatRange(joiner)}; member ${m.name} speaks ${formatRange(m.range)}; no version in common`,
      };
    }
  }
  return { ok: true };
}

/** The range a process speaks, from the test-only switch's value (unset: 1-1). Throws on a bad value. */
export function spokenRangeFromSwitch(value: string | undefined): VersionRange {
  if (value === undefined || value === '') return VERSION_1_ONLY;
  const range = parseRange(value);
  if (range === null || range.max > HIGHEST_KNOWN_VERSION) {
    throw new RangeError(`${TEST_VERSIONS_ENV}=${value}: expected MIN-MAX within 1-${HIGHEST_KNOWN_VERSION}`);
  }
  return range;
}
