// One fleet operation inside a simulator run: the kubelet and a controller (fleet.ts) on the running
// members, the measures (fleet-observe.ts) sampled on the virtual clock, and the report's `fleet` part.
import { FleetObserver } from './fleet-observe.js';
import { POD_TEMPLATE, SimKubelet, startController, type FleetController, type FleetOperation, type PodTemplate } from './fleet.js';
import type { SimMember } from './member-core.js';
import type { MembershipEvent } from '../core/types.js';
import { max, round } from './stats.js';
import type { SimNode, Simulator } from './simulator.js';

/** After the operation the run goes on this long, so the last change's one view is seen. */
export const FLEET_TAIL_MS = 30_000;
/**
 * About a second, and not a divisor of the probe periods: the controllers' steps are whole multiples of
 * those, and rounds locked to them would always ask at the same moment after each change.
 */
const ROUTE_ROUND_MS = 997;
/** Views are cheap to sample; a tenth of a second is the resolution of the one-view times. */
const VIEW_SAMPLE_MS = 101;

/** The `fleet` part of the report (docs/sim.md explains every field). */
export interface FleetReport {
  operation: FleetOperation['kind'];
  /** Pods deleted and pods created by the operation. */
  pods_replaced: number;
  pods_created: number;
  /** Created pods under a name no earlier pod had (a Deployment's), and on an address no earlier pod had. */
  new_names: number;
  new_addresses: number;
  started_at_s: number;
  /** When the last old pod had exited and the last new one was available; null when not done. */
  done_at_s: number | null;
  step_s_mean: number | null;
  step_s_max: number | null;
  readiness_probes: number;
  /** Failed readiness probes on pods that were Ready and not terminating (must be 0). */
  probe_failures_on_serving_pods: number;
  /** Ready pods that left their Service without being deleted (must be 0). */
  pods_left_service: number;
  /** New pods whose startup probe ran out of attempts (the kubelet would restart them). */
  startup_exhausted: number;
  /** Pods SIGKILLed at the grace period. */
  pods_killed: number;
  /** Dead verdicts by anyone about anyone during the operation (must be 0). */
  false_dead: number;
  suspect_events: number;
  route_rounds: number;
  keys_checked: number;
  /** Keys answered with no owner, an owner not seen serving, or one that is not a running pod before its SIGTERM (must be 0). */
  keys_without_serving_owner: number;
  keys_to_leaving_owner: number;
  shard_moves: number;
  shard_moves_ideal: number;
  shard_moves_unattributed_max: number;
  changes_unseen: number;
  one_view_after_join_s: number | null;
  one_view_after_join_s_max: number | null;
  one_view_after_leave_s: number | null;
  one_view_after_leave_s_max: number | null;
  /** Changes after which no agreed view was seen before the end of the run. */
  one_view_missing: number;
  /** Created pods whose first join attempt resolved no seed address (must be 0: the Service lists the running pods). */
  joins_without_seeds: number;
  /** Up to 20 examples of what failed an assertion, for diagnosis. */
  failures: string[];
}

export class FleetRun {
  readonly kubelet: SimKubelet;
  private observer: FleetObserver | null = null;
  private controller: FleetController | null = null;
  private initial: string[] = [];
  /** How many addresses each member's first join attempt during the operation resolved. */
  private readonly firstJoinSeeds = new Map<SimMember, number>();
  private startedAt = 0;
  doneAt: number | null = null;

  constructor(
    private readonly sim: Simulator,
    readonly operation: FleetOperation,
    template: PodTemplate = POD_TEMPLATE,
  ) {
    this.kubelet = new SimKubelet(sim, template);
  }

  /**
   * The headless Service's addresses once the operation has started (the cold start joins through the
   * seeds). Known from before the controller's first step: a drain creates its replacements in it.
   */
  serviceAddresses(): readonly string[] | null {
    return this.observer === null ? null : this.kubelet.serviceAddresses();
  }

  onEvent(node: SimNode, event: MembershipEvent): void {
    this.observer?.onEvent(event, node.name, this.sim.now);
  }

  onSeedsResolved(member: SimMember, purpose: 'join' | 'watch', addresses: readonly string[]): void {
    if (this.observer !== null && purpose === 'join' && !this.firstJoinSeeds.has(member)) this.firstJoinSeeds.set(member, addresses.length);
  }

  onTableServed(member: SimMember, version: string, owners: readonly string[]): void {
    this.observer?.onTableServed(member, version, owners);
  }

