// The member table: name -> record, iterated in insertion order like a Map (full-state exchanges and
// probe rounds walk it, so its order is part of what a seed replays). Records sit in an array indexed by
// member number with the order as links in typed arrays: 16 bytes per member a table holds, against
// about 50 for a Map entry, which is what lets one process simulate 10,000 tables of 10,000.
import { grownInt32, grownLength, PrivateMemberIndex, type MemberIndex } from './member-index.js';
import type { MemberRecord } from './types.js';

const NONE = -1;

export class MemberTable {
  private records: (MemberRecord | undefined)[] = [];
  private nextOf = new Int32Array(0);
  private prevOf = new Int32Array(0);
  private head = NONE;
  private tail = NONE;
  private count = 0;

  constructor(private readonly index: MemberIndex = new PrivateMemberIndex()) {}

  get size(): number {
    return this.count;
  }

  get(name: string): MemberRecord | undefined {
    const id = this.index.find(name);
    return id < 0 || id >= this.records.length ? undefined : this.records[id];
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces the record in place, or appends a new member at the end of the order (as Map.set). */
  set(name: string, record: MemberRecord): void {
    // One lookup: acquiring a held name returns its number, and a name set is held either way.
    const id = this.index.acquire(name);
    if (id < this.records.length && this.records[id] !== undefined) {
      this.records[id] = record;
      return;
    }
    if (id >= this.nextOf.length) this.grow(id);
    this.records[id] = record;
    this.nextOf[id] = NONE;
    this.prevOf[id] = this.tail;
    if (this.tail === NONE) this.head = id;
    else this.nextOf[this.tail] = id;
    this.tail = id;
    this.count++;
  }

  delete(name: string): boolean {
    const id = this.index.find(name);
    if (id < 0 || id >= this.records.length || this.records[id] === undefined) return false;
    const prev = this.prevOf[id] as number;
    const next = this.nextOf[id] as number;
    if (prev === NONE) this.head = next;
    else this.nextOf[prev] = next;
    if (next === NONE) this.tail = prev;
    else this.prevOf[next] = prev;
    this.records[id] = undefined;
    this.count--;
    this.index.release(id);
    return true;
  }

  /** Records in insertion order. */
  *values(): IterableIterator<MemberRecord> {
    for (let id = this.head; id !== NONE; ) {
      const record = this.records[id] as MemberRecord;
      id = this.nextOf[id] as number;
      yield record;
    }
  }

  /** Names in insertion order. */
  *keys(): IterableIterator<string> {
    for (const record of this.values()) yield record.name;
  }

  /** Every record, in insertion order, as a new array. */
  toArray(): MemberRecord[] {
    const out = new Array<MemberRecord>(this.count);
    let i = 0;
    for (let id = this.head; id !== NONE; id = this.nextOf[id] as number) out[i++] = this.records[id] as MemberRecord;
    return out;
  }

  private grow(id: number): void {
    const length = grownLength(this.nextOf.length, id, this.index.span);
    this.nextOf = grownInt32(this.nextOf, length, NONE);
    this.prevOf = grownInt32(this.prevOf, length, NONE);
    for (let i = this.records.length; i < length; i++) this.records.push(undefined);
  }
}
