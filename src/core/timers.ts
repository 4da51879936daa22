// Every deadline the core has, in one heap. The shell asks for the earliest (nextDeadline) and calls
// tick(now); each timer names the component that owns it (kind) and what it is about (name / seq).
import { TimerHeap } from './timer-heap.js';
import type { Millis } from './types.js';

export type TimerKind = 'probe-round' | 'probe-timeout' | 'gossip' | 'push-pull' | 'join-sync' | 'relay' | 'suspicion' | 'suspect-reminder' | 'reap' | 'tombstone' | 'self-refute';

export interface CoreTimer {
  readonly at: Millis;
  cancelled: boolean;
  readonly kind: TimerKind;
  /** Member name for suspicion / suspect-reminder / reap / tombstone timers. */
  readonly name: string;
  /** Sequence number for probe and relay timers. */
  readonly seq: number;
}

export class Timers {
  private readonly heap = new TimerHeap<CoreTimer>();

  schedule(kind: TimerKind, at: Millis, name = '', seq = 0): CoreTimer {
    return this.heap.push({ at, cancelled: false, kind, name, seq });
  }

  /** Cancelled timers stay in the heap until they surface; owners also check identity when one fires. */
  cancel(timer: CoreTimer | null | undefined): void {
    if (timer !== null && timer !== undefined) timer.cancelled = true;
  }

  popDue(now: Millis): CoreTimer | undefined {
    return this.heap.popDue(now);
  }

  nextDeadline(): Millis {
    return this.heap.peek()?.at ?? Infinity;
  }
}
