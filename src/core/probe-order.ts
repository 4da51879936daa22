// SWIM's round-robin probe order: every other member once per round, in a fresh random order each round
// (bounding the time to first detection). The same array is the pool relays and gossip targets are drawn
// from, so picking k random members costs O(k), not a table scan.
import { shuffleInPlace } from './random.js';
import { pickRandomAt } from './random-pick.js';
import type { Random } from './types.js';

export class ProbeOrder {
  private names: string[] = [];
  /**
   * Set by addEach from a list numbered by a shared index (a converged start): the order as member
   * numbers, off the V8 heap, named by `nameOf`, until the next reshuffle or add. Thousands of cores
   * would otherwise each hold an array of every name.
   */
  private ids: Int32Array | null = null;
  private nameOf: (id: number) => string = () => '';
  private index = 0;
  private readonly nameAt = (i: number): string => (this.ids === null ? (this.names[i] as string) : this.nameOf(this.ids[i] as number));

  constructor(private readonly random: Random) {}

  get length(): number {
    return this.ids === null ? this.names.length : this.ids.length;
  }

  /**
   * The next name whose record `eligible` accepts, reshuffling from `allNames` when a round ends.
   * Names are resolved lazily, so members that died or were reaped mid-round are simply skipped.
   */
  next(allNames: () => Iterable<string>, eligible: (name: string) => boolean): string | undefined {
    let reshuffled = false;
    for (;;) {
      if (this.index >= this.length) {
        if (reshuffled) return undefined;
        this.reshuffle(allNames());
        reshuffled = true;
        if (this.names.length === 0) return undefined;
      }
      const name = this.nameAt(this.index++);
      if (eligible(name)) return name;
    }
  }

  /** Once per round: O(n), the only pass over the table outside full-state exchanges. */
  reshuffle(allNames: Iterable<string>): void {
    this.names = Array.from(allNames);
    this.ids = null;
    shuffleInPlace(this.names, this.random);
    this.index = 0;
  }

  /** A new member goes to a random place among those not yet probed this round, so it is probed soon. */
  add(name: string, tableSize: number, allNames: () => Iterable<string>): void {
    if (this.ids !== null) {
      this.names = Array.from(this.ids, this.nameOf);
      this.ids = null;
    }
    if (this.names.length > 2 * tableSize + 16) {
      // Heavy churn within one long round filled the order with reaped names: start a fresh round.
      this.reshuffle(allNames());
      return;
    }
    const position = this.index + this.random.int(this.names.length - this.index + 1);
    this.names.push(this.names[position] ?? name);
    this.names[position] = name;
  }

  /**
   * Every name of `names` but the one at `skip`, each as add() places it, into an order that is empty
   * (a table taking a whole list at once): the same draws, without a table lookup per name.
   */
  addEach(names: readonly string[], skip: number, numbered?: { readonly ids: Int32Array; readonly nameOf: (id: number) => string }): void {
    if (this.length !== 0) throw new Error('addEach is for an empty probe order');
    if (numbered !== undefined) {
      this.addEachNumber(numbered.ids, skip);
      this.nameOf = numbered.nameOf;
      return;
    }
    const order = this.names;
    for (let i = 0; i < names.length; i++) {
      if (i === skip) continue;
      const name = names[i] as string;
      const position = this.index + this.random.int(order.length - this.index + 1);
      order.push(order[position] ?? name);
      order[position] = name;
    }
  }

  /** addEach over the names' member numbers (`ids`, in list order; numbers never reused): the same draws. */
  private addEachNumber(ids: Int32Array, skip: number): void {
    const order = new Int32Array(skip >= 0 && skip < ids.length ? ids.length - 1 : ids.length);
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      if (i === skip) continue;
      const id = ids[i] as number;
      const position = this.index + this.random.int(length - this.index + 1);
      // As add(): the number at the drawn place moves to the end and the new one takes its place.
      order[length] = position < length ? (order[position] as number) : id;
      order[position] = id;
      length++;
    }
    this.ids = order;
  }

  pick(count: number, exclude: (name: string) => boolean): string[] {
    return pickRandomAt(this.length, this.nameAt, count, this.random, exclude);
  }
}
