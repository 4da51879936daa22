// The ports through which a shell carries a member's effects out. Each has a real implementation
// (src/shell/real-ports.ts: performance.now and setTimeout, the UDP socket with its envelope, the gRPC
// client, the worker-backed table builder) and an in-memory one (src/shell/memory-ports.ts: a manual clock
// and a network of members in one process), so whole members run in tests, and later in the simulator,
// without sockets or sleeps.
import type { MemberRecord, Packet } from '../core/types.js';
import type { PlacementTable } from '../placement/index.js';
import type { MoveSummary } from '../runtime/table-moves.js';

/** Time and the one timer a shell needs. `now()` is monotonic, in ms. */
export interface ClockPort {
  now(): number;
  /**
   * The wall clock, whole Unix ms (as Date.now): what claims stamp with (the physical part of their hybrid clock). It may
   * step and may be off from other members' wall clocks; everything that measures a duration uses now().
   */
  wallNow(): number;
  /** Calls `fire` once `now()` has reached `at`; returns the cancel. */
  at(at: number, fire: () => void): () => void;
}

/** Gossip packets, already decoded: the port owns the wire (codec, envelope, socket). */
export interface PacketPort {
  /** Fire and forget, as UDP is: a packet the port cannot send is lost (and counted by the port). */
  send(to: string, packet: Packet): void;
}

/** Called by a packet port for every packet it received and could open. */
export type PacketSink = (from: string, packet: Packet) => void;

/** Why a control-plane call failed, as far as the member cares. */
export class CallFailed extends Error {
  /** The callee answered "busy" (rate limit, in-flight bound): a cluster is there. */
  readonly busy: boolean;
  /** The callee refused this member (no protocol version in common): a cluster is there, not for it. */
  readonly refused: boolean;

  constructor(message: string, busy: boolean, refused = false) {
    super(message);
    this.name = 'CallFailed';
    this.busy = busy;
    this.refused = refused;
  }
}

/** The calling side of the control plane (gRPC in the real shell). Rejects with CallFailed or any error. */
export interface ControlPlanePort {
  /** `waitMs`: wait this long for the answer when it is longer than the shell's usual RPC timeout. */
  negotiate(to: string, state: readonly MemberRecord[], join: boolean, waitMs?: number): Promise<MemberRecord[]>;
  closing(to: string, name: string, incarnation: number): Promise<void>;
  /**
   * A periodic exchange by digest: the peer's records of the buckets that differ ([] when the roots
   * agree), or null when the peer does not speak the digest RPCs (the caller negotiates instead).
   */
  digestRound(to: string): Promise<MemberRecord[] | null>;
  /** The cluster holds about this many live members (a pool of cached channels may grow to fit). */
  fitPeers(live: number): void;
}

/** The answering side of the control plane: what a port hands a call from a peer to. */
export interface ControlPlaneHandlers {
  negotiate(remote: MemberRecord[], join: boolean): MemberRecord[];
  closing(name: string, incarnation: number): void;
}

/** A finished ownership table and what moved against the previous one. */
export interface TableBuilt {
  readonly table: PlacementTable;
  readonly moves: MoveSummary;
  /** Time from request to answer, ms (0 for a table built in memory). */
  readonly elapsedMs: number;
  readonly where: 'inline' | 'worker';
}

/** Builds ownership tables; answers always come later, through the callback given at construction. */
export interface TableBuilderPort {
  /** The table of no members (exists before the first build). */
  emptyTable(): PlacementTable;
  /** Asks for the table of these owners; a no-op when it is the set asked for last. */
  request(owners: readonly string[]): void;
  /** A build is running. */
  readonly busy: boolean;
  close(): Promise<void>;
}

/** Resolves the configured seeds to control-plane addresses other than this member's own. */
export type SeedResolverPort = () => Promise<string[]>;
