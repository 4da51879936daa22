// A binary min-heap of deadlines. Cancellation is lazy: a cancelled timer stays in the heap and is skipped
// when it reaches the top, which keeps cancel O(1) and reschedule O(log n).

export interface Timer {
  readonly at: number;
  cancelled: boolean;
}

export class TimerHeap<T extends Timer> {
  private readonly items: T[] = [];
  // Insertion order breaks ties so equal deadlines fire in the order they were set (determinism).
  private readonly orders: number[] = [];
  private nextOrder = 0;

  get size(): number {
    return this.items.length;
  }

  push(timer: T): T {
    this.items.push(timer);
    this.orders.push(this.nextOrder++);
    this.siftUp(this.items.length - 1);
    return timer;
  }

  /** Earliest live timer, discarding cancelled ones on the way. */
  peek(): T | undefined {
    for (;;) {
      const top = this.items[0];
      if (top === undefined || !top.cancelled) return top;
      this.removeTop();
    }
  }

  /** Removes and returns the earliest live timer due at or before `now`. */
  popDue(now: number): T | undefined {
    const top = this.peek();
    if (top === undefined || top.at > now) return undefined;
    this.removeTop();
    return top;
  }

  private removeTop(): void {
    const lastItem = this.items.pop() as T;
    const lastOrder = this.orders.pop() as number;
    if (this.items.length > 0) {
      this.items[0] = lastItem;
      this.orders[0] = lastOrder;
      this.siftDown(0);
    }
  }

  private less(i: number, j: number): boolean {
    const a = this.items[i] as T;
    const b = this.items[j] as T;
    return a.at < b.at || (a.at === b.at && (this.orders[i] as number) < (this.orders[j] as number));
  }

  private swap(i: number, j: number): void {
    const item = this.items[i] as T;
    this.items[i] = this.items[j] as T;
    this.items[j] = item;
    const order = this.orders[i] as number;
    this.orders[i] = this.orders[j] as number;
    this.orders[j] = order;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.items.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < n && this.less(left, smallest)) smallest = left;
      if (right < n && this.less(right, smallest)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
