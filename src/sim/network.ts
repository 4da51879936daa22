// The virtual network between simulated nodes: who can reach whom, what is lost, how long it takes.
// Holds no packets (the simulator's event queue does); it only answers questions about a link, drawing
// from the one network Random so a seed replays the same losses and delays.
import type { Random } from '../core/types.js';
import { pairHash01 } from './seeds.js';

export interface NetworkOptions {
  /** One-way base latency of a link, ms. Each link's base is spread over [base, base * (1 + spread)). */
  baseLatencyMs: number;
  /** Per-link base spread factor (0 = every link has exactly baseLatencyMs). */
  latencySpread: number;
  /** Extra uniform delay per packet, [0, jitterMs) ms. Reorders packets, as real networks do. */
  jitterMs: number;
  /** Probability that any one UDP packet is lost, on every link. */
  loss: number;
}

export const DEFAULT_NETWORK: Readonly<NetworkOptions> = Object.freeze({
  baseLatencyMs: 0.25,
  latencySpread: 1,
  jitterMs: 0.5,
  loss: 0,
});

export type DropReason = 'partition' | 'loss';

function checkProbability(p: number, what: string): void {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${what} must be a probability in [0, 1] (got ${p})`);
}

export class NetworkModel {
  private readonly options: NetworkOptions;
  /** Partition group per node id; nodes in different groups cannot reach each other. */
  private readonly group: number[] = [];
  private partitioned = false;
  private readonly outLoss = new Map<number, number>();
  private readonly inLoss = new Map<number, number>();
  private readonly linkLoss = new Map<number, number>();
  private readonly linkLatency = new Map<number, number>();
  private directional = false;

  constructor(
    private readonly random: Random,
    private readonly latencySeed: number,
    options: Partial<NetworkOptions> = {},
  ) {
    this.options = { ...DEFAULT_NETWORK, ...options };
    checkProbability(this.options.loss, 'loss');
    if (!(this.options.baseLatencyMs >= 0) || !(this.options.jitterMs >= 0) || !(this.options.latencySpread >= 0)) {
      throw new RangeError('latencies must be >= 0');
    }
  }

  get loss(): number {
    return this.options.loss;
  }

  setLoss(p: number): void {
    checkProbability(p, 'loss');
    this.options.loss = p;
  }

  /** Loss on one direction of one link (from -> to). */
  setLinkLoss(from: number, to: number, p: number): void {
    checkProbability(p, 'link loss');
    this.setIn(this.linkLoss, linkKey(from, to), p);
  }

  /** Loss on everything a node sends. 1 makes it mute (it still hears). */
  setOutboundLoss(node: number, p: number): void {
    checkProbability(p, 'outbound loss');
    this.setIn(this.outLoss, node, p);
  }

  /** Loss on everything a node receives. 1 makes it deaf (it can still talk). */
  setInboundLoss(node: number, p: number): void {
    checkProbability(p, 'inbound loss');
    this.setIn(this.inLoss, node, p);
  }

  /** Fixes the base latency of one direction of one link. */
  setLinkLatency(from: number, to: number, ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`latency must be >= 0 (got ${ms})`);
    this.linkLatency.set(linkKey(from, to), ms);
  }

  /** Splits the network: each listed group becomes an island; unlisted nodes form one more island. */
  partition(groups: readonly (readonly number[])[]): void {
    this.group.length = 0;
    groups.forEach((members, i) => {
      for (const node of members) this.group[node] = i + 1;
    });
    this.partitioned = groups.length > 0;
  }

  heal(): void {
    this.group.length = 0;
    this.partitioned = false;
  }

  /** True when a partition separates the two nodes. */
  separated(a: number, b: number): boolean {
    return this.partitioned && (this.group[a] ?? 0) !== (this.group[b] ?? 0);
  }

  /** Decides the fate of one UDP packet: a reason to drop it, or null to deliver it. */
  dropPacket(from: number, to: number): DropReason | null {
    if (this.separated(from, to)) return 'partition';
    const loss = this.options.loss;
    if (loss > 0 && this.random.next() < loss) return 'loss';
    if (this.directional) {
      const p = this.directionalLoss(from, to);
      if (p > 0 && this.random.next() < p) return 'loss';
    }
    return null;
  }

  /**
   * Whether a control-plane RPC (TCP) can get through. TCP retransmits over partial loss, so only a
   * partition or a direction that loses everything (either way: TCP needs both) breaks it.
   */
  rpcPossible(a: number, b: number): boolean {
    if (this.separated(a, b)) return false;
    if (this.options.loss >= 1) return false;
    if (!this.directional) return true;
    return this.directionalLoss(a, b) < 1 && this.directionalLoss(b, a) < 1;
  }

  /**
   * One-way delay of one packet or RPC: the link's base latency plus fresh jitter, drawn from `random`
   * (a caller with a stream of its own, the claims, leaves the network's draws as they were).
   */
  delay(from: number, to: number, random: Random = this.random): number {
    const { baseLatencyMs, latencySpread, jitterMs } = this.options;
    let base = this.linkLatency.size > 0 ? this.linkLatency.get(linkKey(from, to)) : undefined;
    if (base === undefined) base = baseLatencyMs * (1 + latencySpread * pairHash01(this.latencySeed, from, to));
    return jitterMs > 0 ? base + random.next() * jitterMs : base;
  }

  private directionalLoss(from: number, to: number): number {
    // Independent losses combine: the packet survives only if it survives each.
    const a = this.outLoss.get(from) ?? 0;
    const b = this.inLoss.get(to) ?? 0;
    const c = this.linkLoss.get(linkKey(from, to)) ?? 0;
    return 1 - (1 - a) * (1 - b) * (1 - c);
  }

  private setIn(map: Map<number, number>, key: number, p: number): void {
    if (p === 0) map.delete(key);
    else map.set(key, p);
    this.directional = this.outLoss.size + this.inLoss.size + this.linkLoss.size > 0;
  }
}

/** Node ids stay far below 2^26, so a pair fits exactly in a double. */
function linkKey(from: number, to: number): number {
  return from * 67_108_864 + to;
}
