// Counters the runtime keeps about its own I/O; the metrics module reads them at scrape time.
export interface AgentStats {
  packetsIn: number;
  packetsOut: number;
  bytesIn: number;
  bytesOut: number;
  sendErrors: number;
  /** Gossip socket failures (errors, unexpected closes, failed reopens) and successful reopens. */
  udpReceiveErrors: number;
  udpReopens: number;
  routeRequests: number;
  tableChanges: number;
  ownerMoves: number;
  replicaMoves: number;
  nameConflicts: number;
  /** Decode rejections by reason. */
  readonly rejects: Map<string, number>;
  /** gRPC rejections by "rpc:reason". */
  readonly grpcRejects: Map<string, number>;
  /** Effects (send, negotiate, closing, event, view) or core steps ("core") that threw, by kind. */
  readonly effectFailures: Map<string, number>;
  /** Gossip packets by "direction:version" ("out:2"), src/runtime/peer-versions.ts. */
  readonly packetsByVersion: Map<string, number>;
  /** Joins a seed refused, by reason (unsupported-version: no protocol version in common). */
  readonly joinRefusals: Map<string, number>;
  countReject(reason: string): void;
}

export function newAgentStats(): AgentStats {
  const rejects = new Map<string, number>();
  return {
    packetsIn: 0,
    packetsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    sendErrors: 0,
    udpReceiveErrors: 0,
    udpReopens: 0,
    routeRequests: 0,
    tableChanges: 0,
    ownerMoves: 0,
    replicaMoves: 0,
    nameConflicts: 0,
    rejects,
    grpcRejects: new Map(),
    effectFailures: new Map(),
    packetsByVersion: new Map(),
    joinRefusals: new Map(),
    countReject(reason: string): void {
      rejects.set(reason, (rejects.get(reason) ?? 0) + 1);
    },
  };
}
