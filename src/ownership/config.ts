// The claim options as the config resolves them (--claim-*, docs/config.md), and the fixed bounds.
import type { AgentClaimsOptions } from './agent-claims.js';
import type { ClaimOptions } from './service.js';

/** The configurable part of ClaimOptions; the rest is derived (agentClaimsOptions). */
export type ClaimConfig = Omit<ClaimOptions, 'foreignExpiryGraceMs' | 'rpcTimeoutMs'> & {
  /**
   * TEST ONLY: added to the wall clock the claims read (stamps, skew checks), to run a member with a
   * clock that is off without touching the host's. Set from SWIMRING_TEST_CLAIM_CLOCK_OFFSET_MS.
   */
  readonly testClockOffsetMs?: number;
};

/** TEST ONLY (docs/ownership.md, "Clocks"): the environment variable that offsets the claims' wall clock. */
export const TEST_CLOCK_OFFSET_ENV = 'SWIMRING_TEST_CLAIM_CLOCK_OFFSET_MS';

/** The test-only clock offset from the environment, or nothing when unset or not an integer. */
export function testClockOffset(env: Record<string, string | undefined>): { testClockOffsetMs?: number } {
  const raw = env[TEST_CLOCK_OFFSET_ENV];
  if (raw === undefined || raw === '' || !/^-?\d+$/.test(raw)) return {};
  return { testClockOffsetMs: Number(raw) };
}

/** Most ids in one POST /v1/claims. */
export const MAX_IDS_PER_CLAIM_REQUEST = 1000;
/** GetLocalActorIds / GET /v1/claims/local page size when none is asked for. */
export const DEFAULT_PAGE_SIZE = 1000;
/** Another owner's lapsed claim is dropped this long after its expiry if its AnnounceExpiry never came. */
export const FOREIGN_EXPIRY_GRACE_MS = 30_000;

export const DEFAULT_CLAIM_CONFIG: ClaimConfig = Object.freeze({
  defaultTtlMs: 600_000,
  maxTtlMs: 86_400_000,
  maxClaimsPerMember: 100_000,
  maxReleasesPerMember: 50_000,
  maxRecords: 2_000_000,
  announceWindowMs: 20,
  announceConcurrency: 8,
  announceQueuePerPeer: 2048,
  releaseRetentionMs: 120_000,
  maxClockSkewMs: 10_000,
  relayGroupSize: 16,
  relayWindowMs: 200,
});

export function agentClaimsOptions(config: ClaimConfig, rpcTimeoutMs: number): AgentClaimsOptions {
  return {
    ...config,
    foreignExpiryGraceMs: FOREIGN_EXPIRY_GRACE_MS,
    rpcTimeoutMs,
    defaultPageSize: DEFAULT_PAGE_SIZE,
    maxIdsPerRequest: MAX_IDS_PER_CLAIM_REQUEST,
  };
}
