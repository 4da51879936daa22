// One simulated process slot (a name and its successive lives) and what the simulator counts about it.
import type { MemberMeta, Random } from '../core/types.js';
import type { SimCore } from './core-port.js';
import type { SimEvent } from './events.js';

export interface AddNodeOptions {
  /** Defaults to member-<id>. A name already in use makes a second process claiming it. */
  name?: string;
  meta?: MemberMeta;
  /** Its process start-up has already run (a replay of real starts): the CPU model charges none. @default false */
  startedUp?: boolean;
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
  /** @internal the host CPU model holds the node's loop (it has work pending) */
  cpuHeld = false;
  /** @internal seeds to join through once the node runs (asked while its loop was held) */
  pendingJoin: readonly SimNode[] | null = null;

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

/** Which node listens on which address: fresh hosts are handed out in order, 10.0.0.1 onwards. */
export class AddressBook {
  private readonly byGossip = new Map<string, number>();
  private readonly byGrpc = new Map<string, number>();
  private hosts = 0;

  gossipNode(addr: string): number | undefined {
    return this.byGossip.get(addr);
  }

  grpcNode(addr: string): number | undefined {
    return this.byGrpc.get(addr);
  }

  /** Moves `node` to a new host (its app address too when asked) and listens there. */
  assign(node: SimNode, setAppAddr: boolean): void {
    this.byGossip.delete(node.gossipAddr);
    this.byGrpc.delete(node.grpcAddr);
    const index = ++this.hosts;
    const host = `10.${(index >>> 16) & 255}.${(index >>> 8) & 255}.${index & 255}`;
    node.gossipAddr = `${host}:${GOSSIP_PORT}`;
    node.grpcAddr = `${host}:${GRPC_PORT}`;
    if (setAppAddr) node.meta = { ...node.meta, appAddr: `${host}:${APP_PORT}` };
    this.listen(node);
  }

  /** `node` listens on its addresses (again, after a restart in place). */
  listen(node: SimNode): void {
    this.byGossip.set(node.gossipAddr, node.id);
    this.byGrpc.set(node.grpcAddr, node.id);
  }

  /** Nothing listens on `node`'s addresses any more (unless another node took them since). */
  close(node: SimNode): void {
    if (this.byGossip.get(node.gossipAddr) === node.id) this.byGossip.delete(node.gossipAddr);
    if (this.byGrpc.get(node.grpcAddr) === node.id) this.byGrpc.delete(node.grpcAddr);
  }
}

/** Sum of the nodes' traffic counters. */
export function sumTraffic(nodes: readonly Traffic[]): Traffic {
  const t: Traffic = { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, rpcsSent: 0, rpcBytesSent: 0 };
  for (const n of nodes) {
    t.packetsSent += n.packetsSent;
    t.bytesSent += n.bytesSent;
    t.packetsReceived += n.packetsReceived;
    t.bytesReceived += n.bytesReceived;
    t.rpcsSent += n.rpcsSent;
    t.rpcBytesSent += n.rpcBytesSent;
  }
  return t;
}

/** 8 hex digits drawn from `random` (life ids). */
export function hex32(random: Random): string {
  return random.int(4294967296).toString(16).padStart(8, '0');
}
