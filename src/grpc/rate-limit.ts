// Negotiate rate limit: a Negotiate costs the callee a merge and a reply proportional to the cluster
// size, so one peer (or many) sending them in a loop could keep a member busy. Token buckets: one per
// caller host and one for all callers together. In a healthy cluster a member receives about one
// push-pull per push-pull interval plus the joins of restarting peers, far below either rate.

export interface RateLimitOptions {
  /** Negotiates per second refilled into each caller host's bucket. */
  readonly perPeerPerSecond: number;
  /** Most Negotiates one caller host may send back to back. */
  readonly perPeerBurst: number;
  /** Negotiates per second refilled into the bucket all callers share. */
  readonly globalPerSecond: number;
  /** Most Negotiates from all callers back to back. */
  readonly globalBurst: number;
  /** Caller hosts remembered; beyond it the bucket idle longest is forgotten (it was refilled anyway). */
  readonly maxPeers: number;
}

export const DEFAULT_NEGOTIATE_RATE: Readonly<RateLimitOptions> = Object.freeze({
  perPeerPerSecond: 2,
  perPeerBurst: 10,
  globalPerSecond: 100,
  globalBurst: 200,
  maxPeers: 4096,
});

/** Allowed, or refused with how long until a token is available. */
export type RateDecision = { readonly ok: true } | { readonly ok: false; readonly scope: 'peer' | 'global'; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

export class NegotiateRateLimiter {
  private readonly opts: RateLimitOptions;
  private readonly global: Bucket;
  /** Map order is recency order: a caller's bucket moves to the end on each call. */
  private readonly peers = new Map<string, Bucket>();

  constructor(opts: Partial<RateLimitOptions> = {}, now: number = performance.now()) {
    this.opts = Object.freeze({ ...DEFAULT_NEGOTIATE_RATE, ...stripUndefined(opts) });
    for (const [name, v] of Object.entries(this.opts)) {
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`Negotiate rate limit ${name} must be a positive number, got ${String(v)}`);
    }
    this.global = { tokens: this.opts.globalBurst, at: now };
  }

  /** Takes one token for `peerHost` and one from the shared bucket, or neither. */
  take(peerHost: string, now: number): RateDecision {
    const o = this.opts;
    let peer = this.peers.get(peerHost);
    if (peer) this.peers.delete(peerHost);
    else {
      if (this.peers.size >= o.maxPeers) {
        const oldest = this.peers.keys().next();
        if (!oldest.done) this.peers.delete(oldest.value);
      }
      peer = { tokens: o.perPeerBurst, at: now };
    }
    this.peers.set(peerHost, peer);
    refill(peer, now, o.perPeerPerSecond, o.perPeerBurst);
    refill(this.global, now, o.globalPerSecond, o.globalBurst);
    if (peer.tokens < 1) return { ok: false, scope: 'peer', retryAfterMs: waitMs(peer, o.perPeerPerSecond) };
    if (this.global.tokens < 1) return { ok: false, scope: 'global', retryAfterMs: waitMs(this.global, o.globalPerSecond) };
    peer.tokens -= 1;
    this.global.tokens -= 1;
    return { ok: true };
  }

  /** Caller hosts with a bucket (bounded by maxPeers). */
  get trackedPeers(): number {
    return this.peers.size;
  }
}

function refill(b: Bucket, now: number, perSecond: number, burst: number): void {
  // A clock that steps back (it should not: performance.now) adds nothing rather than going negative.
  const elapsed = Math.max(0, now - b.at);
  b.tokens = Math.min(burst, b.tokens + (elapsed * perSecond) / 1000);
  b.at = Math.max(b.at, now);
}

function waitMs(b: Bucket, perSecond: number): number {
  return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / perSecond));
}

function stripUndefined<T extends object>(o: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The host part of grpc-js's call.getPeer() ("ipv4:10.0.0.1:5000", "[::1]:5000", "10.0.0.1:5000"). */
export function peerHost(peer: string): string {
  const bare = peer.replace(/^(ipv4|ipv6|unix):/, '');
  const v6 = /^\[([^\]]*)\]:\d+$/.exec(bare);
  if (v6) return v6[1] ?? bare;
  const colon = bare.lastIndexOf(':');
  // More than one colon without brackets: an IPv6 address with no port.
  return colon > 0 && bare.indexOf(':') === colon ? bare.slice(0, colon) : bare;
}
