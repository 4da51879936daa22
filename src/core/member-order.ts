// A member table's insertion order of member numbers (its iteration order, which a seed replays). Links
// in two typed arrays by member number; or, for a table seeded whole from a list that thousands of tables
// take (a simulation's converged start), that shared list of numbers plus the few changes since, so
// those tables hold no links per pair until their order really changes.
import { grownInt32, grownLength } from './member-index.js';

const NONE = -1;
const NO_IDS = new Int32Array(0);

/** Changes kept beside a shared list before the order is linked: each costs a scan of `after`. */
function changeLimit(listLength: number): number {
  return 64 + (listLength >> 4);
}

export class MemberOrder {
  /** Shared mode: `first`, then `list`'s numbers but `first` and the `dropped`, then `after`. */
  private list: Int32Array | null = NO_IDS;
  private first = NONE;
  private readonly dropped = new Set<number>();
  private after: number[] = [];
  private nextOf = new Int32Array(0);
  private prevOf = new Int32Array(0);
  private head = NONE;
  private tail = NONE;

  /** The first number in the order, or -1. */
  get firstId(): number {
    for (const id of this.ids()) return id;
    return NONE;
  }

  /** `id` (not in the order) goes last. `span`: how long to make arrays indexed by member number. */
  append(id: number, span: number): void {
    if (this.list !== null) {
      if (this.after.length < changeLimit(this.list.length)) {
        this.after.push(id);
        return;
      }
      this.link(span);
    }
    if (id >= this.nextOf.length) this.growLinks(grownLength(this.nextOf.length, id, span));
    this.nextOf[id] = NONE;
    this.prevOf[id] = this.tail;
    if (this.tail === NONE) this.head = id;
    else this.nextOf[this.tail] = id;
    this.tail = id;
  }

  /** `id` (in the order) leaves it. */
  remove(id: number, span: number): void {
    if (this.list !== null) {
      const at = this.after.indexOf(id);
      if (at >= 0) {
        this.after.splice(at, 1);
        return;
      }
      if (this.dropped.size < changeLimit(this.list.length)) {
        this.dropped.add(id);
        return;
      }
      this.link(span);
    }
    const prev = this.prevOf[id] as number;
    const next = this.nextOf[id] as number;
    if (prev === NONE) this.head = next;
    else this.nextOf[prev] = next;
    if (next === NONE) this.tail = prev;
    else this.prevOf[next] = prev;
  }

  /**
   * An order holding only `held` takes every number of `list` but `held` after it, reading `list` in
   * place (shared with other tables, never written; its numbers distinct).
   */
  appendShared(list: Int32Array, held: number): void {
    this.list = list;
    this.first = held;
    this.dropped.clear();
    this.after = [];
  }

  /** The numbers in order. */
  *ids(): IterableIterator<number> {
    const list = this.list;
    if (list === null) {
      for (let id = this.head; id !== NONE; id = this.nextOf[id] as number) yield id;
      return;
    }
    const dropped = this.dropped;
    const first = this.first;
    if (first !== NONE && !dropped.has(first)) yield first;
    for (let i = 0; i < list.length; i++) {
      const id = list[i] as number;
      if (id !== first && (dropped.size === 0 || !dropped.has(id))) yield id;
    }
    yield* this.after;
  }

  /** From a shared list to links of its own. */
  private link(span: number): void {
    const order = Array.from(this.ids());
    this.list = null;
    this.dropped.clear();
    this.after = [];
    let top = -1;
    for (const id of order) top = Math.max(top, id);
    this.growLinks(grownLength(this.nextOf.length, top, span));
    this.head = NONE;
    this.tail = NONE;
    for (const id of order) this.append(id, span);
  }

  private growLinks(length: number): void {
    if (length <= this.nextOf.length) return;
    // No fill: a slot's links are written when its member is added and read only while it is held.
    this.nextOf = grownInt32(this.nextOf, length, 0);
    this.prevOf = grownInt32(this.prevOf, length, 0);
  }
}
