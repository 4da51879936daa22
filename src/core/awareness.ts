// Lifeguard local health awareness (memberlist awareness.go): a small score that rises when this member
// misses acks or nacks it should have seen, or has to refute accusations — signs that the fault may be
// here rather than at the member being probed. While the score is up, probing slows down.

export class Awareness {
  private value = 0;

  /** @param maxMultiplier scores stay in [0, maxMultiplier - 1]. */
  constructor(private readonly maxMultiplier: number) {}

  /** 0 = healthy. */
  get score(): number {
    return this.value;
  }

  applyDelta(delta: number): void {
    const next = this.value + delta;
    const max = Math.max(0, this.maxMultiplier - 1);
    this.value = next < 0 ? 0 : next > max ? max : next;
  }

  /** A duration stretched by the current score: timeout * (score + 1). */
  scale(timeoutMs: number): number {
    return timeoutMs * (this.value + 1);
  }
}
