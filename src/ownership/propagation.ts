// Delivery of claim announcements to peers: one bounded queue per peer, so a peer that hangs (it
// answers probes but not gRPC, or its calls run into their deadline) only delays itself. Pending
// records coalesce by id (the newest record of our slot wins), a queue over its bound drops its
// oldest record (counted; the digest anti-entropy repairs what was dropped), each peer has at most
// one call in flight, and suspect peers keep their queue but are not called until they are alive.
// A queue may hold other owners' records too (this member relays them, relay.ts): records are keyed
// by owner and id, so two owners' claims of one id both get through.
import { compareSameSlot, type ClaimRecord } from './types.js';

export interface PropagationPeer {
  readonly name: string;
  readonly grpcAddr: string;
  /** Suspected by SWIM: not called until it is alive again (its queue keeps coalescing meanwhile). */
  readonly suspect?: boolean;
}

export interface PropagationOptions {
  /** Calls in flight at once over all peers (each peer has at most one). */
  readonly concurrency: number;
  /** Records one peer's queue holds; beyond it the oldest is dropped. */
  readonly maxPendingPerPeer: number;
  /** Most records one call carries. */
  readonly maxPerCall: number;
}

export interface PropagationCounters {
  /** Records dropped from a full queue (oldest first) or with a peer that left the view. */
  dropped: number;
  /** Records that replaced a pending record of the same id before it was sent. */
  coalesced: number;
}

/**
 * Sends one batch to one peer and settles once the peer answered or the call failed: either by
 * calling `done` (a shell whose answers arrive as events, the simulator) or by resolving the promise
 * it returns (never rejecting). Calling `done` more than once, or as well, counts once.
 */
export type SendBatch = (peer: PropagationPeer, records: readonly ClaimRecord[], done: () => void) => Promise<void> | void;

interface PeerQueue {
  peer: PropagationPeer;
  /** owner + NUL + id -> the newest record waiting for this peer; Map order is age order (oldest first). */
  readonly pending: Map<string, ClaimRecord>;
  busy: boolean;
}

export class Propagation {
  readonly counters: PropagationCounters = { dropped: 0, coalesced: 0 };
  private readonly queues = new Map<string, PeerQueue>();
  /** Peers with pending records, not busy and not suspect, in the order they get a call slot. */
  private readonly ready = new Set<string>();
  private inFlight = 0;
  private closed = false;
  /** Waiting for busy() to turn false (idle()). */
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly opts: PropagationOptions,
    private readonly send: SendBatch,
  ) {}

  /**
   * The peers to deliver to now. A peer no longer listed loses its queue (counted as dropped: it
   * died or left, and learns everything again when it comes back).
   */
  setPeers(peers: readonly PropagationPeer[]): void {
    const listed = new Set<string>();
    for (const peer of peers) {
      listed.add(peer.name);
      const q = this.queues.get(peer.name);
      if (q === undefined) continue;
      q.peer = peer;
      this.markReady(q);
    }
    for (const [name, q] of this.queues) {
      if (listed.has(name)) continue;
      this.counters.dropped += q.pending.size;
      this.queues.delete(name);
      this.ready.delete(name);
    }
    this.noticeIdle();
  }

  /**
   * Queues `records` for each of `peers` and starts calls where a slot is free. `first`: these peers
   * take the next free slots, ahead of peers already waiting (records a relay did not take, which
   * have waited for it once already).
   */
  enqueue(peers: readonly PropagationPeer[], records: readonly ClaimRecord[], first = false): void {
    if (this.closed || records.length === 0) return;
    for (const peer of peers) {
      let q = this.queues.get(peer.name);
      if (q === undefined) {
        q = { peer, pending: new Map(), busy: false };
        this.queues.set(peer.name, q);
      }
      q.peer = peer;
      for (const record of records) this.add(q, record);
      this.markReady(q);
    }
    if (first) this.moveAhead(peers);
    this.pump();
  }

  /** Records waiting for `peer` (tests, metrics). */
  pendingFor(peer: string): number {
    return this.queues.get(peer)?.pending.size ?? 0;
  }

  /** Records waiting over all peers. */
  pendingTotal(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.pending.size;
    return n;
  }

  /** True while a call is in flight or a peer that may be called has records waiting. */
  busy(): boolean {
    return this.inFlight > 0 || this.ready.size > 0;
  }

  /** Resolves once no call is in flight and no peer that may be called has records waiting. */
  idle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.queues.clear();
    this.ready.clear();
    this.noticeIdle();
  }

  private noticeIdle(): void {
    if (this.busy() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private add(q: PeerQueue, record: ClaimRecord): void {
    const key = `${record.owner}\u0000${record.id}`;
    const existing = q.pending.get(key);
    if (existing !== undefined) {
      if (compareSameSlot(existing, record) >= 0) return;
      // Re-inserted so that it counts as new: the drop-oldest rule keeps the freshest news.
      q.pending.delete(key);
      this.counters.coalesced++;
    }
    q.pending.set(key, record);
    if (q.pending.size <= this.opts.maxPendingPerPeer) return;
    const oldest = q.pending.keys().next();
    if (oldest.done !== true) q.pending.delete(oldest.value);
    this.counters.dropped++;
  }

  /** `peers` that may be called take the first call slots (the ready set's order is the slots' order). */
  private moveAhead(peers: readonly PropagationPeer[]): void {
    const ahead = peers.map((p) => p.name).filter((name) => this.ready.has(name));
    if (ahead.length === 0) return;
    const waiting = [...this.ready];
    this.ready.clear();
    for (const name of ahead) this.ready.add(name);
    for (const name of waiting) this.ready.add(name);
  }

  private markReady(q: PeerQueue): void {
    if (!q.busy && q.peer.suspect !== true && q.pending.size > 0) this.ready.add(q.peer.name);
    else this.ready.delete(q.peer.name);
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.opts.concurrency && this.ready.size > 0) {
      const name = this.ready.values().next().value as string;
      this.ready.delete(name);
      const q = this.queues.get(name);
      if (q === undefined || q.busy || q.pending.size === 0) continue;
      const batch: ClaimRecord[] = [];
      for (const [key, record] of q.pending) {
        if (batch.length >= this.opts.maxPerCall) break;
        batch.push(record);
        q.pending.delete(key);
      }
      q.busy = true;
      this.inFlight++;
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        this.inFlight--;
        q.busy = false;
        // The queue may have been dropped meanwhile (peer left): then it stays dropped.
        if (this.queues.get(name) === q) this.markReady(q);
        this.pump();
      };
      void this.send(q.peer, batch, done)?.finally(done);
    }
    this.noticeIdle();
  }
}
