// The ClaimOptions the ownership unit tests start from; each test file overrides what it is about.
import type { ClaimOptions } from '../../src/ownership/service.js';

export function testClaimOptions(overrides: Partial<ClaimOptions> = {}): ClaimOptions {
  return {
    defaultTtlMs: null,
    maxTtlMs: 100_000,
    maxClaimsPerMember: 100,
    maxReleasesPerMember: 1000,
    maxRecords: 1000,
    announceWindowMs: 5,
    announceConcurrency: 2,
    announceQueuePerPeer: 64,
    releaseRetentionMs: 60_000,
    foreignExpiryGraceMs: 1000,
    rpcTimeoutMs: 1000,
    maxClockSkewMs: 10_000,
    relayGroupSize: 16,
    relayWindowMs: 5,
    ...overrides,
  };
}
