// The deterministic simulator: a virtual clock and a virtual network driving many SWIM cores in one
// process. Everything that happens is an event in one min-heap ordered by (time, sequence), so a seed
// replays byte for byte. Faults: loss, partitions, pauses (SIGSTOP-like), crashes, restarts, leaves.
import { wireMeasure } from '../codec/index.js';
import type { SwimConfig } from '../core/config.js';
import { SharedMemberIndex } from '../core/member-index.js';
import { seededRandom } from '../core/random.js';
import type { Address, Effect, MemberMeta, MemberRecord, MembershipEvent, Packet, Random } from '../core/types.js';
import { packetBytes, recordsBytes } from './bytes.js';
import type { CoreFactory, SimCore } from './core-port.js';
import { DigestRounds, type SimAntiEntropy } from './digest.js';
import { EventKind, SimEvent } from './events.js';
import { MinHeap } from '../core/min-heap.js';
import { NetworkModel, type NetworkOptions } from './network.js';
import { Observer } from './observer.js';
import { NETWORK_STREAM, NODE_STREAM_BASE, deriveSeed } from './seeds.js';

export interface SimulatorOptions {
  seed: number;
  config: SwimConfig;
  /** Builds one core life (normally `new SwimCore(options)`). */
  createCore: CoreFactory;
  network?: Partial<NetworkOptions>;
  /** A Negotiate that gets no reply within this long fails (onNegotiateFailed). @default 5000 */
  rpcTimeoutMs?: number;
  /** Bytes of UDP a paused node's socket buffers before dropping (Linux rmem_default). @default 212992 */
  socketBufferBytes?: number;
  /** Expected node count; tables grow past it, at a cost. */
  capacity?: number;
  /** Called for every membership event any running core emits (after the observer has seen it). */
  onEvent?: (node: SimNode, event: MembershipEvent, now: number) => void;
  /** Called for every UDP packet handed to a running core: `to` heard from the node at `fromAddr`. */
  onPacketDelivered?: (to: SimNode, fromAddr: string, now: number) => void;
  /** The periodic exchange, as the agent's --anti-entropy (join is always Negotiate). @default 'digest' */
  antiEntropy?: SimAntiEntropy;
}

export interface AddNodeOptions {
  /** Defaults to member-<id>. A name already in use makes a second process claiming it. */
  name?: string;
  meta?: MemberMeta;
}

export interface RestartOptions {
  /** Come back on a fresh address (a rescheduled pod). @default false */
  newAddress?: boolean;
  /** Seeds to join through; none = do not join. */
  seeds?: readonly SimNode[];
}

export interface Traffic {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  rpcsSent: number;
  rpcBytesSent: number;
}

export interface Drops {
  partition: number;
  loss: number;
  /** No process listens on the address (crashed, or moved). */
  unroutable: number;
  /** A paused node's socket buffer was full. */
  buffer: number;
}

export const GOSSIP_PORT = 7946;
export const GRPC_PORT = 7947;
export const APP_PORT = 8080;

/** One simulated process slot: a name and its successive lives. Traffic counters span lives. */
export class SimNode implements Traffic {
  core: SimCore | null = null;
  /** Lives started so far; the current life's number. */
  life = 0;
  lifeId = '';
  gossipAddr = '';
  grpcAddr = '';
  meta: MemberMeta;
  paused = false;
  /** Has left the cluster gracefully (its core may still run until stopped). */
  departed = false;
  crashedAt = Number.NaN;
  /** @internal events that reached this node while paused, delivered on resume. */
  readonly backlog: SimEvent[] = [];
  /** @internal */
  backlogBytes = 0;
  /** @internal */
  pauseGen = 0;
  /** @internal */
  wakeAt = Number.POSITIVE_INFINITY;
  /** @internal */
  wakeGen = 0;

  packetsSent = 0;
  bytesSent = 0;
  packetsReceived = 0;
  bytesReceived = 0;
  rpcsSent = 0;
  rpcBytesSent = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    meta: MemberMeta,
  ) {
    this.meta = meta;
  }

  get running(): boolean {
    return this.core !== null;
  }

  /** Running and not left: a member the cluster should see alive. */
  get live(): boolean {
    return this.core !== null && !this.departed;
  }

  /** The running core; throws when the node is down. */
  get runningCore(): SimCore {
    if (this.core === null) throw new Error(`${this.name} is not running`);
    return this.core;
  }
}

interface PendingRpc {
  readonly node: number;
  readonly life: number;
  readonly requestId: number;
}

function hostOf(index: number): string {
  return `10.${(index >>> 16) & 255}.${(index >>> 8) & 255}.${index & 255}`;
}

