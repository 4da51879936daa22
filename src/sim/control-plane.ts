// The control plane between simulated members: Negotiate (join and full-state exchange), the periodic
// digest anti-entropy round, and Closing notices, as RPCs that travel with the network's latency. Like
// TCP in the agent, partial loss does not drop them; a cut or a missing peer does, and the caller then
// hears onNegotiateFailed at its deadline. RPC bytes are counted apart from UDP.
import type { SharedMemberIndex } from '../core/member-index.js';
import type { Address, Effect, MemberRecord } from '../core/types.js';
import { recordsBytes } from './bytes.js';
import type { SimCore } from './core-port.js';
import { DigestRounds, type SimAntiEntropy } from './digest.js';
import { EventKind, type EventPusher, type SimEvent } from './events.js';
import type { NetworkModel } from './network.js';
import type { SimNode } from './sim-node.js';

/** What the control plane uses of the engine: its clock and queue, and running a core's effects. */
export interface ControlPlaneHost {
  readonly nodes: readonly SimNode[];
  readonly network: NetworkModel;
  now(): number;
  /** The node listening on a gRPC address, if any. */
  grpcNode(addr: Address): number | undefined;
  push: EventPusher;
  apply(node: SimNode, effects: readonly Effect[]): void;
  reschedule(node: SimNode, afterTick: boolean): void;
}

interface PendingRpc {
  readonly node: number;
  readonly life: number;
  readonly requestId: number;
}

export class ControlPlane {
  private readonly rpcs = new Map<number, PendingRpc>();
  private readonly digestRounds: DigestRounds;
  private rpcSeq = 0;

  constructor(
    private readonly host: ControlPlaneHost,
    private readonly antiEntropy: SimAntiEntropy,
    private readonly rpcTimeoutMs: number,
    memberIndex: SharedMemberIndex,
  ) {
    this.digestRounds = new DigestRounds(memberIndex);
  }

  /** Runs a control-plane event; returns the node whose core handled it (null: buffered, stale or unroutable). */
  dispatch(ev: SimEvent): SimNode | null {
    const node = this.host.nodes[ev.node];
    const free = node !== undefined && node.core !== null && !node.paused;
    const backlog = node?.backlog.length ?? 0;
    switch (ev.kind) {
      case EventKind.NegotiateRequest:
        this.onNegotiateRequest(ev);
        break;
      case EventKind.DigestRequest:
        this.onDigestRequest(ev);
        break;
      case EventKind.NegotiateReply:
      case EventKind.NegotiateTimeout:
        this.onNegotiateOutcome(ev);
        break;
      case EventKind.Closing:
        this.onClosing(ev);
        break;
      default:
        return null;
    }
    return free && node.core !== null && node.backlog.length === backlog ? node : null;
  }

  onNegotiateRequest(ev: SimEvent): void {
    const node = this.host.nodes[ev.node];
    const core = node?.core ?? null;
    if (node === undefined || core === null || node.grpcAddr !== ev.addr) return; // the caller times out
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    const { reply, effects } = core.onNegotiate(ev.records ?? [], ev.flag, this.host.now());
    this.host.apply(node, effects);
    this.host.reschedule(node, false);
    const pending = this.rpcs.get(ev.num);
    if (pending === undefined) return; // the caller gave up already
    node.rpcsSent++;
    node.rpcBytesSent += recordsBytes(reply);
    if (!this.host.network.rpcPossible(node.id, pending.node)) return;
    this.host.push(
      this.host.now() + this.host.network.delay(node.id, pending.node),
      EventKind.NegotiateReply,
      pending.node,
      ev.num,
      '',
      '',
      null,
      reply,
      false,
      null,
    );
  }

  /** A digest round settles at once on arrival; its reply comes back after one delay per round trip. */
  onDigestRequest(ev: SimEvent): void {
    const node = this.host.nodes[ev.node];
    if (node === undefined || node.core === null || node.grpcAddr !== ev.addr) return; // the caller times out
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    const pending = this.rpcs.get(ev.num);
    const caller = pending === undefined ? undefined : this.host.nodes[pending.node];
    if (pending === undefined || caller === undefined || caller.core === null || caller.life !== pending.life) return;
    const core = node.core;
    const stateOf = (c: SimCore): MemberRecord[] => c.fullState?.() ?? c.members();
    // A peer's pushed entries merge like a Negotiate request's records, as the agent merges them.
    const round = this.digestRounds.round(stateOf(caller.core), caller.name, stateOf(core), (records) => {
      if (node.core === core) this.host.apply(node, core.onNegotiate(records, false, this.host.now()).effects);
    });
    this.host.reschedule(node, false);
    caller.rpcsSent += round.calls - 1;
    caller.rpcBytesSent += round.bytes;
    if (!this.host.network.rpcPossible(node.id, caller.id)) return;
    const oneWay = this.host.network.delay(node.id, caller.id);
    this.host.push(this.host.now() + oneWay * (2 * round.calls - 1), EventKind.NegotiateReply, caller.id, ev.num, '', '', null, round.reply, false, null);
  }

  /** A reply or the deadline, whichever reaches the caller first, settles the RPC. */
  onNegotiateOutcome(ev: SimEvent): void {
    const pending = this.rpcs.get(ev.num);
    if (pending === undefined) return;
    const node = this.host.nodes[pending.node];
    const core = node?.core ?? null;
    if (node === undefined || core === null || node.life !== pending.life) {
      this.rpcs.delete(ev.num);
      return;
    }
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    this.rpcs.delete(ev.num);
    const effects =
      ev.kind === EventKind.NegotiateReply
        ? core.onNegotiateReply(pending.requestId, ev.records ?? [], this.host.now())
        : core.onNegotiateFailed(pending.requestId, this.host.now());
    this.host.apply(node, effects);
    this.host.reschedule(node, false);
  }

  onClosing(ev: SimEvent): void {
    const node = this.host.nodes[ev.node];
    const core = node?.core ?? null;
    if (node === undefined || core === null || node.grpcAddr !== ev.addr) return;
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    this.host.apply(node, core.onClosing(ev.fromAddr, ev.num, this.host.now()));
    this.host.reschedule(node, false);
  }


  negotiate(node: SimNode, to: Address, requestId: number, state: readonly MemberRecord[], join: boolean): void {
    const token = ++this.rpcSeq;
    this.rpcs.set(token, { node: node.id, life: node.life, requestId });
    node.rpcsSent++;
    // The agent runs the periodic exchange as a digest round when the core can give its full state.
    const digest = !join && this.antiEntropy === 'digest' && node.core?.fullState !== undefined;
    if (!digest) node.rpcBytesSent += recordsBytes(state);
    this.host.push(this.host.now() + this.rpcTimeoutMs, EventKind.NegotiateTimeout, node.id, token, '', '', null, null, false, null);
    const dst = this.host.grpcNode(to);
    if (dst === undefined || !this.host.network.rpcPossible(node.id, dst)) return;
    const kind = digest ? EventKind.DigestRequest : EventKind.NegotiateRequest;
    this.host.push(this.host.now() + this.host.network.delay(node.id, dst), kind, dst, token, to, '', null, digest ? null : state, join, null);
  }

  closing(node: SimNode, to: Address, name: string, incarnation: number): void {
    node.rpcsSent++;
    node.rpcBytesSent += name.length + 12;
    const dst = this.host.grpcNode(to);
    if (dst === undefined || !this.host.network.rpcPossible(node.id, dst)) return;
    this.host.push(this.host.now() + this.host.network.delay(node.id, dst), EventKind.Closing, dst, incarnation, to, name, null, null, false, null);
  }
}
