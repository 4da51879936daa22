// Calls this member makes on every live peer for an operator or a status page: a keyring operation, a
// force-leave, each peer's own health score.
import type { ControlPlaneClient } from '../grpc/client.js';
import { fanOutKeyOp } from '../security/key-fanout.js';
import type { KeyOp, KeyOpSummary } from '../security/key-ops.js';
import { callKeyringOp } from '../security/grpc-keyring.js';
import type { MemberRunner } from '../shell/runner.js';
import type { AgentOptions } from './agent-options.js';
import { callForceLeave, fanOutForceLeave, FORCE_LEAVE_CALL_MAX_MS, type ForceLeaveSummary } from './force-leave.js';
import { pingPeers } from './peer-health.js';
import type { ForceLeaveResult, PeerHealth } from './view.js';

/** A status page waits at most this long for peers' health scores. */
const PEER_HEALTH_TIMEOUT_MS = 1000;

export class PeerFanOuts {
  constructor(
    private readonly opts: AgentOptions,
    private readonly client: ControlPlaneClient,
    /** The running member; null before start. */
    private readonly runner: () => MemberRunner | null,
  ) {}

  /** A keyring operation on every live member (`swimring keys`); null when this member has no keyring. */
  keyOp(op: KeyOp): Promise<KeyOpSummary> | null {
    const local = this.opts.gossipSecurity?.keyring;
    if (!local) return null;
    const call = (addr: string, sealed: Uint8Array) => callKeyringOp(this.client, addr, sealed, this.opts.rpcTimeoutMs);
    return fanOutKeyOp(op, { local, label: this.opts.label ?? '', selfName: this.opts.name, peers: this.livePeers(), call });
  }

  /** After a local force-leave: the same on every other live member, answered per member. */
  forceLeaveEverywhere(name: string, local: ForceLeaveResult & { readonly refused: null }): Promise<ForceLeaveSummary> {
    const timeoutMs = Math.min(this.opts.rpcTimeoutMs, FORCE_LEAVE_CALL_MAX_MS);
    const call = (member: string, addr: string) => callForceLeave(this.client, member, addr, name, timeoutMs);
    return fanOutForceLeave(name, { selfName: this.opts.name, local, peers: this.livePeers(), call });
  }

  /** Live members' own health scores and table versions, this member's included. */
  async peerHealth(): Promise<Record<string, PeerHealth | null>> {
    const runner = this.runner();
    if (runner === null) return {};
    const { core } = runner.member;
    const peers = await pingPeers(this.client, core.members(), this.opts.name, Math.min(this.opts.rpcTimeoutMs, PEER_HEALTH_TIMEOUT_MS));
    return { ...peers, [this.opts.name]: { healthScore: core.healthScore(), tableVersion: runner.table.version } };
  }

  /** Members other than this one that it holds alive or suspect: the targets of a fan-out. */
  private livePeers(): { name: string; grpcAddr: string }[] {
    return (this.runner()?.member.livePeers() ?? []).map((m) => ({ name: m.name, grpcAddr: m.grpcAddr }));
  }
}
