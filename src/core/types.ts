// The SWIM core's contract with the outside world: what goes in, what comes out.
// The core is sans-IO: the shell (src/runtime) and the simulator (src/sim) feed it time, packets and
// RPC results, and carry out the effects it returns. Nothing here reads a clock or a socket.

/** Milliseconds on the caller's clock. Monotonic within one core; the core only compares and adds. */
export type Millis = number;

/** Opaque transport address, "host:port" (IPv6 as "[::1]:7946"). The core never parses it. */
export type Address = string;

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

/** What a member advertises about itself, carried in every alive update. */
export interface MemberMeta {
  /** Where the co-located app listens ("host:port"), "" when not configured. */
  readonly appAddr: string;
  /** App ready and member not leaving: only serving members own shards. */
  readonly serving: boolean;
  /** User tags; encoded size bounded by the codec (512 bytes). */
  readonly tags: Readonly<Record<string, string>>;
}

/** One member as a core knows it. */
export interface MemberRecord {
  readonly name: string;
  /** Random id of one process life; tells a restart or an impostor from the same life. */
  readonly lifeId: string;
  /** Starts at the process's boot time in ms (so a restart supersedes its old life), +1 per refutation. */
  readonly incarnation: number;
  readonly state: MemberState;
  /** UDP (SWIM) address. */
  readonly gossipAddr: Address;
  /** gRPC control-plane address (Negotiate, Closing). */
  readonly grpcAddr: Address;
  readonly meta: MemberMeta;
}

// ---------------------------------------------------------------------------------------------
// Dissemination: membership news, piggybacked on probe traffic and sent by gossip.
// ---------------------------------------------------------------------------------------------

export type Update =
  | {
      readonly kind: 'alive';
      readonly name: string;
      readonly lifeId: string;
      readonly incarnation: number;
      readonly gossipAddr: Address;
      readonly grpcAddr: Address;
      readonly meta: MemberMeta;
    }
  | { readonly kind: 'suspect'; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly kind: 'dead'; readonly name: string; readonly incarnation: number; readonly from: string }
  | { readonly kind: 'left'; readonly name: string; readonly incarnation: number };

// ---------------------------------------------------------------------------------------------
// UDP messages. One packet = at most one primary message + piggybacked updates.
// ---------------------------------------------------------------------------------------------

export type Message =
  /** Direct probe. `target` names the intended member so a reused address is not mistaken. */
  | { readonly type: 'ping'; readonly seq: number; readonly from: string; readonly fromAddr: Address; readonly target: string }
  /** Answer to ping, or relayed answer to ping-req (then `from` is the probed target). */
  | { readonly type: 'ack'; readonly seq: number; readonly from: string }
  /** Lifeguard: a relay heard nothing from the target within its timeout. */
  | { readonly type: 'nack'; readonly seq: number; readonly from: string }
  /** Indirect probe request: please ping `target` at `targetAddr` for me and relay the answer. */
  | {
      readonly type: 'ping-req';
      readonly seq: number;
      readonly from: string;
      readonly fromAddr: Address;
      readonly target: string;
      readonly targetAddr: Address;
    };

export interface Packet {
  /** null for a gossip-only packet. */
  readonly message: Message | null;
  readonly updates: readonly Update[];
}

// ---------------------------------------------------------------------------------------------
// Effects: what the core asks its shell to do.
// ---------------------------------------------------------------------------------------------

export type MembershipEvent =
  | {
      readonly type: 'member';
      readonly name: string;
      /** null when the member was unknown before. */
      readonly from: MemberState | null;
      readonly to: MemberState;
      readonly incarnation: number;
      /** Why: 'joined', 'probe-failed', 'suspicion-timeout', 'gossip', 'refuted', 'left', 'restarted', 'push-pull', 'reaped', 'meta'. */
      readonly reason: string;
      readonly member: MemberRecord;
    }
  /** A member's record left the table after its dead/left retention. */
  | { readonly type: 'reaped'; readonly name: string }
  /** Two live processes claim one name (different lifeIds keep superseding each other). */
  | { readonly type: 'name-conflict'; readonly name: string; readonly localLifeId: string; readonly otherLifeId: string; readonly otherAddr: Address }
  /** This member heard itself suspected / declared dead / left and raised its incarnation. */
  | { readonly type: 'refuted'; readonly incarnation: number; readonly accusation: 'suspect' | 'dead' | 'left' | 'stale-life' };

export type Effect =
  | { readonly type: 'send'; readonly to: Address; readonly packet: Packet }
  /** Full-state exchange over the control plane (gRPC in the runtime). Answer with onNegotiateReply / onNegotiateFailed. */
  /** `waitMs`: how long the caller will wait for the answer, when longer than the shell's RPC timeout (a join retrying a slow seed). */
  | { readonly type: 'negotiate'; readonly to: Address; readonly requestId: number; readonly state: readonly MemberRecord[]; readonly join: boolean; readonly waitMs?: number }
  /** Graceful-leave notice over the control plane; best effort, no answer expected. */
  | { readonly type: 'closing'; readonly to: Address; readonly name: string; readonly incarnation: number }
  | { readonly type: 'event'; readonly event: MembershipEvent };

/** Seeded randomness, injected so a simulation replays byte for byte. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** Counters the shell exports as metrics. Monotonic unless noted. */
export interface CoreCounters {
  probesSent: number;
  probesFailed: number;
  indirectProbesSent: number;
  nacksSent: number;
  nacksReceived: number;
  suspicionsRaised: number;
  refutations: number;
  nameConflicts: number;
  updatesQueued: number;
  gossipPacketsSent: number;
  pushPullsStarted: number;
  /** Alive updates about unknown members dropped because the member table was full. */
  membersDropped: number;
  /** Malformed updates or records ignored (bad name or incarnation). */
  updatesRejected: number;
  /** ping-req requests refused because too many relays were already pending. */
  relaysDropped: number;
  /** Negotiations started with a dead or reaped member, to find the other side of a healed partition. */
  reconnectsStarted: number;
  /** Stale accusations about this member answered with its current alive record. */
  staleAccusationsAnswered: number;
}
