// The deterministic simulator: a virtual clock and a virtual network driving many SWIM cores in one
// process. Everything that happens is an event in one min-heap ordered by (time, sequence), so a seed
// replays byte for byte. Faults: loss, partitions, pauses (SIGSTOP-like), crashes, restarts, leaves.
import { wireMeasure } from '../codec/index.js';
import type { SwimConfig } from '../core/config.js';
import { SharedMemberIndex } from '../core/member-index.js';
import { seededRandom } from '../core/random.js';
import type { Address, Effect, Packet } from '../core/types.js';
import { packetBytes } from './bytes.js';
import { ControlPlane } from './control-plane.js';
import type { CoreFactory, SimCore } from './core-port.js';
import { EventKind, SimEvent, type EventPusher } from './events.js';
import { MinHeap } from '../core/min-heap.js';
import { NetworkModel } from './network.js';
import { Observer } from './observer.js';
import type { SimulatorOptions } from './simulator-options.js';
import type { HostCpu } from './cpu.js';
import { NETWORK_STREAM, NODE_STREAM_BASE, deriveSeed } from './seeds.js';
import { AddressBook, hex32, SimNode, sumTraffic, type AddNodeOptions, type Drops, type RestartOptions, type Traffic } from './sim-node.js';

export { SimNode, GOSSIP_PORT, GRPC_PORT, APP_PORT } from './sim-node.js';
export type { AddNodeOptions, RestartOptions, Traffic, Drops } from './sim-node.js';
export type { SimulatorOptions } from './simulator-options.js';

export class Simulator {
  readonly config: SwimConfig;
  readonly network: NetworkModel;
  readonly observer: Observer;
  readonly nodes: SimNode[] = [];
  readonly drops: Drops = { partition: 0, loss: 0, unroutable: 0, buffer: 0 };
  /** Events dispatched so far (including stale wake-ups skipped). */
  eventsProcessed = 0;
  /** Times a core still reported a deadline at or before `now` right after tick(now) (a core bug). */
  overdueDeadlines = 0;

  private readonly seed: number;
  private readonly createCore: CoreFactory;
  private readonly socketBufferBytes: number;
  private readonly onEvent: SimulatorOptions['onEvent'];
  private readonly onPacketDelivered: SimulatorOptions['onPacketDelivered'];
  private readonly heap = new MinHeap<SimEvent>();
  private readonly addresses = new AddressBook();
  private readonly byName = new Map<string, SimNode>();
  private readonly controlPlane: ControlPlane;
  /** Member numbers shared by every core, so each name is interned once for the whole simulation. */
  private readonly memberIndex = new SharedMemberIndex();
  private readonly cpu: HostCpu | null;
  private clock = 0;
  private seq = 0;

  constructor(options: SimulatorOptions) {
    this.seed = options.seed >>> 0;
    this.config = options.config;
    this.createCore = options.createCore;
    this.socketBufferBytes = options.socketBufferBytes ?? 212_992;
    this.onEvent = options.onEvent;
    this.onPacketDelivered = options.onPacketDelivered;
    const netSeed = deriveSeed(this.seed, NETWORK_STREAM);
    this.network = new NetworkModel(seededRandom(netSeed), deriveSeed(this.seed, NETWORK_STREAM, 1), options.network);
    this.observer = new Observer(options.capacity ?? 64);
    const addresses = this.addresses;
    this.controlPlane = new ControlPlane(
      {
        nodes: this.nodes,
        network: this.network,
        now: () => this.clock,
        grpcNode: (addr) => addresses.grpcNode(addr),
        push: this.push,
        apply: (node, effects) => this.apply(node, effects),
        reschedule: (node, afterTick) => this.reschedule(node, afterTick),
      },
      options.antiEntropy ?? 'digest',
      options.rpcTimeoutMs ?? 5000,
      this.memberIndex,
    );
    this.cpu = options.cpu ?? null;
    this.cpu?.attach({
      hold: (name) => this.holdLoop(this.byName.get(name)),
      release: (name) => this.releaseLoop(this.byName.get(name)),
      at: (time, fire) => this.at(time, () => fire(this.clock)),
    });
  }

