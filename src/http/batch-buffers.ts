// Output buffers for batch route answers, reused between requests. A 10,000-key answer is about 4.4 MB,
// and a fresh buffer of that size per request paid its page faults before a byte was written (about a
// tenth of a batch's server time, measured in process). A buffer returns to the pool only when the
// response carrying it is over ('close': written to the kernel, or the connection gone), so an answer is
// never overwritten while it still waits in a socket's queue. Kept buffers are let go after an idle
// period, so an agent that served one burst of batches does not hold the memory for good.

/** Buffers kept for reuse: one per batch answer in flight at once, beyond that they are allocated and dropped. */
export const KEPT_BATCH_BUFFERS = 2;
/** Idle time after which kept buffers are released to the garbage collector. */
export const BATCH_BUFFER_IDLE_MS = 10_000;

export class BatchBufferPool {
  private free: Buffer[] = [];
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly kept = KEPT_BATCH_BUFFERS,
    private readonly idleMs = BATCH_BUFFER_IDLE_MS,
  ) {}

  /** A buffer of at least `bytes` bytes, contents unspecified; hand it back with release() once unused. */
  acquire(bytes: number): Buffer {
    for (let i = this.free.length - 1; i >= 0; i--) {
      const buffer = this.free[i]!;
      if (buffer.length >= bytes) {
        this.free.splice(i, 1);
        return buffer;
      }
    }
    return Buffer.allocUnsafeSlow(bytes);
  }

  /** Takes back a buffer from acquire() that nothing reads any more. */
  release(buffer: Buffer): void {
    if (this.free.length < this.kept) this.free.push(buffer);
    else {
      // Keep the largest: the next batch of the same size then needs no new allocation.
      let smallest = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[smallest]!.length) smallest = i;
      if (this.free[smallest]!.length < buffer.length) this.free[smallest] = buffer;
    }
    this.armIdle();
  }

  /** Buffers held for reuse now (for tests and metrics). */
  get keptCount(): number {
    return this.free.length;
  }

  /** Drops every kept buffer and the idle timer. */
  clear(): void {
    this.free = [];
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private armIdle(): void {
    if (this.idleTimer !== null) this.idleTimer.refresh();
    else {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.free = [];
      }, this.idleMs);
      this.idleTimer.unref();
    }
  }
}
