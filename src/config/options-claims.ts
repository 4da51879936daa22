// The options of ownership claims (docs/ownership.md). Part of OPTIONS (options.ts); the order here is
// the order of docs/config.md.
import type { OptionMeta } from './option-meta.js';
import type { ConfigKey } from './schema.js';

export const CLAIM_OPTIONS = {
  claimTtlMs: {
    group: 'Placement',
    description: 'TTL of a claim made without ttl_ms (POST /v1/claims) and of a first-touch claim (route with ?claim=true); touching or claiming again renews it. 0: claims last until released, or until their owner leaves or dies.',
    default: '600000',
    defaultDoc: '600000 (10 minutes)',
  },
  claimMaxTtlMs: {
    group: 'Placement',
    description: 'Longest ttl_ms a claim may ask for.',
    default: '86400000',
    defaultDoc: '86400000 (1 day)',
  },
  claimMaxPerMember: {
    group: 'Placement',
    description: 'Most live claims one member may hold; its own claims beyond it are refused (status "limit"), and so are a peer\'s beyond it (the announcement is answered TOO_LARGE). Keep it equal on every member.',
    default: '100000',
    defaultDoc: '100000',
  },
  claimMaxReleasesPerMember: {
    group: 'Placement',
    description: 'Most releases of one member kept (each for --claim-release-retention-ms); beyond it that member\'s oldest releases are forgotten early (swimring_claim_releases_compacted_total). Keep it equal on every member.',
    default: '50000',
    defaultDoc: '50000',
  },
  claimMaxRecords: {
    group: 'Placement',
    description: 'Ceiling on the claim records (claims and releases) a member keeps of other members, about 300 bytes each. Below it the bound grows with the cluster: live members x (--claim-max-per-member + --claim-max-releases-per-member). A member\'s own claims never count against it.',
    default: '2000000',
    defaultDoc: '2000000',
  },
  claimAnnounceWindowMs: {
    group: 'Placement',
    description: 'Claims and releases made within this window go to each peer as one AnnounceOwnership / AnnounceExpiry.',
    default: '20',
    defaultDoc: '20',
  },
  claimAnnounceConcurrency: {
    group: 'Placement',
    description: 'Announcement calls in flight at once, over all peers; each peer has at most one, so a peer that hangs holds one slot only.',
    default: '8',
    defaultDoc: '8',
  },
  claimAnnounceQueuePerPeer: {
    group: 'Placement',
    description: 'Claims and releases waiting to be announced to one peer (the newest per id). Beyond it the oldest is dropped and counted (swimring_claim_announcements_dropped_total); the digest exchange repairs what was dropped.',
    default: '2048',
    defaultDoc: '2048',
  },
  claimMaxClockSkewMs: {
    group: 'Placement',
    description: 'Most a member\'s wall clock may be off from the others\' for its claims to count. Announcements carry the sender\'s clock and acks the receiver\'s: a claimant off by more is refused (swimring_claim_clock_refused_total), and a member off from most of its peers takes no claims (503 clock_skew) until its clock is fixed. Keep it well below --claim-release-retention-ms.',
    default: '10000',
    defaultDoc: '10000 (10 s)',
  },
  claimRelayGroupSize: {
    group: 'Placement',
    description: 'Peers per relay group (docs/ownership.md, "Relays"). With more peers that relay than one group holds, a member sends its claims and releases to one relay per group, which forwards them to the rest of its group; a relay that does not answer in time is passed over. 0: this member neither relays nor uses relays (every peer is called directly).',
    default: '16',
    defaultDoc: '16',
  },
  claimRelayWindowMs: {
    group: 'Placement',
    description: 'How long a relay gathers the records it forwards to one peer (from every owner) before sending them in one call.',
    default: '200',
    defaultDoc: '200',
  },
  claimReleaseRetentionMs: {
    group: 'Placement',
    description: 'How long a release is remembered, so that it overtakes the claim it ends on every member (and the digest exchange carries it).',
    default: '120000',
    defaultDoc: '120000 (2 minutes)',
  },
} satisfies Partial<Record<ConfigKey, OptionMeta>>;