  /** Virtual time, ms. */
  get now(): number {
    return this.clock;
  }

  /** Scheduled events not yet dispatched (including stale wake-ups). */
  get queued(): number {
    return this.heap.size;
  }

  node(name: string): SimNode {
    const node = this.byName.get(name);
    if (node === undefined) throw new Error(`no simulated node named ${name}`);
    return node;
  }

  // -------------------------------------------------------------------------------------------
  // Building and breaking the cluster
  // -------------------------------------------------------------------------------------------

  /** Creates a node and starts its first life (not joined: call join). */
  addNode(options: AddNodeOptions = {}): SimNode {
    const id = this.nodes.length;
    const name = options.name ?? `member-${id}`;
    const node = new SimNode(id, name, options.meta ?? { appAddr: '', serving: true, tags: {} });
    this.nodes.push(node);
    if (!this.byName.has(name)) this.byName.set(name, node);
    this.addresses.assign(node, options.meta === undefined);
    this.startLife(node, options.startedUp === true);
    return node;
  }

  /** Asks a node to join through the given seeds (their gRPC addresses). */
  join(node: SimNode, seeds: readonly SimNode[]): void {
    const core = node.runningCore;
    if (node.cpuHeld) {
      // A process joins once it has started: the join waits for its loop.
      node.pendingJoin = seeds;
      return;
    }
    this.apply(node, core.join(seeds.map((s) => s.grpcAddr), this.clock));
    this.cpu?.warmup(node.name, this.clock);
    this.reschedule(node, false);
  }

  /** Kills the process: its state is gone and packets to it are dropped. */
  crash(node: SimNode): void {
    if (node.core === null) return;
    this.halt(node);
    node.crashedAt = this.clock;
  }

  /** Starts a new life of a node under the same name (crashing the old one if still running). */
  restart(node: SimNode, options: RestartOptions = {}): void {
    if (node.core !== null) this.crash(node);
    if (options.newAddress === true) this.addresses.assign(node, true);
    else this.addresses.listen(node);
    node.departed = false;
    this.startLife(node);
    if (options.seeds !== undefined) this.join(node, options.seeds);
  }

  /** SIGSTOP for `ms`: the node processes nothing; UDP to it is buffered (bounded), RPCs wait. */
  pause(node: SimNode, ms: number): void {
    if (node.core === null) return;
    node.paused = true;
    node.pauseGen++;
    this.push(this.clock + ms, EventKind.Resume, node.id, node.pauseGen, '', '', null, null, false, null);
  }

  /** Graceful leave: the core announces it; the node keeps running until stop(). */
  leave(node: SimNode): void {
    const core = node.runningCore;
    node.departed = true;
    this.observer.nodeStopped(node.id, this.clock);
    this.apply(node, core.leave(this.clock));
    this.reschedule(node, false);
  }

  /** The process exits (after a leave, normally). */
  stop(node: SimNode): void {
    if (node.core !== null) this.halt(node);
  }

  /** Runs `action` at virtual time `time` (after everything already scheduled for that time). */
  at(time: number, action: () => void): void {
    this.push(Math.max(time, this.clock), EventKind.Action, -1, 0, '', '', null, null, false, action);
  }

  after(ms: number, action: () => void): void {
    this.at(this.clock + ms, action);
  }

  /**
   * Feeds a running node's core an input from outside the engine's own events (a claims call or its
   * answer, a claim the workload makes): carries out its effects and keeps its wake-up current.
   */
  input(node: SimNode, step: (core: SimCore, now: number) => readonly Effect[]): void {
    const core = node.core;
    if (core === null) return;
    this.apply(node, step(core, this.clock));
    this.reschedule(node, false);
  }

  // -------------------------------------------------------------------------------------------
  // Running
  // -------------------------------------------------------------------------------------------

