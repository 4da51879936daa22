// Relayed announcements (docs/ownership.md "Relays"). Calling every peer with every claim costs the
// cluster one call per peer per claim, and a call costs far more CPU than the records it carries. So in
// a large cluster an owner sends each batch of its records to one relay per group of peers, naming the
// group; the relay merges them and forwards them, together with what other owners asked it to forward
// to the same peers, in one call per peer per relay window. Only peers that said they relay
// (OwnershipAck.relays) are grouped; the others are called directly as before, so members of earlier
// releases still hear every claim. A relay that fails, or answers later than its round trips vary, is
// passed over for a while, and the batch it held goes to the next member of its group as relay (the
// group directly once none is left).
import { fnv1a } from '../codec/fnv1a.js';
import type { Peer } from './service-types.js';
import type { ClaimRecord } from './types.js';

/**
 * How much longer than its usual round trip a relay call may take, at least, before the relay is passed
 * over; beyond it, four times the round trips' smoothed deviation (TCP's retransmission timeout,
 * RFC 6298, with this as its clock granularity).
 */
export const RELAY_SLOW_MS = 300;
/** How long a relay passed over stays so, unless it answers meanwhile. */
export const RELAY_SLOW_MEMORY_MS = 30_000;
/** Most peers one announcement asks its relay to forward to (the receiver refuses more). */
export const MAX_RELAY_TARGETS = 1024;

export interface RelayGroup {
  readonly relay: Peer;
  /** The group's other members: the relay forwards to them. */
  readonly targets: readonly Peer[];
}

export interface RelayPlan {
  /** Called directly: peers not known to relay, suspect ones, and groups without a relay that answers. */
  readonly direct: readonly Peer[];
  readonly groups: readonly RelayGroup[];
}

/**
 * `peers` in this owner's own order: the same list rotated to start at a place set by a hash of the
 * owner's name. Called in list order, every owner would call the same few peers first: after a burst
 * of claims across the cluster (say each member's first, which goes to every peer directly) those peers
 * get a call from every owner at once, more than their servers take in flight, and refuse the rest.
 */
export function peersInOwnOrder<P extends { readonly name: string }>(peers: readonly P[], owner: string): readonly P[] {
  if (peers.length < 2) return peers;
  const start = fnv1a(owner) % peers.length;
  return start === 0 ? peers : [...peers.slice(start), ...peers.slice(0, start)];
}

function peerKey(peer: Peer): string {
  return `${peer.name}\u0000${peer.grpcAddr}`;
}

/** Which peers relay, which relays are slow, and how this member's records reach each peer. */
export class RelayPlanner {
  /** name + NUL + gRPC address -> whether its last answer said it relays. */
  private readonly relays = new Map<string, boolean>();
  /** name -> until when (monotonic ms) it is passed over as a relay. */
  private readonly slowUntil = new Map<string, number>();
  /** Smoothed round trip of answered calls, ms (0: none yet). */
  private srttMs = 0;
  /** Smoothed deviation of those round trips from srttMs, ms. */
  private rttVarMs = 0;

  constructor(
    /** Peers per group; 0 = never relay. */
    private readonly groupSize: number,
    private readonly now: () => number,
  ) {}

  /** This member relays for others (its acks say so). */
  enabled(): boolean {
    return this.groupSize > 0;
  }

  /**
   * A peer answered a call after `rttMs`: whether it relays. An answer, late or not, ends its time as
   * a slow relay, and every round trip counts toward the usual one and its spread: on a loaded machine
   * calls are slow and uneven, and a relay is only passed over when it is slow beyond both.
   */
  answered(peer: Peer, relays: boolean, rttMs: number): void {
    this.relays.set(peerKey(peer), relays);
    this.slowUntil.delete(peer.name);
    const rtt = Math.max(0, rttMs);
    if (this.srttMs === 0) {
      this.srttMs = rtt;
      this.rttVarMs = rtt / 2;
      return;
    }
    this.rttVarMs = 0.75 * this.rttVarMs + 0.25 * Math.abs(this.srttMs - rtt);
    this.srttMs = 0.875 * this.srttMs + 0.125 * rtt;
  }

  /** A member's new life: whether it relays is asked again (it may run another release). */
  forget(name: string): void {
    for (const key of this.relays.keys()) if (key.startsWith(`${name}\u0000`)) this.relays.delete(key);
    this.slowUntil.delete(name);
  }

