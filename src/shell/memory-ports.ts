// In-memory ports: a manual clock, a network of members in one process (packets through the real codec,
// control-plane calls straight into the callee's handlers) and a table builder that builds on the clock.
// Whole members run on them without sockets or sleeps: tests advance the clock, and everything due runs in
// time order, with promise callbacks settled between events.
import { decodePacket, encodePacket } from '../codec/index.js';
import type { Packet } from '../core/types.js';
import { CallFailed, type ClockPort, type ControlPlaneHandlers, type ControlPlanePort, type PacketPort, type PacketSink, type TableBuilderPort, type TableBuilt } from '../member/ports.js';
import { buildTable, type PlacementOptions, type PlacementTable } from '../placement/index.js';
import { summarizeMoves } from '../runtime/table-moves.js';

interface Due {
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** Lets every promise callback that is ready run (a turn of the event loop, not a wait). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Where a manual clock's wall clock starts (2023-11-14T22:13:20Z): any fixed Unix time would do. */
export const MANUAL_WALL_START_MS = 1_700_000_000_000;

export class ManualClock implements ClockPort {
  private time: number;
  private seq = 0;
  /** Sorted by (at, seq): equal times run in the order they were asked for. */
  private queue: Due[] = [];
  /** The wall clock minus the monotonic one; a test steps it to model a clock that is off. */
  wallOffsetMs: number;

  constructor(start = 0, wallStartMs = MANUAL_WALL_START_MS) {
    this.time = start;
    this.wallOffsetMs = wallStartMs - start;
  }

  now(): number {
    return this.time;
  }

  wallNow(): number {
    return Math.floor(this.time + this.wallOffsetMs);
  }

  at(at: number, fire: () => void): () => void {
    const due: Due = { at: Math.max(at, this.time), seq: this.seq++, fire, cancelled: false };
    let i = this.queue.length;
    while (i > 0 && (this.queue[i - 1] as Due).at > due.at) i--;
    this.queue.splice(i, 0, due);
    return () => {
      due.cancelled = true;
    };
  }

  /** Moves time forward by `ms`, running everything due on the way in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const next = this.queue[0];
      if (next === undefined || next.at > end) break;
      this.queue.shift();
      if (next.cancelled) continue;
      this.time = next.at;
      next.fire();
    }
    this.time = end;
  }

  /** Advances in steps of `stepMs` until `done()` holds or `maxMs` passed; returns whether it held. */
  async advanceUntil(done: () => boolean, maxMs: number, stepMs = 100): Promise<boolean> {
    for (let waited = 0; waited < maxMs; waited += stepMs) {
      if (done()) return true;
      await this.advance(stepMs);
    }
    return done();
  }
}

/** Members of one process reaching each other by address; packets and calls take `latencyMs` each way. */
export class MemoryNetwork {
  private readonly sinks = new Map<string, PacketSink>();
  private readonly handlers = new Map<string, ControlPlaneHandlers>();
  /** Pairs of addresses that cannot reach each other ("a\u0000b", both orders). */
  private readonly cuts = new Set<string>();
  /** Packets that did not survive the codec (must stay 0). */
  undecodable = 0;

  constructor(
    readonly clock: ManualClock,
    private readonly latencyMs = 1,
  ) {}

  /** Connects a member's receiving side; a member not attached (crashed, not started) hears nothing. */
  attach(gossipAddr: string, sink: PacketSink, grpcAddr: string, handlers: ControlPlaneHandlers): void {
    this.sinks.set(gossipAddr, sink);
    this.handlers.set(grpcAddr, handlers);
  }

  detach(gossipAddr: string, grpcAddr: string): void {
    this.sinks.delete(gossipAddr);
    this.handlers.delete(grpcAddr);
  }

  /** Nothing passes between an address of `sideA` and one of `sideB` (packets and calls) until heal(). */
  cut(sideA: readonly string[], sideB: readonly string[]): void {
    for (const a of sideA) {
      for (const b of sideB) {
        this.cuts.add(`${a}\u0000${b}`);
        this.cuts.add(`${b}\u0000${a}`);
      }
    }
  }

  heal(): void {
    this.cuts.clear();
  }

  /** Nothing cuts `from` off from `to` (either may be a gossip or control-plane address). */
  reaches(from: string, to: string): boolean {
    return !this.cuts.has(`${from}\u0000${to}`);
  }

  packets(from: string): PacketPort {
    return {
      send: (to: string, packet: Packet) => {
        const decoded = decodePacket(encodePacket(packet));
        if (!decoded.ok) {
          this.undecodable++;
          return;
        }
        this.clock.at(this.clock.now() + this.latencyMs, () => {
          if (this.reaches(from, to)) this.sinks.get(to)?.(from, decoded.packet);
        });
      },
    };
  }

  /** The calling side for the member whose control plane listens at `from`. */
  controlPlane(from: string): ControlPlanePort {
    return {
      negotiate: (to, state, join) => this.call(from, to, (h) => h.negotiate(structuredClone([...state]), join)),
      closing: (to, name, incarnation) => this.call(from, to, (h) => h.closing(name, incarnation)),
      digestRound: () => Promise.resolve(null),
      fitPeers: () => undefined,
    };
  }

  /** One call: reaches the callee after the latency, answers after the latency again. */
  private call<T>(from: string, to: string, handle: (h: ControlPlaneHandlers) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.clock.at(this.clock.now() + this.latencyMs, () => {
        const callee = this.reaches(from, to) ? this.handlers.get(to) : undefined;
        if (callee === undefined) {
          reject(new CallFailed(`${to}: unreachable`, false));
          return;
        }
        try {
          const answer = structuredClone(handle(callee));
          this.clock.at(this.clock.now() + this.latencyMs, () => resolve(answer));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
    });
  }
}

/** Builds tables on the clock (at the time asked, after the step that asked): answers come later, as the real builder's do. */
export class MemoryTableBuilder implements TableBuilderPort {
  private last: PlacementTable;
  private lastKey = '';
  private inFlight = 0;

  constructor(
    private readonly options: PlacementOptions,
    private readonly clock: ClockPort,
    private readonly onBuilt: (built: TableBuilt) => void,
  ) {
    this.last = this.emptyTable();
  }

  emptyTable(): PlacementTable {
    return buildTable([], this.options);
  }

  request(owners: readonly string[]): void {
    const sorted = [...owners].sort();
    const key = sorted.join('\u0000');
    if (key === this.lastKey) return;
    this.lastKey = key;
    this.inFlight++;
    this.clock.at(this.clock.now(), () => {
      this.inFlight--;
      const table = buildTable(sorted, this.options);
      const moves = summarizeMoves(this.last, table);
      this.last = table;
      this.onBuilt({ table, moves, elapsedMs: 0, where: 'inline' });
    });
  }

  get busy(): boolean {
    return this.inFlight > 0;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
