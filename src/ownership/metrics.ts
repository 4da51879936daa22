// Prometheus series of ownership claims (docs/metrics.md, "Claims"), read from the service's plain
// counters at scrape time, like the runtime's own.
import { Counter, Gauge } from 'prom-client';
import { METRIC_PREFIX, type Metrics } from '../metrics.js';
import type { ClaimService } from './service.js';

export function registerClaimMetrics(metrics: Metrics, source: () => { service: ClaimService; self: string } | undefined): void {
  const registers = [metrics.registry];
  const held = new Gauge({
    name: `${METRIC_PREFIX}claims`,
    help: 'Ids with a live claim in this member\'s view: scope "local" (owned here) or "total" (every owner).',
    labelNames: ['scope'],
    registers,
  });
  const records = new Gauge({ name: `${METRIC_PREFIX}claim_records`, help: 'Claim records kept, releases included (what the digest covers).', registers });
  const announcements = new Counter({
    name: `${METRIC_PREFIX}claim_announcements_total`,
    help: 'Claim announcements by RPC (AnnounceOwnership, AnnounceExpiry) and direction (sent, received, failed).',
    labelNames: ['rpc', 'direction'],
    registers,
  });
  const conflicts = new Counter({ name: `${METRIC_PREFIX}claim_conflicts_total`, help: 'Claims of one id by two members resolved here (first claim wins).', registers });
  const losses = new Counter({
    name: `${METRIC_PREFIX}claim_losses_total`,
    help: 'Claims this member held and gave up, by reason: lost (an earlier claim won), expired (TTL).',
    labelNames: ['reason'],
    registers,
  });
  const departed = new Counter({ name: `${METRIC_PREFIX}claims_released_on_departure_total`, help: 'Claims released because their owner died, left or restarted.', registers });
  const rejected = new Counter({ name: `${METRIC_PREFIX}claim_records_rejected_total`, help: 'Announced claim records refused (invalid, owner gone, limit).', registers });
  const dropped = new Counter({
    name: `${METRIC_PREFIX}claim_announcements_dropped_total`,
    help: 'Claims and releases dropped from a peer\'s announcement queue (full: oldest first, or the peer left); the digest exchange repairs them.',
    registers,
  });
  const relay = new Counter({
    name: `${METRIC_PREFIX}claim_relay_total`,
    help: 'Relayed announcements (docs/ownership.md "Relays"): batches of ours sent to a relay (batch), relays passed over, their batch sent to the group\'s next member or directly (fallback), records forwarded here for other owners (forwarded).',
    labelNames: ['kind'],
    registers,
  });
  const pending = new Gauge({ name: `${METRIC_PREFIX}claim_announcements_pending`, help: 'Claims and releases waiting to be announced, over all peers.', registers });
  const compacted = new Counter({
    name: `${METRIC_PREFIX}claim_releases_compacted_total`,
    help: 'Releases forgotten before their retention ended because their owner held more than --claim-max-releases-per-member.',
    registers,
  });
  const recordLimit = new Gauge({
    name: `${METRIC_PREFIX}claim_records_limit`,
    help: 'Claim records this member keeps of other members at most now (it follows the live member count).',
    registers,
  });
  const refenced = new Counter({
    name: `${METRIC_PREFIX}claim_refenced_total`,
    help: 'Races this member won against a claim with a fencing token at or above its own: it took a higher token.',
    registers,
  });
  const clockRefused = new Counter({
    name: `${METRIC_PREFIX}claim_clock_refused_total`,
    help: 'Claim records refused because their claimant\'s clock is off beyond --claim-max-clock-skew-ms (or their stamp is that far ahead).',
    registers,
  });
  const clockPeersOff = new Gauge({ name: `${METRIC_PREFIX}claim_clock_peers_off`, help: 'Peers whose wall clock was off from this member\'s beyond the tolerance at their last sample.', registers });
  const clockSelfOff = new Gauge({ name: `${METRIC_PREFIX}claim_clock_self_off`, help: '1 while this member\'s clock is off from most peers\' (it takes no claims), else 0.', registers });
  for (const scope of ['local', 'total']) held.set({ scope }, 0);
  metrics.onScrape(() => {
    const s = source();
    if (s === undefined) return;
    const store = s.service.store;
    const c = s.service.counters;
    let local = 0;
    for (const id of store.liveIdsOf(s.self)) if (store.get(id)?.owner === s.self) local++;
    held.set({ scope: 'local' }, local);
    held.set({ scope: 'total' }, store.claimCount());
    records.set(store.size());
    metrics.advance(announcements, c.announcementsSent, { rpc: 'AnnounceOwnership', direction: 'sent' });
    metrics.advance(announcements, c.announcementsReceived, { rpc: 'AnnounceOwnership', direction: 'received' });
    metrics.advance(announcements, c.expiryAnnouncementsSent, { rpc: 'AnnounceExpiry', direction: 'sent' });
    metrics.advance(announcements, c.expiryAnnouncementsReceived, { rpc: 'AnnounceExpiry', direction: 'received' });
    metrics.advance(announcements, c.announcementsFailed, { rpc: 'any', direction: 'failed' });
    metrics.advance(conflicts, c.conflicts);
    metrics.advance(losses, c.lost, { reason: 'lost' });
    metrics.advance(losses, c.expired, { reason: 'expired' });
    metrics.advance(departed, c.releasedOnDeparture);
    metrics.advance(rejected, c.recordsRejected);
    metrics.advance(dropped, s.service.propagation.counters.dropped);
    metrics.advance(relay, c.relayBatches, { kind: 'batch' });
    metrics.advance(relay, c.relayFallbacks, { kind: 'fallback' });
    metrics.advance(relay, c.recordsRelayed, { kind: 'forwarded' });
    metrics.advance(clockRefused, s.service.clockGuard.counters.refusedClaims);
    metrics.advance(refenced, c.refenced);
    metrics.advance(compacted, store.counters.compactedReleases);
    recordLimit.set(store.recordLimit());
    clockPeersOff.set(s.service.clockGuard.peersOff());
    clockSelfOff.set(s.service.clockOff() ? 1 : 0);
    pending.set(s.service.propagation.pendingTotal());
  });
}