  /** A relay did not answer in time, or failed. */
  slow(peer: Peer): void {
    this.slowUntil.set(peer.name, this.now() + RELAY_SLOW_MEMORY_MS);
  }

  /** How long a relay call may take before its batch goes another way. */
  slowAfterMs(): number {
    return Math.round(this.srttMs + Math.max(RELAY_SLOW_MS, 4 * this.rttVarMs));
  }

  /**
   * The group without its relay, led by the next member not passed over; null when no one is left
   * to lead it or to forward to (then the rest is called directly).
   */
  regroup(group: RelayGroup): RelayGroup | null {
    const now = this.now();
    const relay = group.targets.find((p) => p.suspect !== true && (this.slowUntil.get(p.name) ?? 0) <= now);
    if (relay === undefined) return null;
    const targets = group.targets.filter((p) => p !== relay);
    return targets.length === 0 ? null : { relay, targets };
  }

  /**
   * Groups the peers that relay (by a hash of their name, about groupSize each) and picks in each the
   * first that is not slow as its relay. With one group or fewer, every peer is called directly.
   */
  plan(peers: readonly Peer[]): RelayPlan {
    this.forgetUnlisted(peers);
    if (this.groupSize <= 0) return { direct: peers, groups: [] };
    const direct: Peer[] = [];
    const grouped: Peer[] = [];
    for (const p of peers) {
      if (p.suspect !== true && this.relays.get(peerKey(p)) === true) grouped.push(p);
      else direct.push(p);
    }
    if (grouped.length <= this.groupSize) return { direct: peers, groups: [] };
    const count = Math.ceil(grouped.length / this.groupSize);
    const buckets: { hash: number; peer: Peer }[][] = Array.from({ length: count }, () => []);
    for (const peer of grouped) {
      const hash = fnv1a(peer.name);
      buckets[hash % count]?.push({ hash, peer });
    }
    const now = this.now();
    const groups: RelayGroup[] = [];
    for (const bucket of buckets) {
      bucket.sort((a, b) => a.hash - b.hash || (a.peer.name < b.peer.name ? -1 : 1));
      const members = bucket.map((e) => e.peer);
      const relay = members.find((p) => (this.slowUntil.get(p.name) ?? 0) <= now);
      const targets = relay === undefined ? [] : members.filter((p) => p !== relay);
      if (relay === undefined || targets.length === 0) direct.push(...members);
      else groups.push({ relay, targets });
    }
    return { direct, groups };
  }

  /** Peers no longer listed are forgotten (bounded memory; a peer back from the dead is asked again). */
  private forgetUnlisted(peers: readonly Peer[]): void {
    if (this.relays.size <= 2 * peers.length + 16 && this.slowUntil.size <= 2 * peers.length + 16) return;
    const keys = new Set(peers.map(peerKey));
    const names = new Set(peers.map((p) => p.name));
    for (const key of this.relays.keys()) if (!keys.has(key)) this.relays.delete(key);
    for (const name of this.slowUntil.keys()) if (!names.has(name)) this.slowUntil.delete(name);
  }
}

/** What a relay holds to forward, per peer, until its window ends. */
export class RelayBuffer {
  private readonly pending = new Map<string, { peer: Peer; records: ClaimRecord[] }>();
  /** Records dropped because one peer's share went over the bound (oldest first). */
  dropped = 0;

  /** `maxPerPeer`: the most records held for one peer (the per-peer queue's bound). */
  constructor(private readonly maxPerPeer: number) {}

  add(targets: readonly Peer[], records: readonly ClaimRecord[]): void {
    for (const peer of targets) {
      let entry = this.pending.get(peer.name);
      if (entry === undefined) this.pending.set(peer.name, (entry = { peer, records: [] }));
      entry.peer = peer;
      entry.records.push(...records);
      const over = entry.records.length - this.maxPerPeer;
      if (over > 0) {
        entry.records.splice(0, over);
        this.dropped += over;
      }
    }
  }

  size(): number {
    return this.pending.size;
  }

  /** Everything held, emptied. */
  take(): { peer: Peer; records: ClaimRecord[] }[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }

  clear(): void {
    this.pending.clear();
  }
}
