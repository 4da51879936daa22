// Dissemination queue (memberlist queue.go, TransmitLimitedQueue): each update rides along on outgoing
// packets until it has been sent `limit` times; least-sent updates go first, so fresh news spreads before
// old news is repeated; a newer update about a member replaces any queued older one.
//
// Unlike memberlist, the queue has two lanes. Introductions (a member we had not known) wait behind every
// other update, whatever their send counts: after a mass join every queue holds an introduction of every
// member, and ordered by send count alone a refutation sent a few times waits behind all of them until
// they have been sent as often, so it spreads at one send per pass over the backlog and can reach some
// members after their suspicion timers ran out. News about a known member (suspect, dead, left, a
// refutation, a restart) is bounded by the retransmit limit, so it cannot starve introductions for long.
//
// After a mass join every member queues news about every other, so entries live in arrays indexed by
// member number (24 bytes each) rather than one object and one Map entry per update, and an empty queue
// lets go of them.
import { grownLength, PrivateMemberIndex, type MemberIndex } from './member-index.js';
import type { Update } from './types.js';

const NONE = -1;

/** Stop scanning a packet's leftover space after this many updates that did not fit. */
const MAX_MISSES_PER_FILL = 32;

/** retransmitMult * ceil(log10(n + 1)): enough sends for an epidemic to reach all n members w.h.p. */
export function retransmitLimit(retransmitMult: number, clusterSize: number): number {
  return retransmitMult * Math.ceil(Math.log10(Math.max(1, clusterSize) + 1));
}

/** Lanes, served in this order: news about a member we already knew (a change of state, a refutation, a
 * restart, new metadata), then the first news of members we had not known. */
const CHANGES = 0;
const INTRODUCTIONS = 1;

/**
 * Per member number, four int32 slots side by side: a fill walks a bucket's links in no particular order
 * of member numbers, and with the slots together each entry it visits costs one cache line, not four.
 */
const SIZE_LANE = 0; // the update's size * 2 + its lane
const SENT = 1; // times sent
const NEXT = 2; // bucket links
const PREV = 3;
const STRIDE = 4;

export class BroadcastQueue {
  /** Per member number: the queued update (undefined: none) and its slots (STRIDE above). */
  private updates: (Update | undefined)[] = [];
  private slots = new Int32Array(0);
  /** buckets[lane][t] = first of the updates in that lane sent t times, newest first (doubly linked). */
  private readonly buckets: [number[], number[]] = [[], []];
  private count = 0;
  private smallestSize = Infinity;
  /** Reused by fill: the entries taken for one packet. */
  private readonly taken: number[] = [];

  private index: MemberIndex;
  /** Whether the index is the queue's own (given back with the arrays when the queue empties). */
  private readonly ownIndex: boolean;

  /** @param maxEntries hard bound; beyond it the most-sent update is dropped. */
  constructor(
    private readonly maxEntries: number,
    index?: MemberIndex,
  ) {
    this.ownIndex = index === undefined;
    this.index = index ?? new PrivateMemberIndex();
  }

  get size(): number {
    return this.count;
  }

  /** Member numbers the queue has room for without growing (0 once it emptied and gave its arrays back). */
  get capacity(): number {
    return this.updates.length;
  }

  /** The queued update about `name`, if any. */
  queued(name: string): Update | undefined {
    const id = this.idOf(name);
    return id === NONE ? undefined : this.updates[id];
  }

  /** How many times the queued update about `name` has been sent (undefined when none is queued). */
  transmitsOf(name: string): number | undefined {
    const id = this.idOf(name);
    return id === NONE ? undefined : this.slots[id * STRIDE + SENT];
  }

  /**
   * Queues `update` (of `size` bytes), replacing older news about the same member; an `introduction` (the
   * first news of a member) waits behind all other news.
   */
  enqueue(update: Update, size: number, introduction = false): void {
    // One lookup: acquiring a held name returns its number, and a name queued is held either way.
    const id = this.index.acquire(update.name);
    if (id < this.updates.length && this.updates[id] !== undefined) this.unlink(id);
    else {
      if (id * STRIDE >= this.slots.length) this.grow(id);
      this.count++;
    }
    this.updates[id] = update;
    const at = id * STRIDE;
    this.slots[at + SIZE_LANE] = size * 2 + (introduction ? INTRODUCTIONS : CHANGES);
    this.slots[at + SENT] = 0;
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
    this.releaseIfEmpty();
  }

