// The real ports: the process's monotonic clock and setTimeout, the UDP socket behind the gossip
// envelope (label, encryption) and the codec, and the gRPC client (with digest anti-entropy). The table
// builder port is src/runtime/table-builder.ts itself.
import { performance } from 'node:perf_hooks';
import { status as grpcStatus } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MemberRecord, Packet } from '../core/types.js';
import type { AntiEntropy } from '../antientropy/runtime.js';
import { ControlPlaneCallError, type ControlPlaneClient } from '../grpc/client.js';
import { realClock } from './real-clock.js';
import { CallFailed, type ControlPlanePort, type PacketPort, type PacketSink } from '../member/ports.js';
import type { JoinRefusals } from '../runtime/peer-versions.js';
import type { AgentStats } from '../runtime/stats.js';
import type { GossipEnvelope } from '../security/envelope.js';
import { startUdpTransport, type PacketTransport, type UdpSocketFactory } from '../transport/udp.js';

export { realClock };

/** Seals each packet in the envelope and sends it on the gossip socket, counting packets and bytes. */
export class UdpPacketPort implements PacketPort {
  constructor(
    private readonly udp: PacketTransport,
    private readonly envelope: GossipEnvelope,
    private readonly stats: AgentStats,
    /** The protocol version the recipient is talked to in (docs/wire.md "Versions and rolling upgrades"). */
    private readonly versionFor: (to: string) => number,
  ) {}

  send(to: string, packet: Packet): void {
    const bytes = this.envelope.seal(packet, this.versionFor(to));
    this.stats.packetsOut++;
    this.stats.bytesOut += bytes.length;
    this.udp.send(to, bytes);
  }
}

/**
 * Binds the gossip socket: every datagram is opened (envelope, codec) and handed to `sink`, or counted as
 * refused; send errors, socket failures and reopens are counted and logged.
 */
export async function openGossipSocket(
  bind: string,
  createSocket: UdpSocketFactory | undefined,
  stats: AgentStats,
  logger: Logger,
  envelope: GossipEnvelope,
  sink: PacketSink,
  receivedVersion: (version: number) => void,
): Promise<PacketTransport> {
  const udp: PacketTransport = await startUdpTransport({
    bind,
    onPacket: (from, bytes) => {
      stats.packetsIn++;
      stats.bytesIn += bytes.length;
      const { decoded, version } = envelope.openVersioned(bytes);
      if (version !== null && decoded.ok) receivedVersion(version);
      if (!decoded.ok) {
        stats.countReject(decoded.reason);
        logger.debug({ from, reason: decoded.reason, detail: decoded.detail }, 'packet rejected');
        return;
      }
      sink(from, decoded.packet);
    },
    onSendError: (to, err) => {
      stats.sendErrors++;
      logger.debug({ to, err: err.message }, 'udp send failed');
    },
    onOversize: () => stats.countReject('too-large'),
    onReceiveError: (err, retryInMs) => {
      stats.udpReceiveErrors++;
      logger.warn({ err: err.message, retryInMs }, 'gossip socket failed: reopening it (until then no probe is heard)');
    },
    onReopened: (attempts) => {
      stats.udpReopens++;
      logger.warn({ attempts, gossip: udp.localAddress }, 'gossip socket reopened: receiving again');
    },
    ...(createSocket ? { createSocket } : {}),
  });
  return udp;
}

/**
 * Negotiate, Closing and digest rounds over gRPC. A RESOURCE_EXHAUSTED answer is reported as busy; a
 * join refused FAILED_PRECONDITION (no protocol version in common) as refused, and recorded.
 */
export class GrpcControlPlanePort implements ControlPlanePort {
  constructor(
    private readonly client: ControlPlaneClient,
    private readonly antiEntropy: () => AntiEntropy,
    private readonly rpcTimeoutMs: number,
    private readonly joinRefusals: JoinRefusals,
  ) {}

  negotiate(to: string, state: readonly MemberRecord[], join: boolean, waitMs = 0): Promise<MemberRecord[]> {
    return this.client.negotiate(to, state, join, Math.max(this.rpcTimeoutMs, waitMs)).then(
      (records) => {
        if (join) this.joinRefusals.accepted();
        return records;
      },
      (err: unknown) => {
        if (err instanceof ControlPlaneCallError && err.code === grpcStatus.RESOURCE_EXHAUSTED) throw new CallFailed(err.message, true);
        if (join && err instanceof ControlPlaneCallError && err.code === grpcStatus.FAILED_PRECONDITION) {
          this.joinRefusals.record(to, err.message);
          throw new CallFailed(err.message, false, true);
        }
        throw err;
      },
    );
  }

  closing(to: string, name: string, incarnation: number): Promise<void> {
    return this.client.closing(to, name, incarnation, this.rpcTimeoutMs);
  }

  digestRound(to: string): Promise<MemberRecord[] | null> {
    return this.antiEntropy().round(to);
  }

  fitPeers(live: number): void {
    this.client.fitPeers(live);
  }
}
