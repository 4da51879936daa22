// The ownership table a member asks for and serves: the view-changed effect (its owners listed only
// when the shell reads them), the version served, and whether the table served is the right one for
// readiness. Part of the member state machine: no I/O.
import type { SwimCore } from '../core/swim.js';
import type { MemberEffect } from './effects.js';

export class TableRequests {
  /** The last table asked for has no owners (known only until the first table is built). */
  private noOwnersWanted = true;
  private hasTable = false;
  private servedVersion: string | null = null;

  constructor(
    private readonly core: SwimCore,
    /** Inputs the member has taken so far: what a view-changed effect's owners are current for. */
    private readonly inputs: () => number,
  ) {}

  /** A table was built for the owners last asked for (or an older set; the newest follows). */
  built(version: string): void {
    this.hasTable = true;
    this.servedVersion = version;
  }

  /** The version of the last table built, null before the first. */
  get version(): string | null {
    return this.servedVersion;
  }

  /**
   * The table served is current for readiness. While no member serves (a new cluster whose apps wait
   * for this sidecar's startup probe) the table of no owners, which exists from the start, is the right
   * one; waiting for a build would deadlock.
   */
  current(tablesBusy: boolean): boolean {
    return this.hasTable || (this.noOwnersWanted && !tablesBusy);
  }

  /**
   * The table request for the view now. Listing the owners walks every record, so it is done when the
   * shell reads them (a simulator that tracks owners from the member events never does; a mass join
   * changes the view once per packet). They must be read before the member's next input, which would
   * have changed them: a later read throws rather than list another view.
   */
  request(): MemberEffect {
    let owners: readonly string[] | null = null;
    // Whether there are owners matters to readiness only until the first table is built; a member that
    // serves is one itself (a walk per join answer, before the first table, was a walk per joiner too).
    if (!this.hasTable) {
      const self = this.core.self;
      if ((self.state === 'alive' || self.state === 'suspect') && self.meta.serving) this.noOwnersWanted = false;
      else {
        owners = this.listOwners();
        this.noOwnersWanted = owners.length === 0;
      }
    }
    const input = this.inputs();
    const list = (): readonly string[] => {
      if (this.inputs() !== input) throw new Error('view-changed owners read after the member took another input');
      owners ??= this.listOwners();
      return owners;
    };
    return {
      type: 'view-changed',
      get owners(): readonly string[] {
        return list();
      },
      live: this.core.aliveCount(),
    };
  }

  /** The members that own shards: alive or suspect, and serving, in table order. */
  private listOwners(): string[] {
    const owners: string[] = [];
    for (const r of this.core.members()) if ((r.state === 'alive' || r.state === 'suspect') && r.meta.serving) owners.push(r.name);
    return owners;
  }
}