  /** Adopts the running members (Ready since they started) as the pods, `order` deciding a drain's victims. */
  start(nodes: readonly SimNode[], order: readonly SimNode[]): void {
    const sim = this.sim;
    this.startedAt = sim.now;
    const observer = new FleetObserver(this.kubelet, sim.now);
    this.observer = observer;
    const pods = nodes.filter((n) => n.live).map((n) => this.kubelet.adopt(n, 0, sim.now));
    // The tables served before the operation: where each pod's first move is counted from.
    for (const p of pods) {
      const version = p.member.wholeMember.tableVersion;
      if (version !== null && p.member.servedOwners !== null) observer.onTableServed(p.member, version, p.member.servedOwners);
    }
    this.initial = pods.map((p) => p.name);
    const byNode = new Map(pods.map((p) => [p.node, p]));
    const pick = (n: number) => order.map((node) => byNode.get(node)).filter((p) => p !== undefined).slice(0, n);
    const routes = (): void => {
      observer.routeRound(sim.now);
      if (!this.finished()) sim.after(ROUTE_ROUND_MS, routes);
    };
    const views = (): void => {
      observer.viewSample(sim.now);
      if (!this.finished()) sim.after(VIEW_SAMPLE_MS, views);
    };
    this.controller = startController(this.kubelet, this.operation, pods, pick);
    sim.after(ROUTE_ROUND_MS, routes);
    sim.after(VIEW_SAMPLE_MS, views);
  }

  /** The operation is done: every old pod has exited, every new one is available. */
  get done(): boolean {
    if (this.controller?.done === true && this.doneAt === null) this.doneAt = this.sim.now;
    return this.doneAt !== null;
  }

  /** Sampling ends FLEET_TAIL_MS after the operation is done. */
  private finished(): boolean {
    return this.done && this.doneAt !== null && this.sim.now >= this.doneAt + FLEET_TAIL_MS;
  }

  /** How many created pods got a name, and an address, that no pod before them had. */
  private novelty(): { new_names: number; new_addresses: number } {
    const names = new Set<string>();
    const addresses = new Set<string>();
    let newNames = 0;
    let newAddresses = 0;
    this.kubelet.pods.forEach((p, i) => {
      if (i >= this.initial.length) {
        if (!names.has(p.name)) newNames++;
        if (!addresses.has(p.address)) newAddresses++;
      }
      names.add(p.name);
      addresses.add(p.address);
    });
    return { new_names: newNames, new_addresses: newAddresses };
  }

  report(): FleetReport {
    const observer = this.observer;
    const controller = this.controller;
    if (observer === null || controller === null) throw new Error('the fleet operation never started');
    const s = (ms: number | null): number | null => (ms === null ? null : round(ms / 1000, 3));
    const pods = this.kubelet.pods;
    const created = this.kubelet.changes.filter((c) => c.kind === 'join').length;
    const moves = observer.shardMoves(this.initial);
    const joins = observer.oneViewAfter('join');
    const leaves = observer.oneViewAfter('leave');
    const servingFailures = pods.flatMap((p) => p.servingFailures);
    const left = pods.flatMap((p) => p.leftService.map((at) => `${p.name} left its Service at ${at} ms`));
    const steps = controller.stepsMs;
    const unseeded = pods.slice(this.initial.length).filter((p) => (this.firstJoinSeeds.get(p.member) ?? 0) === 0);
    return {
      operation: this.operation.kind,
      pods_replaced: controller.replaced,
      pods_created: created,
      ...this.novelty(),
      started_at_s: s(this.startedAt) ?? 0,
      done_at_s: s(this.doneAt),
      step_s_mean: steps.length === 0 ? null : s(steps.reduce((a, b) => a + b, 0) / steps.length),
      step_s_max: s(max(steps)),
      readiness_probes: pods.reduce((a, p) => a + p.readinessProbes, 0),
      probe_failures_on_serving_pods: servingFailures.length,
      pods_left_service: left.length,
      startup_exhausted: pods.filter((p) => p.startupExhausted).length,
      pods_killed: pods.filter((p) => p.killed).length,
      false_dead: observer.deaths.length,
      suspect_events: observer.suspectEvents,
      route_rounds: observer.routeRounds,
      keys_checked: observer.keysChecked,
      keys_without_serving_owner: observer.violationCount,
      keys_to_leaving_owner: observer.toLeavingOwner,
      shard_moves: moves.observed,
      shard_moves_ideal: moves.ideal,
      shard_moves_unattributed_max: moves.unattributedMax,
      changes_unseen: moves.unseen,
      one_view_after_join_s: s(joins.median),
      one_view_after_join_s_max: s(joins.max),
      one_view_after_leave_s: s(leaves.median),
      one_view_after_leave_s_max: s(leaves.max),
      one_view_missing: joins.missing + leaves.missing,
      joins_without_seeds: unseeded.length,
      failures: [...servingFailures, ...left, ...unseeded.map((p) => `${p.name} resolved no seed on its first join attempt`), ...observer.deaths, ...observer.violations].slice(0, 20),
    };
  }
}