  /**
   * Dispatches events up to and including virtual time `end`, then sets the clock to `end`. With
   * `stop`, checks it after every event and returns true as soon as it holds (clock at that event).
   */
  runUntil(end: number, stop?: () => boolean): boolean {
    const heap = this.heap;
    for (;;) {
      const top = heap.peek();
      if (top === undefined || top.time > end) break;
      heap.pop();
      this.clock = top.time;
      this.eventsProcessed++;
      this.dispatch(top);
      if (stop !== undefined && stop()) return true;
    }
    if (end > this.clock) this.clock = end;
    return false;
  }

  runFor(ms: number, stop?: () => boolean): boolean {
    return this.runUntil(this.clock + ms, stop);
  }

  /** A running process listens on this gRPC address (what a headless Service would list). */
  listensOn(grpcAddr: string): boolean {
    return this.nodes[this.addresses.grpcNode(grpcAddr) ?? -1]?.running === true;
  }

  /** Sum of every node's traffic counters. */
  traffic(): Traffic {
    return sumTraffic(this.nodes);
  }

  liveNodes(): SimNode[] {
    return this.nodes.filter((n) => n.live);
  }

  // -------------------------------------------------------------------------------------------

  private startLife(node: SimNode, startedUp = false): void {
    node.life++;
    const idRandom = seededRandom(deriveSeed(this.seed, NODE_STREAM_BASE + node.id, node.life * 2));
    node.lifeId = hex32(idRandom) + hex32(idRandom);
    node.crashedAt = Number.NaN;
    node.core = this.createCore({
      memberIndex: this.memberIndex,
      name: node.name,
      lifeId: node.lifeId,
      incarnation: Math.floor(this.clock),
      gossipAddr: node.gossipAddr,
      grpcAddr: node.grpcAddr,
      meta: node.meta,
      config: this.config,
      random: seededRandom(deriveSeed(this.seed, NODE_STREAM_BASE + node.id, node.life * 2 + 1)),
      now: this.clock,
      measure: wireMeasure,
    });
    this.observer.nodeStarted(node.id, node.name, node.lifeId);
    if (!startedUp) this.cpu?.start(node.name, this.clock);
    this.reschedule(node, false);
  }

  /** Takes a node's process down: no core, no address, nothing pending. */
  private halt(node: SimNode): void {
    node.core = null;
    node.paused = false;
    node.pauseGen++;
    node.wakeGen++;
    node.wakeAt = Number.POSITIVE_INFINITY;
    node.backlog.length = 0;
    node.backlogBytes = 0;
    node.cpuHeld = false;
    node.pendingJoin = null;
    this.addresses.close(node);
    this.observer.nodeStopped(node.id, this.clock);
  }

  private readonly push: EventPusher = (time, kind, node, num, addr, fromAddr, packet, records, flag, action) => {
    this.heap.push(new SimEvent(time, this.seq++, kind, node, num, addr, fromAddr, packet, records, flag, action));
  };

  /** Keeps exactly one live wake-up per node, at its core's next deadline. */
  private reschedule(node: SimNode, afterTick: boolean): void {
    const core = node.core;
    if (core === null || node.paused) return;
    let due = core.nextDeadline();
    if (!(due < Number.POSITIVE_INFINITY)) {
      if (node.wakeAt !== Number.POSITIVE_INFINITY) {
        node.wakeGen++;
        node.wakeAt = Number.POSITIVE_INFINITY;
      }
      return;
    }
    if (due <= this.clock) {
      if (afterTick) {
        // tick(now) should have run everything due by now; step past it rather than spin.
        this.overdueDeadlines++;
        due = this.clock + 1;
      } else due = this.clock;
    }
    if (due === node.wakeAt) return;
    node.wakeGen++;
    node.wakeAt = due;
    this.push(due, EventKind.Wake, node.id, node.wakeGen, '', '', null, null, false, null);
  }

