// Which claim record version (canonical.ts) to send a peer, so that a rolling upgrade never splits
// claims (docs/wire.md "Claim records across versions"). A member of an earlier release reads version 1
// only and refuses a whole request holding a record of a later version, so:
// - in a reply, records are encoded in the highest version both sides read: the caller names its
//   highest in RequestHeader.claim_record_version (0, absent, from a caller that reads version 1 only);
// - in a request, records go in the current version unless the peer is known to read only version 1;
//   a peer that refuses one for its version is remembered as such, and the request is sent again in
//   version 1 at once. The memory lapses, so a peer upgraded in place is sent the current version again.
import { status } from '@grpc/grpc-js';
import { ControlPlaneCallError } from '../grpc/errors.js';
import { CLAIM_ENCODING_V1, CLAIM_ENCODING_VERSION } from './canonical.js';

/** How long a peer is taken to read version 1 only, after it refused a later one. */
export const OLD_READER_MEMORY_MS = 10 * 60_000;
/** Most peers remembered as version 1 readers; the oldest is forgotten first. */
const MAX_OLD_READERS = 65_536;

/** The version to encode records in for a caller whose header named `callerReads` (0: absent). */
export function recordVersionForCaller(callerReads: number): number {
  return callerReads >= CLAIM_ENCODING_VERSION ? CLAIM_ENCODING_VERSION : CLAIM_ENCODING_V1;
}

/**
 * A record longer than that release's bound for version 1 records (a near-largest id, owner and life id)
 * is refused before it is decoded. This build's bound is higher, and its records meet it, so from a
 * member of this build the refusal never comes.
 */
const ENTRY_OVER_V1_BOUND = /\b(claims|releases)\[\d+\]: \d+ bytes, limit \d+/;

/** The refusals a member that reads only version 1 answers a later record with (its own words). */
export function refusedForRecordVersion(err: unknown): boolean {
  if (!(err instanceof ControlPlaneCallError) || err.code !== status.INVALID_ARGUMENT) return false;
  return err.message.includes('unknown claim encoding version') || ENTRY_OVER_V1_BOUND.test(err.message);
}

/** Peers (by gRPC address) known to read only version 1, learned from their refusals. */
export class PeerRecordVersions {
  /** address -> when it refused; Map order is age order. */
  private readonly oldReaders = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The version to encode records in for a request to `addr`. */
  versionFor(addr: string): number {
    const since = this.oldReaders.get(addr);
    if (since === undefined) return CLAIM_ENCODING_VERSION;
    if (this.now() - since < OLD_READER_MEMORY_MS) return CLAIM_ENCODING_V1;
    this.oldReaders.delete(addr);
    return CLAIM_ENCODING_VERSION;
  }

  /**
   * Makes the call with records in the version `addr` reads; when it refuses a later version, remembers
   * the peer and makes the call again in version 1. Other failures are the caller's.
   */
  async send<T>(addr: string, call: (version: number) => Promise<T>): Promise<T> {
    const version = this.versionFor(addr);
    try {
      return await call(version);
    } catch (err) {
      if (version === CLAIM_ENCODING_V1 || !refusedForRecordVersion(err)) throw err;
      this.oldReaders.delete(addr);
      this.oldReaders.set(addr, this.now());
      if (this.oldReaders.size > MAX_OLD_READERS) {
        const oldest = this.oldReaders.keys().next().value;
        if (oldest !== undefined) this.oldReaders.delete(oldest);
      }
      return call(CLAIM_ENCODING_V1);
    }
  }

  /** Peers currently taken to read version 1 only (metrics, tests). */
  oldReaderCount(): number {
    return this.oldReaders.size;
  }
}
