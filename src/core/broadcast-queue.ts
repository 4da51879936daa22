// Dissemination queue (memberlist queue.go, TransmitLimitedQueue): each update rides along on outgoing
// packets until it has been sent `limit` times; least-sent updates go first, so fresh news spreads before
// old news is repeated; a newer update about a member replaces any queued older one.
import type { Update } from './types.js';

interface Queued {
  readonly update: Update;
  readonly size: number;
  transmits: number;
  prev: Queued | null;
  next: Queued | null;
}

/** Stop scanning a packet's leftover space after this many updates that did not fit. */
const MAX_MISSES_PER_FILL = 32;

/** retransmitMult * ceil(log10(n + 1)): enough sends for an epidemic to reach all n members w.h.p. */
export function retransmitLimit(retransmitMult: number, clusterSize: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(1, clusterSize) + 1));
}

export class BroadcastQueue {
  private readonly byName = new Map<string, Queued>();
  /** buckets[t] = updates sent t times, newest first (doubly linked). */
  private readonly buckets: (Queued | null)[] = [];
  private smallestSize = Infinity;

  /** @param maxEntries hard bound; beyond it the most-sent update is dropped. */
  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.byName.size;
  }

  /** The queued update about `name`, if any. */
  queued(name: string): Update | undefined {
    return this.byName.get(name)?.update;
  }

  /** How many times the queued update about `name` has been sent (undefined when none is queued). */
  transmitsOf(name: string): number | undefined {
    return this.byName.get(name)?.transmits;
  }

  /** Queues `update` (of `size` bytes), replacing older news about the same member. */
  enqueue(update: Update, size: number): void {
    const old = this.byName.get(update.name);
    if (old !== undefined) this.unlink(old);
    const entry: Queued = { update, size, transmits: 0, prev: null, next: null };
    this.byName.set(update.name, entry);
    this.link(entry);
    if (size < this.smallestSize) this.smallestSize = size;
    if (this.byName.size > this.maxEntries) this.dropMostSent();
  }

  /** Forgets any queued news about `name`. */
  remove(name: string): void {
    const entry = this.byName.get(name);
    if (entry === undefined) return;
    this.unlink(entry);
    this.byName.delete(name);
  }

  /**
   * Appends to `out` the least-sent updates that fit in `bytesAvailable`, counting one transmission for
   * each; updates that reach `limit` transmissions leave the queue. Returns the bytes used.
   */
  fill(bytesAvailable: number, limit: number, out: Update[]): number {
    if (this.byName.size === 0 || bytesAvailable < this.smallestSize) return 0;
    let used = 0;
    let misses = 0;
    const taken: Queued[] = [];
    scan: for (let t = 0; t < this.buckets.length; t++) {
      if (t >= limit) {
        // The limit shrank (fewer members): these have been sent enough.
        this.dropBucket(t);
        continue;
      }
      for (let entry = this.buckets[t] ?? null; entry !== null; entry = entry.next) {
        if (used + entry.size <= bytesAvailable) {
          out.push(entry.update);
          used += entry.size;
          taken.push(entry);
          if (bytesAvailable - used < this.smallestSize) break scan;
        } else if (++misses > MAX_MISSES_PER_FILL) {
          break scan;
        }
      }
    }
    // Moved only after the scan so an update is never picked twice for one packet.
    for (const entry of taken) {
      this.unlink(entry);
      entry.transmits++;
      if (entry.transmits >= limit) this.byName.delete(entry.update.name);
      else this.link(entry);
    }
    if (this.byName.size === 0) this.smallestSize = Infinity;
    return used;
  }

  private link(entry: Queued): void {
    while (this.buckets.length <= entry.transmits) this.buckets.push(null);
    const head = this.buckets[entry.transmits] ?? null;
    entry.prev = null;
    entry.next = head;
    if (head !== null) head.prev = entry;
    this.buckets[entry.transmits] = entry;
  }

  private unlink(entry: Queued): void {
    if (entry.prev !== null) entry.prev.next = entry.next;
    else this.buckets[entry.transmits] = entry.next;
    if (entry.next !== null) entry.next.prev = entry.prev;
    entry.prev = null;
    entry.next = null;
  }

  private dropBucket(t: number): void {
    for (let entry = this.buckets[t] ?? null; entry !== null; entry = entry.next) this.byName.delete(entry.update.name);
    this.buckets[t] = null;
  }

  private dropMostSent(): void {
    for (let t = this.buckets.length - 1; t >= 0; t--) {
      const head = this.buckets[t] ?? null;
      if (head === null) continue;
      // Oldest in the bucket: walk to the tail.
      let tail = head;
      while (tail.next !== null) tail = tail.next;
      this.unlink(tail);
      this.byName.delete(tail.update.name);
      return;
    }
  }
}
