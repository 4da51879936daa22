// The agent's own hold on table requests (src/runtime/table-debounce.ts, DebouncedTables) run on the
// simulator's clock: a member of a CPU-model run asks for its tables exactly as the agent does, so it
// builds as many as the agent would while a cluster forms.
import type { TableBuilderPort } from '../member/ports.js';
import type { PlacementTable } from '../placement/index.js';
import { DebouncedTables, type TableDebounceTuning } from '../runtime/table-debounce.js';

export class SimTableDebounce {
  private readonly tables: DebouncedTables;
  /** DebouncedTables keeps at most one timer armed. */
  private timer: { readonly at: number; readonly fire: () => void } | null = null;
  private clock = 0;

  constructor(
    tuning: TableDebounceTuning,
    /** Hands an owner set on to the member's builder. */
    forward: (owners: readonly string[], now: number) => void,
    /** A build is under way. */
    building: () => boolean,
  ) {
    const builder: TableBuilderPort = {
      emptyTable: (): PlacementTable => {
        throw new Error('the simulator builds no tables');
      },
      request: (owners) => forward(owners, this.clock),
      get busy(): boolean {
        return building();
      },
      close: async () => {},
    };
    const clock = {
      now: () => this.clock,
      wallNow: () => this.clock,
      at: (at: number, fire: () => void) => {
        const timer = { at, fire };
        this.timer = timer;
        return () => {
          if (this.timer === timer) this.timer = null;
        };
      },
    };
    this.tables = new DebouncedTables(builder, clock, tuning);
  }

  /** The member's view changed to these owners. */
  request(owners: readonly string[], now: number): void {
    this.clock = now;
    this.tables.request(owners);
  }

  /** A request is held, or a build runs (readiness waits for both). */
  get busy(): boolean {
    return this.tables.busy;
  }

  dueAt(): number {
    return this.timer?.at ?? Number.POSITIVE_INFINITY;
  }

  /** Fires the hold's timer when it is due. */
  tick(now: number): void {
    const timer = this.timer;
    if (timer === null || now < timer.at) return;
    this.timer = null;
    this.clock = now;
    timer.fire();
  }
}