  private dispatch(ev: SimEvent): void {
    switch (ev.kind) {
      case EventKind.Wake:
        this.onWake(ev);
        return;
      case EventKind.Packet:
        this.onPacket(ev);
        return;
      case EventKind.Resume:
        this.onResume(ev);
        return;
      case EventKind.Action:
        ev.action?.();
        return;
      default: {
        // Under the CPU model, a control-plane event costs the node that handled it an input, as a packet does.
        const handled = this.controlPlane.dispatch(ev);
        if (handled !== null) this.cpu?.input(handled.name, this.clock);
      }
    }
  }

  private onWake(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    if (node === undefined || ev.num !== node.wakeGen) return;
    node.wakeAt = Number.POSITIVE_INFINITY;
    const core = node.core;
    if (core === null || node.paused) return;
    this.apply(node, core.tick(this.clock));
    this.cpu?.input(node.name, this.clock);
    this.reschedule(node, true);
  }

  private onPacket(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    const core = node?.core ?? null;
    if (node === undefined || core === null || node.gossipAddr !== ev.addr || ev.packet === null) {
      this.drops.unroutable++;
      return;
    }
    if (node.paused) {
      if (node.backlogBytes + ev.num > this.socketBufferBytes) {
        this.drops.buffer++;
        return;
      }
      node.backlogBytes += ev.num;
      node.backlog.push(ev);
      return;
    }
    node.packetsReceived++;
    node.bytesReceived += ev.num;
    this.onPacketDelivered?.(node, ev.fromAddr, this.clock);
    this.apply(node, core.receive(ev.fromAddr, ev.packet, this.clock));
    this.cpu?.input(node.name, this.clock);
    this.reschedule(node, false);
  }

  private onResume(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    if (node === undefined || node.core === null || !node.paused || ev.num !== node.pauseGen) return;
    node.paused = false;
    // Like a process after SIGCONT: overdue timers fire first, then the buffered input is read.
    this.apply(node, node.core.tick(this.clock));
    const seeds = node.pendingJoin;
    node.pendingJoin = null;
    if (seeds !== null) this.join(node, seeds);
    const backlog = node.backlog.splice(0);
    node.backlogBytes = 0;
    for (const queued of backlog) this.dispatch(queued);
    this.reschedule(node, false);
  }

  /** The CPU model: the node's loop is busy (its input waits, as in a pause, until released). */
  private holdLoop(node: SimNode | undefined): void {
    if (node === undefined || node.core === null || node.cpuHeld) return;
    node.cpuHeld = true;
    if (node.paused) return;
    node.paused = true;
    node.pauseGen++;
  }

  private releaseLoop(node: SimNode | undefined): void {
    if (node === undefined || !node.cpuHeld) return;
    node.cpuHeld = false;
    this.push(this.clock, EventKind.Resume, node.id, node.pauseGen, '', '', null, null, false, null);
  }

  private apply(node: SimNode, effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.send(node, effect.to, effect.packet);
          break;
        case 'negotiate':
          this.controlPlane.negotiate(node, effect.to, effect.requestId, effect.state, effect.join);
          break;
        case 'closing':
          this.controlPlane.closing(node, effect.to, effect.name, effect.incarnation);
          break;
        case 'event':
          this.observer.onEvent(node.id, effect.event, this.clock);
          this.onEvent?.(node, effect.event, this.clock);
          break;
      }
    }
  }

  private send(node: SimNode, to: Address, packet: Packet): void {
    const bytes = packetBytes(packet);
    node.packetsSent++;
    node.bytesSent += bytes;
    const dst = this.addresses.gossipNode(to);
    if (dst === undefined) {
      this.drops.unroutable++;
      return;
    }
    const dropped = this.network.dropPacket(node.id, dst);
    if (dropped !== null) {
      this.drops[dropped]++;
      return;
    }
    this.push(this.clock + this.network.delay(node.id, dst), EventKind.Packet, dst, bytes, to, node.gossipAddr, packet, null, false, null);
  }

}
