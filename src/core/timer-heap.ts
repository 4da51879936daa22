// The core's deadlines in the shared min-heap. Cancellation is lazy: a cancelled timer stays in the heap and
// is skipped when it reaches the top, which keeps cancel O(1) and reschedule O(log n).
import { MinHeap, type Scheduled } from './min-heap.js';

export interface Timer {
  readonly at: number;
  cancelled: boolean;
}

interface Entry<T> extends Scheduled {
  readonly timer: T;
}

export class TimerHeap<T extends Timer> {
  private readonly heap = new MinHeap<Entry<T>>();
  // Insertion order breaks ties so equal deadlines fire in the order they were set (determinism).
  private nextOrder = 0;

  get size(): number {
    return this.heap.size;
  }

  push(timer: T): T {
    this.heap.push({ time: timer.at, seq: this.nextOrder++, timer });
    return timer;
  }

  /** Earliest live timer, discarding cancelled ones on the way. */
  peek(): T | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (top === undefined || !top.timer.cancelled) return top?.timer;
      this.heap.pop();
    }
  }

  /** Removes and returns the earliest live timer due at or before `now`. */
  popDue(now: number): T | undefined {
    const top = this.peek();
    if (top === undefined || top.at > now) return undefined;
    this.heap.pop();
    return top;
  }
}
