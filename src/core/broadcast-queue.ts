// Dissemination queue (memberlist queue.go, TransmitLimitedQueue): each update rides along on outgoing
// packets until it has been sent `limit` times; least-sent updates go first, so fresh news spreads before
// old news is repeated; a newer update about a member replaces any queued older one.
//
// After a mass join every member queues news about every other, so entries live in typed arrays indexed
// by member number (24 bytes each) rather than one object and one Map entry per update.
import { grownInt32, grownLength, PrivateMemberIndex, type MemberIndex } from './member-index.js';
import type { Update } from './types.js';

const NONE = -1;

/** Stop scanning a packet's leftover space after this many updates that did not fit. */
const MAX_MISSES_PER_FILL = 32;

/** retransmitMult * ceil(log10(n + 1)): enough sends for an epidemic to reach all n members w.h.p. */
export function retransmitLimit(retransmitMult: number, clusterSize: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(1, clusterSize) + 1));
}

export class BroadcastQueue {
  /** Per member number: the queued update (undefined: none), its size, times sent, bucket links. */
  private updates: (Update | undefined)[] = [];
  private sizes = new Int32Array(0);
  private transmits = new Int32Array(0);
  private nextOf = new Int32Array(0);
  private prevOf = new Int32Array(0);
  /** buckets[t] = first of the updates sent t times, newest first (doubly linked). */
  private readonly buckets: number[] = [];
  private count = 0;
  private smallestSize = Infinity;

  /** @param maxEntries hard bound; beyond it the most-sent update is dropped. */
  constructor(
    private readonly maxEntries: number,
    private readonly index: MemberIndex = new PrivateMemberIndex(),
  ) {}

  get size(): number {
    return this.count;
  }

  /** The queued update about `name`, if any. */
  queued(name: string): Update | undefined {
    const id = this.idOf(name);
    return id === NONE ? undefined : this.updates[id];
  }

  /** How many times the queued update about `name` has been sent (undefined when none is queued). */
  transmitsOf(name: string): number | undefined {
    const id = this.idOf(name);
    return id === NONE ? undefined : this.transmits[id];
  }

  /** Queues `update` (of `size` bytes), replacing older news about the same member. */
  enqueue(update: Update, size: number): void {
    let id = this.idOf(update.name);
    if (id !== NONE) this.unlink(id);
    else {
      id = this.index.acquire(update.name);
      if (id >= this.nextOf.length) this.grow(id);
      this.count++;
    }
    this.updates[id] = update;
    this.sizes[id] = size;
    this.transmits[id] = 0;
    this.link(id);
    if (size < this.smallestSize) this.smallestSize = size;
    if (this.count > this.maxEntries) this.dropMostSent();
  }

  /** Forgets any queued news about `name`. */
  remove(name: string): void {
    const id = this.idOf(name);
    if (id === NONE) return;
    this.unlink(id);
    this.forget(id);
  }

  /**
   * Appends to `out` the least-sent updates that fit in `bytesAvailable`, counting one transmission for
   * each; updates that reach `limit` transmissions leave the queue. Returns the bytes used.
   */
  fill(bytesAvailable: number, limit: number, out: Update[]): number {
    if (this.count === 0 || bytesAvailable < this.smallestSize) return 0;
    let used = 0;
    let misses = 0;
    const taken: number[] = [];
    scan: for (let t = 0; t < this.buckets.length; t++) {
      if (t >= limit) {
        // The limit shrank (fewer members): these have been sent enough.
        this.dropBucket(t);
        continue;
      }
      for (let id = this.buckets[t] ?? NONE; id !== NONE; id = this.nextOf[id] as number) {
        const size = this.sizes[id] as number;
        if (used + size <= bytesAvailable) {
          out.push(this.updates[id] as Update);
          used += size;
          taken.push(id);
          if (bytesAvailable - used < this.smallestSize) break scan;
        } else if (++misses > MAX_MISSES_PER_FILL) {
          break scan;
        }
      }
    }
    // Moved only after the scan so an update is never picked twice for one packet.
    for (const id of taken) {
      this.unlink(id);
      const sent = (this.transmits[id] as number) + 1;
      this.transmits[id] = sent;
      if (sent >= limit) this.forget(id);
      else this.link(id);
    }
    if (this.count === 0) this.smallestSize = Infinity;
    return used;
  }

  /** The member number of a queued update about `name`, or NONE. */
  private idOf(name: string): number {
    const id = this.index.find(name);
    return id >= 0 && id < this.updates.length && this.updates[id] !== undefined ? id : NONE;
  }

  private forget(id: number): void {
    this.updates[id] = undefined;
    this.count--;
    this.index.release(id);
  }

  private link(id: number): void {
    const t = this.transmits[id] as number;
    while (this.buckets.length <= t) this.buckets.push(NONE);
    const head = this.buckets[t] as number;
    this.prevOf[id] = NONE;
    this.nextOf[id] = head;
    if (head !== NONE) this.prevOf[head] = id;
    this.buckets[t] = id;
  }

  private unlink(id: number): void {
    const prev = this.prevOf[id] as number;
    const next = this.nextOf[id] as number;
    if (prev !== NONE) this.nextOf[prev] = next;
    else this.buckets[this.transmits[id] as number] = next;
    if (next !== NONE) this.prevOf[next] = prev;
    this.prevOf[id] = NONE;
    this.nextOf[id] = NONE;
  }

  private dropBucket(t: number): void {
    for (let id = this.buckets[t] as number; id !== NONE; ) {
      const next = this.nextOf[id] as number;
      this.forget(id);
      id = next;
    }
    this.buckets[t] = NONE;
  }

  private dropMostSent(): void {
    for (let t = this.buckets.length - 1; t >= 0; t--) {
      const head = this.buckets[t] as number;
      if (head === NONE) continue;
      // Oldest in the bucket: walk to the tail.
      let tail = head;
      while (this.nextOf[tail] !== NONE) tail = this.nextOf[tail] as number;
      this.unlink(tail);
      this.forget(tail);
      return;
    }
  }

  private grow(id: number): void {
    const length = grownLength(this.nextOf.length, id, this.index.span);
    this.sizes = grownInt32(this.sizes, length, 0);
    this.transmits = grownInt32(this.transmits, length, 0);
    this.nextOf = grownInt32(this.nextOf, length, NONE);
    this.prevOf = grownInt32(this.prevOf, length, NONE);
    for (let i = this.updates.length; i < length; i++) this.updates.push(undefined);
  }
}