function hex32(random: Random): string {
  return random.int(4294967296).toString(16).padStart(8, '0');
}

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
  private readonly rpcTimeoutMs: number;
  private readonly socketBufferBytes: number;
  private readonly onEvent: SimulatorOptions['onEvent'];
  private readonly onPacketDelivered: SimulatorOptions['onPacketDelivered'];
  private readonly heap = new MinHeap<SimEvent>();
  private readonly byGossip = new Map<Address, number>();
  private readonly byGrpc = new Map<Address, number>();
  private readonly byName = new Map<string, SimNode>();
  private readonly rpcs = new Map<number, PendingRpc>();
  private readonly antiEntropy: SimAntiEntropy;
  /** Member numbers shared by every core, so each name is interned once for the whole simulation. */
  private readonly memberIndex = new SharedMemberIndex();
  private readonly digestRounds = new DigestRounds();
  private clock = 0;
  private seq = 0;
  private rpcSeq = 0;
  private hosts = 0;

  constructor(options: SimulatorOptions) {
    this.seed = options.seed >>> 0;
    this.config = options.config;
    this.createCore = options.createCore;
    this.rpcTimeoutMs = options.rpcTimeoutMs ?? 5000;
    this.socketBufferBytes = options.socketBufferBytes ?? 212_992;
    this.onEvent = options.onEvent;
    this.onPacketDelivered = options.onPacketDelivered;
    this.antiEntropy = options.antiEntropy ?? 'digest';
    const netSeed = deriveSeed(this.seed, NETWORK_STREAM);
    this.network = new NetworkModel(seededRandom(netSeed), deriveSeed(this.seed, NETWORK_STREAM, 1), options.network);
    this.observer = new Observer(options.capacity ?? 64);
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
    this.assignAddress(node, options.meta === undefined);
    this.startLife(node);
    return node;
  }

  /** Asks a node to join through the given seeds (their gRPC addresses). */
  join(node: SimNode, seeds: readonly SimNode[]): void {
    const core = node.runningCore;
    this.apply(node, core.join(seeds.map((s) => s.grpcAddr), this.clock));
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
    if (options.newAddress === true) this.assignAddress(node, true);
    else {
      this.byGossip.set(node.gossipAddr, node.id);
      this.byGrpc.set(node.grpcAddr, node.id);
    }
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

  /** Sum of every node's traffic counters. */
  traffic(): Traffic {
    const t: Traffic = { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, rpcsSent: 0, rpcBytesSent: 0 };
    for (const n of this.nodes) {
      t.packetsSent += n.packetsSent;
      t.bytesSent += n.bytesSent;
      t.packetsReceived += n.packetsReceived;
      t.bytesReceived += n.bytesReceived;
      t.rpcsSent += n.rpcsSent;
      t.rpcBytesSent += n.rpcBytesSent;
    }
    return t;
  }

  liveNodes(): SimNode[] {
    return this.nodes.filter((n) => n.live);
  }

  // -------------------------------------------------------------------------------------------

  private assignAddress(node: SimNode, setAppAddr: boolean): void {
    this.byGossip.delete(node.gossipAddr);
    this.byGrpc.delete(node.grpcAddr);
    const host = hostOf(++this.hosts);
    node.gossipAddr = `${host}:${GOSSIP_PORT}`;
    node.grpcAddr = `${host}:${GRPC_PORT}`;
    if (setAppAddr) node.meta = { ...node.meta, appAddr: `${host}:${APP_PORT}` };
    this.byGossip.set(node.gossipAddr, node.id);
    this.byGrpc.set(node.grpcAddr, node.id);
  }

  private startLife(node: SimNode): void {
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
    if (this.byGossip.get(node.gossipAddr) === node.id) this.byGossip.delete(node.gossipAddr);
    if (this.byGrpc.get(node.grpcAddr) === node.id) this.byGrpc.delete(node.grpcAddr);
    this.observer.nodeStopped(node.id, this.clock);
  }

  private push(
    time: number,
    kind: EventKind,
    node: number,
    num: number,
    addr: string,
    fromAddr: string,
    packet: Packet | null,
    records: readonly MemberRecord[] | null,
    flag: boolean,
    action: (() => void) | null,
  ): void {
    this.heap.push(new SimEvent(time, this.seq++, kind, node, num, addr, fromAddr, packet, records, flag, action));
  }

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
      case EventKind.NegotiateRequest:
        this.onNegotiateRequest(ev);
        return;
      case EventKind.DigestRequest:
        this.onDigestRequest(ev);
        return;
      case EventKind.NegotiateReply:
      case EventKind.NegotiateTimeout:
        this.onNegotiateOutcome(ev);
        return;
      case EventKind.Closing:
        this.onClosing(ev);
        return;
      case EventKind.Resume:
        this.onResume(ev);
        return;
      case EventKind.Action:
        ev.action?.();
        return;
    }
  }

  private onWake(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    if (node === undefined || ev.num !== node.wakeGen) return;
    node.wakeAt = Number.POSITIVE_INFINITY;
    const core = node.core;
    if (core === null || node.paused) return;
    this.apply(node, core.tick(this.clock));
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
    this.reschedule(node, false);
  }

  private onNegotiateRequest(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    const core = node?.core ?? null;
    if (node === undefined || core === null || node.grpcAddr !== ev.addr) return; // the caller times out
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    const { reply, effects } = core.onNegotiate(ev.records ?? [], ev.flag, this.clock);
    this.apply(node, effects);
    this.reschedule(node, false);
    const pending = this.rpcs.get(ev.num);
    if (pending === undefined) return; // the caller gave up already
    node.rpcsSent++;
    node.rpcBytesSent += recordsBytes(reply);
    if (!this.network.rpcPossible(node.id, pending.node)) return;
    this.push(
      this.clock + this.network.delay(node.id, pending.node),
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
  private onDigestRequest(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    if (node === undefined || node.core === null || node.grpcAddr !== ev.addr) return; // the caller times out
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    const pending = this.rpcs.get(ev.num);
    const caller = pending === undefined ? undefined : this.nodes[pending.node];
    if (pending === undefined || caller === undefined || caller.core === null || caller.life !== pending.life) return;
    const core = node.core;
    const stateOf = (c: SimCore): MemberRecord[] => c.fullState?.() ?? c.members();
    // A peer's pushed entries merge like a Negotiate request's records, as the agent merges them.
    const round = this.digestRounds.round(stateOf(caller.core), caller.name, stateOf(core), (records) => {
      if (node.core === core) this.apply(node, core.onNegotiate(records, false, this.clock).effects);
    });
    this.reschedule(node, false);
    caller.rpcsSent += round.calls - 1;
    caller.rpcBytesSent += round.bytes;
    if (!this.network.rpcPossible(node.id, caller.id)) return;
    const oneWay = this.network.delay(node.id, caller.id);
    this.push(this.clock + oneWay * (2 * round.calls - 1), EventKind.NegotiateReply, caller.id, ev.num, '', '', null, round.reply, false, null);
  }

  /** A reply or the deadline, whichever reaches the caller first, settles the RPC. */
  private onNegotiateOutcome(ev: SimEvent): void {
    const pending = this.rpcs.get(ev.num);
    if (pending === undefined) return;
    const node = this.nodes[pending.node];
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
        ? core.onNegotiateReply(pending.requestId, ev.records ?? [], this.clock)
        : core.onNegotiateFailed(pending.requestId, this.clock);
    this.apply(node, effects);
    this.reschedule(node, false);
  }

  private onClosing(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    const core = node?.core ?? null;
    if (node === undefined || core === null || node.grpcAddr !== ev.addr) return;
    if (node.paused) {
      node.backlog.push(ev);
      return;
    }
    this.apply(node, core.onClosing(ev.fromAddr, ev.num, this.clock));
    this.reschedule(node, false);
  }

  private onResume(ev: SimEvent): void {
    const node = this.nodes[ev.node];
    if (node === undefined || node.core === null || !node.paused || ev.num !== node.pauseGen) return;
    node.paused = false;
    // Like a process after SIGCONT: overdue timers fire first, then the buffered input is read.
    this.apply(node, node.core.tick(this.clock));
    const backlog = node.backlog.splice(0);
    node.backlogBytes = 0;
    for (const queued of backlog) this.dispatch(queued);
    this.reschedule(node, false);
  }

  private apply(node: SimNode, effects: readonly Effect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.send(node, effect.to, effect.packet);
          break;
        case 'negotiate':
          this.negotiate(node, effect.to, effect.requestId, effect.state, effect.join);
          break;
        case 'closing':
          this.closing(node, effect.to, effect.name, effect.incarnation);
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
    const dst = this.byGossip.get(to);
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

  private negotiate(node: SimNode, to: Address, requestId: number, state: readonly MemberRecord[], join: boolean): void {
    const token = ++this.rpcSeq;
    this.rpcs.set(token, { node: node.id, life: node.life, requestId });
    node.rpcsSent++;
    // The agent runs the periodic exchange as a digest round when the core can give its full state.
    const digest = !join && this.antiEntropy === 'digest' && node.core?.fullState !== undefined;
    if (!digest) node.rpcBytesSent += recordsBytes(state);
    this.push(this.clock + this.rpcTimeoutMs, EventKind.NegotiateTimeout, node.id, token, '', '', null, null, false, null);
    const dst = this.byGrpc.get(to);
    if (dst === undefined || !this.network.rpcPossible(node.id, dst)) return;
    const kind = digest ? EventKind.DigestRequest : EventKind.NegotiateRequest;
    this.push(this.clock + this.network.delay(node.id, dst), kind, dst, token, to, '', null, digest ? null : state, join, null);
  }

  private closing(node: SimNode, to: Address, name: string, incarnation: number): void {
    node.rpcsSent++;
    node.rpcBytesSent += name.length + 12;
    const dst = this.byGrpc.get(to);
    if (dst === undefined || !this.network.rpcPossible(node.id, dst)) return;
    this.push(this.clock + this.network.delay(node.id, dst), EventKind.Closing, dst, incarnation, to, name, null, null, false, null);
  }
}
