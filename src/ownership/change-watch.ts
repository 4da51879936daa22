// Which ids the claim service must look at again after records landed in its store from outside
// (an announcement, an ack's winners, the digest exchange): one of its claims may have lost, or a
// peer may have echoed a claim it released. The store calls settle() as each merge ends, so the look
// happens at once, never in the middle of a merge, whoever merged (the digest exchange writes the
// store itself), and with no timer or microtask of its own.
export class ChangeWatch {
  private readonly ids = new Set<string>();
  /** Ids whose live claim of ours came back from a peer. */
  private readonly echoes = new Set<string>();
  private settling = false;

  constructor(private readonly check: (ids: readonly string[]) => void) {}

  /** A record of `id` landed; `echo` when it is a live claim of ours that came from outside. */
  noticed(id: string, echo: boolean): void {
    if (echo) this.echoes.add(id);
    this.ids.add(id);
  }

  /** Whether `id` was echoed (and forgets it). */
  takeEcho(id: string): boolean {
    return this.echoes.delete(id);
  }

  /** A merge ended: checks the ids noticed (the check's own writes merge again; they are not re-entered). */
  settle(): void {
    if (this.settling) return;
    this.settling = true;
    try {
      while (this.ids.size > 0) {
        const ids = [...this.ids];
        this.ids.clear();
        this.check(ids);
      }
    } finally {
      this.settling = false;
    }
  }
}
