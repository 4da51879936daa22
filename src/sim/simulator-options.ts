// What a Simulator is built from (src/sim/simulator.ts).
import type { SwimConfig } from '../core/config.js';
import type { MembershipEvent } from '../core/types.js';
import type { CoreFactory } from './core-port.js';
import type { HostCpu } from './cpu.js';
import type { SimAntiEntropy } from './digest.js';
import type { NetworkOptions } from './network.js';
import type { SimNode } from './sim-node.js';

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
  /**
   * The host's CPU (src/sim/cpu.ts): members pay for starting and for every input on shared cores, and
   * handle nothing while their work is pending. Give member cores the same object (MemberModel.cpu) for
   * their table builds. Not for runs that also pause members. @default CPU is free
   */
  cpu?: HostCpu;
}
