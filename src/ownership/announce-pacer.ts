// Paces full claim announcements. They follow membership news (a refutation of our own record, a
// member's new life), and that news can be forged at packet rate: each forged life of our name would
// otherwise make us send every claim to every peer. One run per key per interval; requests within it
// are coalesced into one run at its end (the latest request wins), so nothing asked for is lost.
import type { ClockPort } from '../member/ports.js';

export class AnnouncePacer {
  /** key -> when it last ran (monotonic ms). Map order is run order, so the stale ones come first. */
  private readonly lastRun = new Map<string, number>();
  private readonly pending = new Map<string, { readonly cancel: () => void; action: () => void }>();

  constructor(
    private readonly intervalMs: number,
    /** The member's clock: its timers run from the member's tick. */
    private readonly clock: ClockPort,
  ) {}

  run(key: string, action: () => void): void {
    const waiting = this.pending.get(key);
    if (waiting !== undefined) {
      waiting.action = action;
      return;
    }
    const now = this.clock.now();
    const last = this.lastRun.get(key);
    if (last === undefined || now - last >= this.intervalMs) {
      this.ran(key, now);
      action();
      return;
    }
    const cancel = this.clock.at(last + this.intervalMs, () => {
      const entry = this.pending.get(key);
      this.pending.delete(key);
      this.ran(key, this.clock.now());
      entry?.action();
    });
    this.pending.set(key, { cancel, action });
  }

  close(): void {
    for (const entry of this.pending.values()) entry.cancel();
    this.pending.clear();
  }

  private ran(key: string, now: number): void {
    this.lastRun.delete(key);
    this.lastRun.set(key, now);
    for (const [k, at] of this.lastRun) {
      if (now - at < this.intervalMs) break;
      this.lastRun.delete(k);
    }
  }
}
