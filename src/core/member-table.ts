// The member table: name -> record, iterated in insertion order like a Map (full-state exchanges and
// probe rounds walk it, so its order is part of what a seed replays). Records sit in an array indexed by
// member number with the order as links in typed arrays: 16 bytes per member a table holds, against
// about 50 for a Map entry, which is what lets one process simulate 10,000 tables of 10,000.
import { grownInt32, grownLength, PrivateMemberIndex, type MemberIndex } from './member-index.js';
import type { MemberRecord } from './types.js';

const NONE = -1;

/**
 * Per index, the last list appendAll took, as records by member number. The tables seeded from one list
 * (a converged start's thousands of cores) share that array until one of them changes a record, so the
 * seeding writes no record slot per pair and the V8 heap holds the pairs once.
 */
const listsByIndex = new WeakMap<MemberIndex, { list: readonly MemberRecord[]; byId: (MemberRecord | undefined)[] }>();

function recordsById(index: MemberIndex, list: readonly MemberRecord[], ids: Int32Array, top: number): (MemberRecord | undefined)[] | null {
  const last = listsByIndex.get(index);
  if (last?.list === list && last.byId.length > top) return last.byId;
  // Grown by push, as grow() does: a large preallocated array may be made a slow dictionary by V8.
  const byId: (MemberRecord | undefined)[] = [];
  for (let i = Math.max(top + 1, index.span); i > 0; i--) byId.push(undefined);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (byId[id] !== undefined) return null; // a name twice: the tables take the list one by one
    byId[id] = list[i];
  }
  listsByIndex.set(index, { list, byId });
  return byId;
}

export class MemberTable {
  private records: (MemberRecord | undefined)[] = [];
  /** `records` is a list's array shared with other tables (recordsById): copied before any change. */
  private shared = false;
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
    this.own();
    if (id < this.records.length && this.records[id] !== undefined) {
      this.records[id] = record;
      return;
    }
    if (id >= this.nextOf.length) this.grow(id);
    this.append(id, record);
  }

  /**
   * Appends each of `records` whose name is not held, in list order, as set would one by one (a
   * converged start): the names' numbers come from the index's acquireAll, one lookup per name per list.
   * Returns those numbers, in list order (shared: read them, never write).
   */
  appendAll(records: readonly MemberRecord[]): Int32Array {
    const ids = this.index.acquireAll(records);
    let top = -1;
    for (let i = 0; i < ids.length; i++) top = Math.max(top, ids[i] as number);
    // Holding one record, the very one the list holds under its number: the list's array stands for ours.
    const only = this.count === 1 ? this.head : NONE;
    const byId = only === NONE ? null : recordsById(this.index, records, ids, top);
    if (byId !== null && byId[only] === this.records[only]) {
      this.growLinks(grownLength(this.nextOf.length, top, this.index.span));
      this.records = byId;
      this.shared = true;
      this.linkAll(ids, only);
      return ids;
    }
    if (top >= this.nextOf.length) this.grow(top);
    // A records array shared by an earlier converged start is copied first: other tables read it.
    this.own();
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (this.records[id] === undefined) this.append(id, records[i] as MemberRecord);
    }
    return ids;
  }

  /** Puts `record` under the free number `id` at the end of the order (arrays long enough, records owned). */
  private append(id: number, record: MemberRecord): void {
    this.records[id] = record;
    this.nextOf[id] = NONE;
    this.prevOf[id] = this.tail;
    if (this.tail === NONE) this.head = id;
    else this.nextOf[this.tail] = id;
    this.tail = id;
    this.count++;
  }

  /** Links every id but `held` at the end of the order (their records are in place). */
  private linkAll(ids: Int32Array, held: number): void {
    const nextOf = this.nextOf;
    const prevOf = this.prevOf;
    let tail = this.tail;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      if (id === held) continue;
      nextOf[id] = NONE;
      prevOf[id] = tail;
      nextOf[tail] = id;
      tail = id;
      this.count++;
    }
    this.tail = tail;
  }

  /** The member number `name` has in this table's index, or -1. */
  idOf(name: string): number {
    return this.index.find(name);
  }

  delete(name: string): boolean {
    const id = this.index.find(name);
    if (id < 0 || id >= this.records.length || this.records[id] === undefined) return false;
    this.own();
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
    this.growLinks(length);
    this.own();
    for (let i = this.records.length; i < length; i++) this.records.push(undefined);
  }

  private growLinks(length: number): void {
    if (length <= this.nextOf.length) return;
    // No fill: a slot's links are written when its member is added and read only while it is held, and
    // untouched zero pages cost nothing (a simulation grows thousands of tables to its member count).
    this.nextOf = grownInt32(this.nextOf, length, 0);
    this.prevOf = grownInt32(this.prevOf, length, 0);
  }

  /** A shared records array becomes this table's own before it changes. */
  private own(): void {
    if (!this.shared) return;
    this.records = this.records.slice();
    this.shared = false;
  }
}
