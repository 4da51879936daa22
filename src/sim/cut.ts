// Network cuts for the scenario (`--isolate K:SECONDS`, `--split A:B:SECONDS`) and the false deaths they
// must not cause. A dead verdict is false when its target's current life is running and the observer
// could reach it at that moment:
//   - before the cut: always (the cluster was whole);
//   - during the cut: when both are on the same side;
//   - after the heal: on the same side, or once the observer has heard (a UDP packet) from the target
//     since the heal. Until then a verdict about the other side is the cut's, not a mistake.
// Verdicts across the cut while it lasts are expected: that is what a partition looks like.
import type { MembershipEvent } from '../core/types.js';
import type { SimNode } from './simulator.js';

export interface CutPlan {
  /** The islands: every group is cut from every other; members listed in no group form one more. */
  readonly groups: readonly (readonly SimNode[])[];
  readonly seconds: number;
}

export class CutTracker {
  /** Island of each node id during the cut (0 = the unlisted rest); null before the cut. */
  private side: Int32Array | null = null;
  private active = false;
  private healedAt: number | null = null;
  /** heard[to * n + from] = 1 once `to` received a packet from `from` after the heal. */
  private heard: Uint8Array;
  private readonly byGossip = new Map<string, SimNode>();
  private readonly byName = new Map<string, SimNode>();
  /** Dead verdicts about reachable running lives (the report's false_dead for cut runs). */
  falseDeadVerdicts = 0;
  /** The targets of those verdicts, for diagnosis. */
  readonly falselyDead = new Map<string, number>();

  constructor(private readonly nodes: readonly SimNode[]) {
    this.heard = new Uint8Array(nodes.length * nodes.length);
    for (const n of nodes) this.byName.set(n.name, n);
  }

  /** Starts the cut; `partition` applies it to the network. */
  start(plan: CutPlan, partition: (groups: number[][]) => void): void {
    this.side = new Int32Array(this.nodes.length);
    const groups = plan.groups.map((g, i) => {
      for (const n of g) (this.side as Int32Array)[n.id] = i + 1;
      return g.map((n) => n.id);
    });
    for (const n of this.nodes) this.byGossip.set(n.gossipAddr, n);
    partition(groups);
    this.active = true;
  }

  heal(now: number, heal: () => void): void {
    heal();
    this.active = false;
    this.healedAt = now;
  }

  get healAt(): number | null {
    return this.healedAt;
  }

  onPacketDelivered(to: SimNode, fromAddr: string): void {
    if (this.healedAt === null) return;
    const from = this.byGossip.get(fromAddr);
    if (from !== undefined) this.heard[to.id * this.nodes.length + from.id] = 1;
  }

  onEvent(observer: SimNode, event: MembershipEvent): void {
    if (event.type !== 'member' || event.to !== 'dead') return;
    const target = this.byName.get(event.name);
    if (target === undefined || !target.live || target.lifeId !== event.member.lifeId) return;
    if (!this.reachable(observer, target)) return;
    this.falseDeadVerdicts++;
    this.falselyDead.set(target.name, (this.falselyDead.get(target.name) ?? 0) + 1);
  }

  private reachable(observer: SimNode, target: SimNode): boolean {
    if (this.side === null) return true;
    if (this.side[observer.id] === this.side[target.id]) return true;
    if (this.active) return false;
    return this.heard[observer.id * this.nodes.length + target.id] === 1;
  }
}
