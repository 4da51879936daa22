// SWIM's round-robin probe order: every other member once per round, in a fresh random order each round
// (bounding the time to first detection). The same array is the pool relays and gossip targets are drawn
// from, so picking k random members costs O(k), not a table scan.
import { shuffleInPlace } from './random.js';
import { pickRandom } from './random-pick.js';
import type { Random } from './types.js';

export class ProbeOrder {
  private names: string[] = [];
  private index = 0;

  constructor(private readonly random: Random) {}

  get length(): number {
    return this.names.length;
  }

  /**
   * The next name whose record `eligible` accepts, reshuffling from `allNames` when a round ends.
   * Names are resolved lazily, so members that died or were reaped mid-round are simply skipped.
   */
  next(allNames: () => Iterable<string>, eligible: (name: string) => boolean): string | undefined {
    let reshuffled = false;
    for (;;) {
      if (this.index >= this.names.length) {
        if (reshuffled) return undefined;
        this.reshuffle(allNames());
        reshuffled = true;
        if (this.names.length === 0) return undefined;
      }
      const name = this.names[this.index++] as string;
      if (eligible(name)) return name;
    }
  }

  /** Once per round: O(n), the only pass over the table outside full-state exchanges. */
  reshuffle(allNames: Iterable<string>): void {
    this.names = Array.from(allNames);
    shuffleInPlace(this.names, this.random);
    this.index = 0;
  }

  /** A new member goes to a random place among those not yet probed this round, so it is probed soon. */
  add(name: string, tableSize: number, allNames: () => Iterable<string>): void {
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
  addEach(names: readonly string[], skip: number): void {
    if (this.names.length !== 0) throw new Error('addEach is for an empty probe order');
    const order = this.names;
    for (let i = 0; i < names.length; i++) {
      if (i === skip) continue;
      const name = names[i] as string;
      const position = this.index + this.random.int(order.length - this.index + 1);
      order.push(order[position] ?? name);
      order[position] = name;
    }
  }

  pick(count: number, exclude: (name: string) => boolean): string[] {
    return pickRandom(this.names, count, this.random, exclude);
  }
}
