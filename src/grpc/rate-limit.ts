// Negotiate rate limit: a Negotiate costs the callee a merge and a reply proportional to the cluster
// size, so one peer (or many) sending them in a loop could keep a member busy. Token buckets at three
// levels, a call taking one token from each or none: its caller (address and claimed member name), the
// caller's address, and all callers together. Several members may share an address (processes on one
// host connect from its primary IP), so each name gets its own bucket; but names cost nothing to invent,
// so the address's bucket bounds what one address can take from the shared one: a flood from one
// address under random names cannot starve joiners at other addresses. In a healthy cluster a member
// receives about one push-pull per push-pull interval plus the joins of restarting peers, far below
// every rate.

export interface RateLimitOptions {
  /** Negotiates per second refilled into each caller's (address and member name) bucket. */
  readonly perPeerPerSecond: number;
  /** Most Negotiates one caller may send back to back. */
  readonly perPeerBurst: number;
  /** Negotiates per second refilled into each caller address's bucket, whatever names it sends. */
  readonly perHostPerSecond: number;
  /** Most Negotiates from one address back to back. */
  readonly perHostBurst: number;
  /** Negotiates per second refilled into the bucket all callers share. */
  readonly globalPerSecond: number;
  /** Most Negotiates from all callers back to back. */
  readonly globalBurst: number;
  /** Callers (and, separately, addresses) remembered; beyond it the bucket idle longest is forgotten. */
  readonly maxPeers: number;
}

export const DEFAULT_NEGOTIATE_RATE: Readonly<RateLimitOptions> = Object.freeze({
  perPeerPerSecond: 2,
  perPeerBurst: 10,
  perHostPerSecond: 20,
  perHostBurst: 50,
  globalPerSecond: 100,
  globalBurst: 200,
  maxPeers: 4096,
});

/** Allowed, or refused with how long until a token is available. */
export type RateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly scope: 'peer' | 'host' | 'global'; readonly retryAfterMs: number };

interface Bucket {
  tokens: number;
  at: number;
}

/** Buckets by key, at most `max`; Map order is recency order (a used bucket moves to the end). */
class BucketTable {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly max: number,
    private readonly burst: number,
  ) {}

  get(key: string, now: number): Bucket {
    let bucket = this.buckets.get(key);
    if (bucket) this.buckets.delete(key);
    else {
      if (this.buckets.size >= this.max) {
        const oldest = this.buckets.keys().next();
        if (!oldest.done) this.buckets.delete(oldest.value);
      }
      bucket = { tokens: this.burst, at: now };
    }
    this.buckets.set(key, bucket);
    return bucket;
  }

  get size(): number {
    return this.buckets.size;
  }
}

export class NegotiateRateLimiter {
  private readonly opts: RateLimitOptions;
  private readonly global: Bucket;
  private readonly callers: BucketTable;
  private readonly hosts: BucketTable;

  constructor(opts: Partial<RateLimitOptions> = {}, now: number = performance.now()) {
    this.opts = Object.freeze({ ...DEFAULT_NEGOTIATE_RATE, ...stripUndefined(opts) });
    for (const [name, v] of Object.entries(this.opts)) {
      if (!Number.isFinite(v) || v <= 0) throw new RangeError(`Negotiate rate limit ${name} must be a positive number, got ${String(v)}`);
    }
    this.global = { tokens: this.opts.globalBurst, at: now };
    this.callers = new BucketTable(this.opts.maxPeers, this.opts.perPeerBurst);
    this.hosts = new BucketTable(this.opts.maxPeers, this.opts.perHostBurst);
  }

  /** Takes one token for the caller (`host` and the member name it claims), one for `host`, one shared; or none. */
  take(host: string, now: number, sender = ''): RateDecision {
    const o = this.opts;
    const peer = this.callers.get(`${host}/${sender}`, now);
    const hostBucket = this.hosts.get(host, now);
    refill(peer, now, o.perPeerPerSecond, o.perPeerBurst);
    refill(hostBucket, now, o.perHostPerSecond, o.perHostBurst);
    refill(this.global, now, o.globalPerSecond, o.globalBurst);
    if (peer.tokens < 1) return { ok: false, scope: 'peer', retryAfterMs: waitMs(peer, o.perPeerPerSecond) };
    if (hostBucket.tokens < 1) return { ok: false, scope: 'host', retryAfterMs: waitMs(hostBucket, o.perHostPerSecond) };
    if (this.global.tokens < 1) return { ok: false, scope: 'global', retryAfterMs: waitMs(this.global, o.globalPerSecond) };
    peer.tokens -= 1;
    hostBucket.tokens -= 1;
    this.global.tokens -= 1;
    return { ok: true };
  }

  /** Callers with a bucket (bounded by maxPeers). */
  get trackedPeers(): number {
    return this.callers.size;
  }

  /** Caller addresses with a bucket (bounded by maxPeers). */
  get trackedHosts(): number {
    return this.hosts.size;
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