  /**
   * Appends to `out` the updates that fit in `bytesAvailable`, changes before introductions and least-sent
   * first within a lane, counting one transmission for each; updates that reach `limit` transmissions
   * leave the queue. Returns the bytes used.
   */
  fill(bytesAvailable: number, limit: number, out: Update[]): number {
    if (this.count === 0 || bytesAvailable < this.smallestSize) return 0;
    const slots = this.slots;
    const taken = this.taken;
    let used = 0;
    let misses = 0;
    scan: for (let lane = CHANGES; lane <= INTRODUCTIONS; lane++) {
      const buckets = this.buckets[lane] as number[];
      for (let t = 0; t < buckets.length; t++) {
        if (t >= limit) {
          // The limit shrank (fewer members): these have been sent enough.
          this.dropBucket(buckets, t);
          continue;
        }
        for (let id = buckets[t] as number; id !== NONE; id = slots[id * STRIDE + NEXT] as number) {
          const size = (slots[id * STRIDE + SIZE_LANE] as number) >> 1;
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
    }
    // Moved only after the scan so an update is never picked twice for one packet.
    for (let i = 0; i < taken.length; i++) {
      const id = taken[i] as number;
      this.unlink(id);
      const sent = (slots[id * STRIDE + SENT] as number) + 1;
      slots[id * STRIDE + SENT] = sent;
      if (sent >= limit) this.forget(id);
      else this.link(id);
    }
    taken.length = 0;
    if (this.count === 0) this.smallestSize = Infinity;
    this.releaseIfEmpty();
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

  /**
   * An empty queue gives its arrays back: after a mass join every queue held news of every member, and
   * once that is sent a simulation of thousands of cores would otherwise keep all of it allocated.
   */
  private releaseIfEmpty(): void {
    if (this.count !== 0 || this.updates.length === 0) return;
    this.updates = [];
    this.slots = new Int32Array(0);
    for (const buckets of this.buckets) buckets.length = 0;
    // Its own index keeps a slot per name it held at once (names, free numbers) after they are released.
    if (this.ownIndex) this.index = new PrivateMemberIndex();
  }

  private bucketsOf(id: number): number[] {
    return this.buckets[((this.slots[id * STRIDE + SIZE_LANE] as number) & 1) === INTRODUCTIONS ? INTRODUCTIONS : CHANGES];
  }

  private link(id: number): void {
    const slots = this.slots;
    const at = id * STRIDE;
    const t = slots[at + SENT] as number;
    const buckets = this.bucketsOf(id);
    while (buckets.length <= t) buckets.push(NONE);
    const head = buckets[t] as number;
    slots[at + PREV] = NONE;
    slots[at + NEXT] = head;
    if (head !== NONE) slots[head * STRIDE + PREV] = id;
    buckets[t] = id;
  }

  private unlink(id: number): void {
    const slots = this.slots;
    const at = id * STRIDE;
    const prev = slots[at + PREV] as number;
    const next = slots[at + NEXT] as number;
    if (prev !== NONE) slots[prev * STRIDE + NEXT] = next;
    else this.bucketsOf(id)[slots[at + SENT] as number] = next;
    if (next !== NONE) slots[next * STRIDE + PREV] = prev;
    slots[at + PREV] = NONE;
    slots[at + NEXT] = NONE;
  }

  private dropBucket(buckets: number[], t: number): void {
    for (let id = buckets[t] as number; id !== NONE; ) {
      const next = this.slots[id * STRIDE + NEXT] as number;
      this.forget(id);
      id = next;
    }
    buckets[t] = NONE;
  }

  /** Over the bound: the most-sent introduction goes first, news about known members last. */
  private dropMostSent(): void {
    for (const buckets of [this.buckets[INTRODUCTIONS], this.buckets[CHANGES]]) {
      for (let t = buckets.length - 1; t >= 0; t--) {
        const head = buckets[t] as number;
        if (head === NONE) continue;
        // Oldest in the bucket: walk to the tail.
        let tail = head;
        while (this.slots[tail * STRIDE + NEXT] !== NONE) tail = this.slots[tail * STRIDE + NEXT] as number;
        this.unlink(tail);
        this.forget(tail);
        return;
      }
    }
  }

  private grow(id: number): void {
    const length = grownLength(this.slots.length / STRIDE, id, this.index.span);
    const slots = new Int32Array(length * STRIDE);
    slots.set(this.slots);
    this.slots = slots;
    for (let i = this.updates.length; i < length; i++) this.updates.push(undefined);
  }
}
